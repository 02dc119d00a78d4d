// The live-process readers (src/kernel/process.ts) against real child processes this test starts
// and ends by pid: no root, no CRIU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  innermostPid,
  isCryoInit,
  listTree,
  ownNetns,
  readCmdline,
  readProcess,
  resolveDumpTarget,
  signalTree,
  treeMemoryBytes,
  waitUntilGone,
} from '../../src/kernel/process.js';

/** A shell with two sleeping children; resolves once both children exist. */
async function startTree(): Promise<{ sh: ChildProcess; kids: number[] }> {
  const sh = spawn('sh', ['-c', 'sleep 60 & sleep 60 & wait'], { stdio: 'ignore' });
  for (let i = 0; i < 500; i++) {
    const kids = listTree(sh.pid!).slice(1);
    if (kids.length === 2 && kids.every((k) => readProcess(k)?.comm === 'sleep')) return { sh, kids };
    await new Promise((r) => setTimeout(r, 10));
  }
  sh.kill('SIGKILL');
  throw new Error('the test tree did not start');
}

/** A pid that no process holds (the highest pid_max allows is never in use here). */
function freePid(): number {
  for (let p = 4194303; ; p--) if (readProcess(p) === undefined) return p;
}

test('readProcess: this process, its parent, uid, threads, rss; undefined for a free pid', () => {
  const me = readProcess(process.pid)!;
  assert.equal(me.pid, process.pid);
  assert.equal(me.ppid, process.ppid);
  assert.equal(me.comm, 'node');
  assert.ok(['R', 'S'].includes(me.state));
  assert.equal(me.nspid.at(-1), innermostPid(process.pid));
  assert.equal(me.uid, process.getuid!());
  assert.ok((me.threads ?? 0) >= 1);
  assert.ok((me.rssBytes ?? 0) > 1 << 20);
  assert.equal(readProcess(freePid()), undefined);
  assert.equal(readCmdline(freePid()), undefined);
  assert.deepEqual(readCmdline(process.pid), [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
});

test('listTree, signalTree, waitUntilGone over a live tree', async (t) => {
  const { sh, kids } = await startTree();
  t.after(() => signalTree([sh.pid!, ...kids], 'SIGKILL'));
  const tree = listTree(sh.pid!);
  assert.equal(tree[0], sh.pid);
  assert.deepEqual([...tree.slice(1)].sort(), [...kids].sort());
  assert.ok(listTree(process.pid).includes(sh.pid!));
  assert.ok(treeMemoryBytes(sh.pid!) >= (readProcess(kids[0])!.rssBytes ?? 0));
  assert.deepEqual(listTree(freePid()), []);
  // not a cryo tree: the user's pid is the root
  assert.equal(isCryoInit(sh.pid!), false);
  assert.deepEqual(resolveDumpTarget(kids[0]), { pid: kids[0], rootPid: kids[0], pidns: false });
  assert.equal(ownNetns(sh.pid!), false);
  // a stopped tree is still live: the wait gives every pid back
  assert.deepEqual(signalTree(tree, 'SIGSTOP'), tree);
  assert.deepEqual(await waitUntilGone(tree, 30), tree);
  const gone = freePid();
  assert.deepEqual(signalTree([...kids, gone], 'SIGKILL'), kids);
  // the children are zombies until sh reaps them (it is stopped): gone as far as the wait cares
  assert.deepEqual(await waitUntilGone(tree, 5000), [sh.pid]);
  signalTree([sh.pid!], 'SIGKILL');
  assert.deepEqual(await waitUntilGone(tree, 5000), []);
});
