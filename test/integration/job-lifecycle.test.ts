// cryo job with real CRIU: a counter whose state lives in memory only survives a SIGTERM and a new
// run (its output exactly 1..N once, in order, across both runs), the job then cleans up; periodic
// checkpoints keep the newest N, leave no partial file, and `cryo ls` lists them; a corrupted newest
// checkpoint falls back to the older one, and says so.
import assert from 'node:assert/strict';
import { chmodSync, closeSync, existsSync, fstatSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { alive, cli, rootOf, sleep, Trees, waitFor } from '../helpers/trees.js';
import { checkpointsIn, partialsIn, startJobCli, treePidOf } from './job-helpers.js';

const CHECKPOINTED = 75;

/** A counter with its state in memory only: `count.sh N PAUSE [STATUS]` prints 1..N, one each PAUSE seconds, then exits STATUS. */
function writeCounter(dir: string): string {
  const p = join(dir, 'count.sh');
  writeFileSync(p, '#!/bin/bash\nn=$1; i=1\nwhile [ $i -le $n ]; do echo $i; echo "e$i" >&2; i=$((i+1)); sleep $2; done\nexit ${3:-0}\n');
  chmodSync(p, 0o755);
  return p;
}

function numbers(text: string): number[] {
  return text.split('\n').filter(Boolean).map(Number);
}

test('cryo job: SIGTERM checkpoints (exit 75), the same command resumes and finishes, output exactly 1..N; then it starts fresh', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const work = trees.dir('cryo-job-');
  const dir = join(work, 'ckpts');
  const counter = writeCounter(work);
  const N = 50;
  const args = ['--checkpoint-dir', dir, '--', counter, String(N), '0.04', '7'];

  const first = startJobCli(args);
  await waitFor(() => numbers(first.stdout()).length >= 10, 'the first run to count to 10');
  const pid1 = treePidOf(first.stderr())!;
  trees.track(rootOf(pid1));
  first.child.kill('SIGTERM');
  assert.equal(await first.done, CHECKPOINTED, first.stderr());
  assert.match(first.stderr(), /final checkpoint .*job-\d{8}T\d{9}Z\.ckpt/);
  assert.equal(checkpointsIn(dir).length, 1);
  assert.deepEqual(partialsIn(dir), []);
  await waitFor(() => !alive(pid1), 'the checkpointed tree to end');

  const second = startJobCli(args);
  assert.equal(await second.done, 7, `the restored command's own exit status: ${second.stderr()}`);
  assert.match(second.stderr(), /restored .*job-.*\.ckpt/);
  const all = [...numbers(first.stdout()), ...numbers(second.stdout())];
  assert.deepEqual(all, Array.from({ length: N }, (_, i) => i + 1), 'every number once, in order, across both runs');
  // stderr flowed too, and after the restore
  assert.match(second.stderr(), new RegExp(`^e${N}$`, 'm'));
  assert.deepEqual(checkpointsIn(dir), [], 'the job is done: its checkpoints are removed');

  const third = startJobCli(['--checkpoint-dir', dir, '--', counter, '3', '0.01', '5']);
  assert.equal(await third.done, 5, third.stderr());
  assert.match(third.stderr(), /started /);
  assert.deepEqual(numbers(third.stdout()), [1, 2, 3]);
});

