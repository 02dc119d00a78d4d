// A SIGKILL of `cryo job` in the middle of a periodic checkpoint of a 256 MiB tree: the tree runs
// on (CRIU, or the dump pipeline's guardian, resumes it), the older checkpoint is intact, and the
// next run cleans the partial files up and restores the newest complete checkpoint.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCmdline, readProcess } from '../../src/kernel/process.js';
import { childPids } from '../../src/kernel/run.js';
import { criuFor } from '../helpers/env.js';
import { rootOf, sleep, Trees, waitFor } from '../helpers/trees.js';
import { checkpointsIn, partialsIn, startJobCli, treePidOf } from './job-helpers.js';

const CHECKPOINTED = 75;

/** A checkpoint is under way: its job file (written just before the dump) exists, its archive not yet. */
function inProgress(dir: string): boolean {
  return readdirSync(dir).some((n) => n.endsWith('.ckpt.job.json') && !existsSync(join(dir, n.slice(0, -'.job.json'.length))));
}

test('SIGKILL of cryo job during a periodic checkpoint of a 256 MiB tree: the tree runs on; the next run restores the newest complete checkpoint', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = join(trees.dir('cryo-job-kill-'), 'ckpts');
  // 256 MiB of memory that does not compress to nothing, then quiet: it writes no output
  const prog = 'const b=Buffer.alloc(256<<20); for(let i=0;i<b.length;i+=4096) b.writeUInt32LE((i*2654435761)>>>0,i); setInterval(()=>{b[0]++},100)';
  const args = ['--checkpoint-dir', dir, '--every', '1s', '--', process.execPath, '-e', prog];

  const first = startJobCli(args);
  const pid = await waitFor(() => treePidOf(first.stderr()), 'the tree to start');
  trees.track(rootOf(pid));
  await waitFor(() => checkpointsIn(dir).length >= 1, 'the first periodic checkpoint', 30_000);
  // mid-checkpoint: the job file is there and CRIU (the job's child) is dumping the tree
  await waitFor(() => inProgress(dir) && childPids(first.child.pid!).some((c) => readCmdline(c)?.includes('swrk')), 'CRIU to be dumping the next checkpoint', 60_000);
  const complete = checkpointsIn(dir);
  first.child.kill('SIGKILL');
  assert.equal(await first.done, 137);

  // the tree runs on: neither gone nor left frozen or stopped
  await waitFor(() => {
    const p = readProcess(pid);
    return p && /[RS]/.test(p.state);
  }, 'the tree to run again after the SIGKILL', 15_000);
  await sleep(300);
  assert.match(readProcess(pid)?.state ?? 'gone', /[RS]/, 'the tree stays running');
  for (const c of complete) assert.ok(checkpointsIn(dir).includes(c), `the older checkpoint ${c} is intact`);

  const second = startJobCli(args);
  const restored = await waitFor(() => /restored (\S+)/.exec(second.stderr())?.[1], 'the next run to restore', 30_000);
  trees.track(rootOf(treePidOf(second.stderr())!));
  const newestComplete = checkpointsIn(dir).filter((n) => !n.includes('.failed')).at(-1)!;
  assert.equal(restored, join(dir, newestComplete));
  assert.ok(complete.includes(newestComplete) || newestComplete > complete.at(-1)!, 'restored the newest complete checkpoint');
  assert.deepEqual(partialsIn(dir), [], 'the partial files of the killed run are gone');
  second.child.kill('SIGTERM');
  assert.equal(await second.done, CHECKPOINTED, second.stderr());
});
