// Good checkpoints cryo must not refuse: trees with a zombie child, a stopped task, and tasks that
// come and go during the dump, dumped and restored with real CRIU. Guards against: "a tree with a
// zombie child is dumped fine, but cryo restore refuses it: the checkpoint is incomplete:
// core-1459180976.img missing". Every tree is ended by pid.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listTree, readProcess } from '../../src/kernel/process.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, lines, Trees, waitFor } from '../helpers/trees.js';

const ZOMBIE = `
import os, sys, time
if os.fork() == 0: os._exit(0)
while True:
    with open(sys.argv[1], 'a') as f: f.write('x\\n')
    time.sleep(0.05)
`;
const STOPPED = `
import os, signal, sys, time
if os.fork() == 0:
    os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(1000)
while True:
    with open(sys.argv[1], 'a') as f: f.write('x\\n')
    time.sleep(0.05)
`;
// a task forks short-lived children all the time: some end while the dump looks at the tree
const CHURN = `
import os, sys, time
while True:
    if os.fork() == 0: os._exit(0)
    os.wait()
    with open(sys.argv[1], 'a') as f: f.write('x\\n')
    time.sleep(0.002)
`;

async function roundTrip(t: import('node:test').TestContext, script: string, check: (root: number) => boolean, times = 1): Promise<void> {
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'tree.py'), script);
  const { pid, rootPid } = await trees.start('python3', [join(dir, 'tree.py'), out]);
  await waitFor(() => lines(out).length >= 3 && check(rootPid), 'the tree to be in shape', 20_000);
  for (let i = 0; i < times; i++) {
    const ckpt = join(dir, `ckpt${i}`);
    const last = i === times - 1;
    const d = await cli(['dump', String(pid), '-D', ckpt, ...(last ? [] : ['--leave-running'])]);
    assert.equal(d.status, 0, d.stderr);
    if (!last) continue;
    const r = await cli(['restore', '-D', ckpt, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    trees.track(res.rootPid);
    assert.ok(check(res.rootPid), 'the restored tree has the same shape');
    const n = lines(out).length;
    await waitFor(() => lines(out).length > n + 2, 'the restored tree to run');
  }
}

/** States of the tree's tasks below its init (cryo's init, the python parent, its children). */
function states(root: number): string[] {
  return listTree(root).slice(1).map((p) => readProcess(p)?.state ?? '?');
}

test('trust: a tree with a zombie child dumps and restores (the zombie\'s meaningless thread id is ignored)', async (t) => {
  if (!criuFor(t)) return;
  await roundTrip(t, ZOMBIE, (root) => states(root).includes('Z'));
});

test('trust: a tree with a stopped task dumps and restores, the task still stopped', async (t) => {
  if (!criuFor(t)) return;
  await roundTrip(t, STOPPED, (root) => states(root).includes('T'));
});

test('trust: a tree whose tasks exit during the dump dumps and restores', async (t) => {
  if (!criuFor(t)) return;
  await roundTrip(t, CHURN, (root) => alive(root) && readdirSync(`/proc/${root}`).length > 0, 3);
});
