// cryo run → dump → restore of real trees through the built CLI and the library, with state checks.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dump } from '../../src/pipeline/dump.js';
import { readProcess } from '../../src/kernel/process.js';
import { restore } from '../../src/pipeline/restore.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, lines, rootOf, sleep, Trees, waitFor } from '../helpers/trees.js';

// two shells joined by a pipe; the count lives only in the first shell's memory
const LOOP = 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done | while read -r l; do echo "n $l" >> "$1"; done';

/** The numbers the loop wrote, checked to be 1, 2, 3, ... without gap or restart. */
function consecutive(file: string): number {
  const nums = lines(file).map((l) => Number(l.split(' ')[1]));
  nums.forEach((n, i) => assert.equal(n, i + 1, `line ${i + 1} of ${file} is ${n}: the count restarted or skipped`));
  return nums.length;
}

test('CLI: a shell loop tree with a pipe is dumped and restored and counts on', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const ran = await cli(['run', '--', 'sh', '-c', LOOP, 'loop', out]);
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /^\d+\n$/);
  const pid = Number(ran.stdout);
  trees.track(rootOf(pid));
  await waitFor(() => lines(out).length >= 5, 'the loop to count');

  const ckpt = join(dir, 'ckpt');
  const d = await cli(['dump', String(pid), '-D', ckpt, '--json']);
  assert.equal(d.status, 0, d.stderr);
  const dj = JSON.parse(d.stdout);
  assert.equal(dj.pid, pid);
  assert.equal(dj.dir, ckpt);
  assert.equal(typeof dj.wallMs, 'number');
  assert.equal(typeof dj.stats.frozen_time, 'number');
  assert.ok(dj.stats.pages_written > 0);
  assert.ok(!alive(pid), 'the dumped tree ended');
  assert.ok(existsSync(join(ckpt, 'cryo.json')) && existsSync(join(ckpt, 'inventory.img')));
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('cryo-tmp')), [], 'no temp dir left');
  const atDump = consecutive(out);
  await sleep(200);
  assert.equal(consecutive(out), atDump, 'nothing counts while dumped');

  const r = await cli(['restore', '-D', ckpt]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
  const restored = Number(r.stdout);
  trees.track(rootOf(restored));
  assert.ok(alive(restored));
  await waitFor(() => lines(out).length >= atDump + 5, 'the restored loop to count on');
  assert.ok(consecutive(out) >= atDump + 5);
});

test('--leave-running: the tree keeps running and the checkpoint restores beside it (pids taken)', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start('sh', ['-c', LOOP, 'loop', out]);
  await waitFor(() => lines(out).length >= 3, 'the loop to count');
  const d = await dump(pid, join(dir, 'ckpt'), { leaveRunning: true });
  assert.equal(d.tree, 'running');
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 3, 'the original to keep counting');
  assert.ok(alive(pid));
  // the original still holds every pid of the checkpoint: restore must work anyway
  const r = await restore(join(dir, 'ckpt'));
  trees.track(r.rootPid);
  assert.equal(r.pidns, true);
  assert.notEqual(r.pid, pid);
  assert.ok(alive(r.pid) && alive(pid), 'both copies run');
  assert.equal(typeof r.stats?.restore_time, 'number');
  // both write: the file grows twice as fast, each copy counting on from its own state
  const m = lines(out).length;
  await waitFor(() => lines(out).length >= m + 6, 'two copies to count');
});

test('a restore started the moment the dump returns', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start('sh', ['-c', LOOP, 'loop', out]);
  await waitFor(() => lines(out).length >= 3, 'the loop to count');
  await dump(pid, join(dir, 'ckpt'));
  const r = await restore(join(dir, 'ckpt'));
  trees.track(r.rootPid);
  const n = consecutive(out);
  await waitFor(() => lines(out).length >= n + 3, 'the restored loop to count on');
  consecutive(out);
});

test('a tree outside a PID namespace: immediate restore waits for zombies; a live holder is named', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start('sh', ['-c', LOOP, 'loop', out], { pidns: false });
  await waitFor(() => lines(out).length >= 3, 'the loop to count');

  // taken by the live original: a clear error naming the pid
  await dump(pid, join(dir, 'kept'), { leaveRunning: true });
  await assert.rejects(restore(join(dir, 'kept'), { pidWaitMs: 200 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'RESTORE_FAILED');
    assert.match(e.message, /^pid \d+ is taken by a running process \(\w+\)/);
    return true;
  });

  // dumped for real, restored at once: the pids are still zombies for a moment
  await dump(pid, join(dir, 'ckpt'));
  const r = await restore(join(dir, 'ckpt'));
  trees.track(r.rootPid);
  assert.equal(r.pidns, false);
  assert.equal(r.pid, pid, 'original pids come back');
  const n = consecutive(out);
  await waitFor(() => lines(out).length >= n + 3, 'the restored loop to count on');
  consecutive(out);
});

/** One-letter state of every pid (from /proc/PID/stat), '-' when gone. */
function states(pids: number[]): string[] {
  return pids.map((p) => {
    try {
      return /\) (\S)/.exec(readFileSync(`/proc/${p}/stat`, 'utf8'))![1]!;
    } catch {
      return '-';
    }
  });
}

test('--leave-stopped: every process (cryo\'s init included) is stopped, and the printed resume command resumes them all', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const ran = await cli(['run', '--', 'sh', '-c', LOOP, 'loop', out]);
  assert.equal(ran.status, 0, ran.stderr);
  const pid = Number(ran.stdout);
  trees.track(rootOf(pid));
  await waitFor(() => lines(out).length >= 3, 'the loop to count');
  const d = await cli(['dump', String(pid), '-D', join(dir, 'ckpt'), '--leave-stopped', '--json']);
  assert.equal(d.status, 0, d.stderr);
  const r = JSON.parse(d.stdout) as { pid: number; rootPid: number; pids: number[]; tree: string; resume: string };
  assert.equal(r.tree, 'stopped');
  assert.notEqual(r.rootPid, pid, 'a cryo run tree is dumped from its init');
  assert.ok(r.pids.includes(r.rootPid) && r.pids.includes(pid) && r.pids.length >= 4, `the tree's pids: ${r.pids}`);
  assert.deepEqual(states(r.pids), r.pids.map(() => 'T'), 'every process of the tree, init included, is stopped');
  // the loop's `sleep 0.05` children end on their own once resumed: gone then is resumed too
  const transient = new Set(r.pids.filter((p) => readProcess(p)?.comm === 'sleep'));
  const n = lines(out).length;
  await sleep(300);
  assert.equal(lines(out).length, n, 'nothing counts while stopped');
  assert.equal(r.resume, `cryo resume ${r.rootPid}`);
  // the one line, as a user pastes it
  const resumed = await cli(r.resume.split(' ').slice(1));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(states(r.pids).every((s, i) => s !== 'T' && (s !== '-' || transient.has(r.pids[i]!))), `all resumed: ${states(r.pids)}`);
  await waitFor(() => lines(out).length >= n + 3, 'the resumed loop to count on');
  consecutive(out);
});
