// `cryo run --own-proc`: a tree whose /proc is its own pid namespace's, so /proc/<getpid()> is itself,
// held against real CRIU: the program reads /proc/<its pid>/status before and after restores, in several
// dump/restore rounds, each restore made while the tree it was dumped from still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criuFor } from '../helpers/env.js';
import { alive, cli, killTree, Trees, waitFor } from '../helpers/trees.js';

const trees = new Trees();
test.after(() => trees.cleanup());

// every 100 ms: "<pid> <Pid: of /proc/<pid>/status> <Name:>", the last line only
const PROGRAM = `const fs = require('fs'); const out = process.argv[1];
setInterval(() => { let s = ''; try { s = fs.readFileSync('/proc/' + process.pid + '/status', 'utf8'); } catch {}
  const f = (k) => (new RegExp('^' + k + ':\\\\s*(\\\\S+)', 'm').exec(s) || [])[1];
  fs.writeFileSync(out, process.pid + ' ' + f('Pid') + ' ' + f('Name') + '\\n'); }, 100);`;

/** The next line the program writes, after clearing the file. */
async function nextReading(out: string): Promise<string[]> {
  writeFileSync(out, '');
  const line = await waitFor(() => readFileSync(out, 'utf8').trim() || undefined, 'a reading of /proc/<pid>/status');
  return line.split(' ');
}

test('--own-proc: /proc/<getpid()> is the process itself, before and after three restores', { timeout: 180_000 }, async (t) => {
  if (!criuFor(t)) return;
  const work = trees.dir('cryo-own-proc-');
  const out = join(work, 'reading');
  const r = await cli(['run', '--own-proc', '--json', '--', process.execPath, '-e', PROGRAM, out]);
  assert.equal(r.status, 0, r.stderr);
  let tree = JSON.parse(r.stdout) as { pid: number; rootPid: number };
  trees.track(tree.rootPid);
  const [pid, statusPid, name] = await nextReading(out);
  assert.equal(statusPid, pid, 'the status read is the process own');
  assert.equal(name, 'node');

  // without --own-proc the same program reads another process: the reason for the option
  const plainOut = join(work, 'plain');
  const plain = JSON.parse((await cli(['run', '--json', '--', process.execPath, '-e', PROGRAM, plainOut])).stdout) as { pid: number; rootPid: number };
  trees.track(plain.rootPid);
  const [, , plainName] = await nextReading(plainOut);
  assert.notEqual(plainName, 'node', 'the host /proc shows another process under the namespace pid');
  killTree(plain.rootPid);

  for (let round = 1; round <= 3; round++) {
    const dir = join(work, `ck${round}`);
    const d = await cli(['dump', String(tree.pid), '-D', dir, '-R'], { timeoutMs: 60_000 });
    assert.equal(d.status, 0, `round ${round}: ${d.stderr}`);
    assert.ok(alive(tree.pid), 'the dumped tree still runs');
    if (round === 1) {
      // CRIU 4.2.1 cannot restore the mount namespace without a root: cryo says so and names --root /
      // -W: the failed restore's log stays in the test's own dir
      const bare = await cli(['restore', '-D', dir, '-W', trees.dir('cryo-own-proc-work-')], { timeoutMs: 60_000 });
      assert.equal(bare.status, 1, bare.stderr);
      assert.match(bare.stderr, /mount namespace of its own.*\nhint: restore with --root \//s);
    }
    // the restore runs next to the tree it was dumped from: its own pid namespace, its own /proc
    const rs = await cli(['restore', '-D', dir, '--root', '/', '--json'], { timeoutMs: 60_000 });
    assert.equal(rs.status, 0, `round ${round}: ${rs.stderr}`);
    const restored = JSON.parse(rs.stdout) as { pid: number; rootPid: number };
    trees.track(restored.rootPid);
    killTree(tree.rootPid);
    await waitFor(() => !alive(tree.rootPid) || undefined, 'the original tree ended');
    const [p2, s2, n2] = await nextReading(out);
    assert.deepEqual([p2, s2, n2], [pid, pid, 'node'], `round ${round}: the restored process reads itself`);
    tree = restored;
  }
});
