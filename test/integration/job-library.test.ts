// The library's startJob: a handle whose events (started, restored, checkpointed, exited) and typed
// result tell the same story as the CLI, with output through the caller's Writables.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { startJob, type JobCheckpoint, type JobStarted } from '../../src/job/job.js';
import { criuFor } from '../helpers/env.js';
import { rootOf, Trees, waitFor } from '../helpers/trees.js';

function collector(): { stream: Writable; text: () => string } {
  let s = '';
  return { stream: new Writable({ write: (c: Buffer, _e, cb) => { s += c.toString(); cb(); } }), text: () => s };
}

test('startJob: events and results across an abort and a resume', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const work = trees.dir('cryo-job-lib-');
  const counter = join(work, 'count.sh');
  writeFileSync(counter, '#!/bin/bash\nfor i in $(seq 1 40); do echo $i; sleep 0.05; done\n');
  chmodSync(counter, 0o755);
  const checkpointDir = join(work, 'ckpts');

  const out1 = collector();
  const ac = new AbortController();
  const job1 = startJob(counter, [], { checkpointDir, everyMs: 300, stdout: out1.stream, signal: ac.signal });
  const started: JobStarted[] = [];
  const cks: JobCheckpoint[] = [];
  job1.on('started', (s) => started.push(s));
  job1.on('checkpointed', (c) => cks.push(c));
  await waitFor(() => cks.length >= 1, 'a periodic checkpoint');
  trees.track(rootOf(started[0]!.pid));
  ac.abort();
  const r1 = await job1.done;
  assert.equal(r1.outcome, 'checkpointed');
  assert.equal(started[0]!.restoredFrom, null);
  assert.ok(cks.some((c) => !c.final) && cks.at(-1)!.final, JSON.stringify(cks));
  for (const c of cks) assert.ok(c.bytes > 0 && c.frozenMs !== null && c.frozenMs > 0 && c.archive.startsWith(checkpointDir), JSON.stringify(c));
  assert.equal(r1.outcome === 'checkpointed' && r1.archive, cks.at(-1)!.archive);

  const out2 = collector();
  const job2 = startJob(counter, [], { checkpointDir, stdout: out2.stream });
  const restored: JobStarted[] = [];
  const exits: number[] = [];
  job2.on('restored', (s) => restored.push(s));
  job2.on('exited', (e) => exits.push(e.status));
  const r2 = await job2.done;
  assert.equal(restored[0]?.restoredFrom, cks.at(-1)!.archive);
  assert.deepEqual(exits, [0]);
  assert.equal(r2.outcome, 'exited');
  assert.ok(r2.outcome === 'exited' && r2.status === 0 && r2.removed.length >= 1);
  const all = (out1.text() + out2.text()).split('\n').filter(Boolean).map(Number);
  assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => i + 1));
});