test('cryo job --every 1s --keep 2: never more than 2 checkpoints, no partial file, ls lists them; a corrupted newest falls back to the older', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const work = trees.dir('cryo-job-');
  const dir = join(work, 'ckpts');
  const counter = writeCounter(work);
  const args = ['--checkpoint-dir', dir, '--every', '1s', '--keep', '2', '--', counter, '100000', '0.02'];

  const job = startJobCli(args);
  await waitFor(() => treePidOf(job.stderr()), 'the job to start');
  trees.track(rootOf(treePidOf(job.stderr())!));
  let most = 0;
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    most = Math.max(most, checkpointsIn(dir).length);
    await sleep(20);
  }
  assert.ok(most <= 2, `at most 2 complete checkpoints at any time (saw ${most})`);
  assert.ok((job.stderr().match(/^cryo: checkpoint /gm) ?? []).length >= 3, `at least 3 periodic checkpoints in 5 s:\n${job.stderr()}`);
  const ls = await cli(['ls', dir, '--json']);
  assert.equal(ls.status, 0, ls.stderr);
  const listed = JSON.parse(ls.stdout) as { dir: string; checkpoints: Array<{ name: string; bytes: number; frozenMs: number | null; complete: boolean; verifiable: boolean; command: string[] | null }> };
  assert.ok(listed.checkpoints.length >= 1 && listed.checkpoints.length <= 2, ls.stdout);
  for (const c of listed.checkpoints) {
    assert.ok(c.bytes > 0 && typeof c.frozenMs === 'number' && c.frozenMs > 0, JSON.stringify(c));
    assert.ok(c.complete && c.verifiable, JSON.stringify(c));
    assert.deepEqual(c.command?.slice(-3), [counter, '100000', '0.02']);
  }
  assert.ok(listed.checkpoints.map((c) => c.name).join() === [...listed.checkpoints.map((c) => c.name)].sort().reverse().join(), 'newest first');
  job.child.kill('SIGTERM');
  assert.equal(await job.done, CHECKPOINTED, job.stderr());
  const kept = checkpointsIn(dir);
  assert.equal(kept.length, 2);
  assert.deepEqual(partialsIn(dir), [], 'no partial file left');
  const lastPrinted = numbers(job.stdout()).at(-1)!;

  // damage the newest: a restore must fall back to the older one and say so
  const newest = join(dir, kept[1]!);
  const fd = openSync(newest, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(fstatSync(fd).size / 2));
  closeSync(fd);
  const again = startJobCli(args);
  await waitFor(() => numbers(again.stdout()).length >= 2, 'the restored counter to print');
  trees.track(rootOf(treePidOf(again.stderr())!));
  assert.match(again.stderr(), new RegExp(`cannot restore ${kept[1]!.replace(/\./g, '\\.')}`));
  assert.match(again.stderr(), new RegExp(`restored .*${kept[0]!.replace(/\./g, '\\.')}`));
  assert.match(again.stderr(), /restored an older checkpoint/);
  const resumedAt = numbers(again.stdout())[0]!;
  assert.ok(resumedAt > 1 && resumedAt <= lastPrinted, `the older checkpoint's state (resumed at ${resumedAt}, the job had printed up to ${lastPrinted})`);
  again.child.kill('SIGTERM');
  assert.equal(await again.done, CHECKPOINTED, again.stderr());

  const text = await cli(['ls', dir]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^CREATED +SIZE +FROZEN +STATE +NAME +COMMAND$/m);
  assert.match(text.stdout, /verified/);
  // the damaged one was set aside (NAME.failed), out of the rotation, and shows as damaged
  assert.deepEqual(checkpointsIn(dir).length, 2);
  assert.ok(checkpointsIn(dir).includes(kept[0]!), 'the good older checkpoint is kept');
  assert.match(text.stdout, new RegExp(`DAMAGED +${kept[1]!.replace(/\./g, '\\.')}\\.failed`));
});

test('a SIGTERM while a periodic checkpoint is being written cancels it cleanly, then the final checkpoint is taken', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = join(trees.dir('cryo-job-'), 'ckpts');
  // 64 MiB that compresses poorly: each periodic checkpoint takes a while to write
  const prog = 'const b=require("crypto").randomBytes(64<<20); setInterval(()=>{b[0]++},100)';
  const args = ['--checkpoint-dir', dir, '--every', '1s', '--keep', '5', '--', process.execPath, '-e', prog];
  const job = startJobCli(args);
  const pid = await waitFor(() => treePidOf(job.stderr()), 'the tree to start');
  trees.track(rootOf(pid));
  await waitFor(() => readdirSync(dir).some((n) => n.endsWith('.job.json') && !existsSync(join(dir, n.slice(0, -'.job.json'.length)))), 'a periodic checkpoint under way', 20_000);
  const before = checkpointsIn(dir);
  job.child.kill('SIGTERM');
  assert.equal(await job.done, CHECKPOINTED, job.stderr());
  assert.match(job.stderr(), /final checkpoint /);
  assert.doesNotMatch(job.stderr(), /warning/);
  const after = checkpointsIn(dir);
  // the cancelled one never appeared; exactly one more: the final one (or the periodic one, had it just committed)
  assert.ok(after.length === before.length + 1 || after.length === before.length + 2, `${before} -> ${after}`);
  assert.deepEqual(partialsIn(dir), [], 'nothing half-written');
  for (const n of after) assert.ok(existsSync(join(dir, `${n}.job.json`)), `${n} has its job file`);
  await waitFor(() => !alive(pid), 'the tree to end after the final checkpoint');
  const again = startJobCli(args);
  await waitFor(() => /restored /.exec(again.stderr()), 'the next run to restore', 20_000);
  trees.track(rootOf(treePidOf(again.stderr())!));
  again.child.kill('SIGTERM');
  assert.equal(await again.done, CHECKPOINTED, again.stderr());
});
