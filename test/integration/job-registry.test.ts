// cryo job with its checkpoints in a real registry (Debian's docker-registry on 127.0.0.1): a SIGTERM
// checkpoints into a tag, the next run (nothing on local disk) restores from the registry, its
// output reconnected through the job file in the manifest, 1..N exactly once; --every 1s --keep 2
// never lists more than 2 tags and cryo ls oci:// lists them; a damaged newest tag falls back to the
// older one and is deleted; a registry that refuses deletion is said once. Every tree, job and
// registry is ended by pid.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { blobFile, hasTool, REGISTRY_BIN, startRegistry, type Registry } from '../helpers/registry.js';
import { alive, cli, rootOf, sleep, Trees, waitFor } from '../helpers/trees.js';
import { startJobCli, treePidOf, type JobRun } from './job-helpers.js';

const CHECKPOINTED = 75;
const REPO = 'jobs/count';

function writeCounter(dir: string): string {
  const p = join(dir, 'count.sh');
  writeFileSync(p, '#!/bin/bash\nn=$1; i=1\nwhile [ $i -le $n ]; do echo $i; echo "e$i" >&2; i=$((i+1)); sleep $2; done\nexit ${3:-0}\n');
  chmodSync(p, 0o755);
  return p;
}

const numbers = (text: string) => text.split('\n').filter(Boolean).map(Number);

/** The repository's tags, straight from the registry's API. */
async function tagsOf(reg: Registry): Promise<string[]> {
  const r = await fetch(`http://${reg.host}/v2/${REPO}/tags/list`);
  if (r.status === 404) {
    await r.body?.cancel();
    return [];
  }
  return ((await r.json()) as { tags?: string[] | null }).tags ?? [];
}

interface Fixture {
  trees: Trees;
  work: string;
  counter: string;
  registry(deletes: boolean): Promise<Registry>;
  job(args: string[]): JobRun;
}

function setUp(t: TestContext): Fixture | undefined {
  if (!criuFor(t)) return undefined;
  if (!requireOrSkip(t, hasTool(REGISTRY_BIN), `${REGISTRY_BIN} is missing (scripts/test-tools.mjs installs Debian's docker-registry)`)) return undefined;
  const trees = new Trees();
  const registries: Registry[] = [];
  const jobs: JobRun[] = [];
  t.after(async () => {
    for (const j of jobs) if (j.child.exitCode === null && j.child.signalCode === null) j.child.kill('SIGKILL');
    trees.cleanup();
    for (const r of registries) await r.stop();
  });
  const work = trees.dir('cryo-job-oci-');
  return {
    trees, work, counter: writeCounter(work),
    async registry(deletes) {
      const r = await startRegistry(undefined, { deletes });
      registries.push(r);
      return r;
    },
    job(args) {
      const j = startJobCli(args);
      jobs.push(j);
      return j;
    },
  };
}

test('cryo job --checkpoint-dir oci://: SIGTERM checkpoints into a tag, the next run resumes from the registry, output exactly 1..N; then the tags are deleted', async (t) => {
  const f = setUp(t);
  if (!f) return;
  const reg = await f.registry(true);
  const N = 50;
  const args = ['--checkpoint-dir', `oci://${reg.host}/${REPO}`, '--', f.counter, String(N), '0.04', '7'];

  const first = f.job(args);
  await waitFor(() => numbers(first.stdout()).length >= 10, 'the first run to count to 10');
  const pid1 = treePidOf(first.stderr())!;
  f.trees.track(rootOf(pid1));
  first.child.kill('SIGTERM');
  assert.equal(await first.done, CHECKPOINTED, first.stderr());
  const tags = await tagsOf(reg);
  assert.equal(tags.length, 1, `one tag: ${tags}`);
  assert.match(tags[0]!, /^cryo-000001-\d{8}T\d{9}Z$/);
  assert.match(first.stderr(), new RegExp(`final checkpoint oci://${reg.host}/${REPO}:${tags[0]}`));
  await waitFor(() => !alive(pid1), 'the checkpointed tree to end');

  // the pipe inodes travel in the manifest: nothing of the first run is on local disk
  const manifest = (await (await fetch(`http://${reg.host}/v2/${REPO}/manifests/${tags[0]}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { annotations: Record<string, string> };
  const jobFile = JSON.parse(manifest.annotations['org.cryo.job']!) as { format: string; pipes: { stdout: number; stderr: number } };
  assert.equal(jobFile.format, 'cryo-job');
  assert.ok(jobFile.pipes.stdout > 0 && jobFile.pipes.stderr > 0);

  const second = f.job(args);
  assert.equal(await second.done, 7, `the restored command's own exit status: ${second.stderr()}`);
  assert.match(second.stderr(), new RegExp(`restored oci://${reg.host}/${REPO}:${tags[0]}`));
  const all = [...numbers(first.stdout()), ...numbers(second.stdout())];
  assert.deepEqual(all, Array.from({ length: N }, (_, i) => i + 1), 'every number once, in order, across both runs');
  assert.match(second.stderr(), new RegExp(`^e${N}$`, 'm'), 'stderr reconnected too');
  assert.deepEqual(await tagsOf(reg), [], 'the job is done: its tags are deleted');

  const third = f.job(['--checkpoint-dir', `oci://${reg.host}/${REPO}`, '--', f.counter, '3', '0.01', '5']);
  assert.equal(await third.done, 5, third.stderr());
  assert.match(third.stderr(), /started /);
  assert.deepEqual(numbers(third.stdout()), [1, 2, 3]);
});

test('cryo job --checkpoint-dir oci:// --every 1s --keep 2: never more than 2 tags; cryo ls oci:// lists them; a damaged newest falls back to the older; a registry without deletion is said once', async (t) => {
  const f = setUp(t);
  if (!f) return;
  const reg = await f.registry(true);
  const args = ['--checkpoint-dir', `oci://${reg.host}/${REPO}`, '--every', '1s', '--keep', '2', '--', f.counter, '100000', '0.02'];
  const job = f.job(args);
  await waitFor(() => treePidOf(job.stderr()), 'the job to start');
  f.trees.track(rootOf(treePidOf(job.stderr())!));
  // each checkpoint is pushed chunk by chunk: on a loaded machine one takes about a second
  let most = 0;
  const until = Date.now() + 30_000;
  while ((job.stderr().match(/^cryo: checkpoint oci:\/\//gm) ?? []).length < 4) {
    assert.ok(Date.now() < until, `4 periodic checkpoints within 30 s:\n${job.stderr()}`);
    most = Math.max(most, (await tagsOf(reg)).length);
    await sleep(50);
  }
  assert.ok(most <= 2, `at most 2 tags at any time (saw ${most})`);
  assert.ok(most >= 1);

  const ls = await cli(['ls', `oci://${reg.host}/${REPO}`, '--json']);
  assert.equal(ls.status, 0, ls.stderr);
  const listed = JSON.parse(ls.stdout) as { repository: string; checkpoints: Array<{ name: string; bytes: number; frozenMs: number | null; complete: boolean; verifiable: boolean; command: string[] | null }> };
  assert.equal(listed.repository, `oci://${reg.host}/${REPO}`);
  assert.ok(listed.checkpoints.length >= 1 && listed.checkpoints.length <= 2, ls.stdout);
  for (const c of listed.checkpoints) {
    assert.match(c.name, /^cryo-\d{6}-/);
    assert.ok(c.bytes > 0 && typeof c.frozenMs === 'number' && c.frozenMs > 0, JSON.stringify(c));
    assert.ok(c.complete && c.verifiable, JSON.stringify(c));
    assert.deepEqual(c.command?.slice(-3), [f.counter, '100000', '0.02']);
  }
  const names = listed.checkpoints.map((c) => c.name);
  assert.deepEqual(names, [...names].sort().reverse(), 'newest first');
  job.child.kill('SIGTERM');
  assert.equal(await job.done, CHECKPOINTED, job.stderr());
  const kept = await tagsOf(reg);
  assert.equal(kept.length, 2, `${kept}`);
  const text = await cli(['ls', `oci://${reg.host}/${REPO}`, '--no-verify']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^CREATED +SIZE +FROZEN +STATE +NAME +COMMAND$/m);
  assert.equal((text.stdout.match(/ complete +cryo-\d{6}-/g) ?? []).length, 2, text.stdout);

  // the newest damaged in the registry's storage (its description blob): the next run falls back to the older tag, says so, and deletes the damaged one
  const [older, newer] = [...kept].sort();
  const m = (await (await fetch(`http://${reg.host}/v2/${REPO}/manifests/${newer}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { config: { digest: string } };
  const blob = readFileSync(blobFile(reg, m.config.digest));
  blob[Math.floor(blob.length / 2)]! ^= 0xff;
  writeFileSync(blobFile(reg, m.config.digest), blob);
  const again = f.job(args);
  await waitFor(() => numbers(again.stdout()).length >= 2, 'the restored counter to print', 30_000);
  f.trees.track(rootOf(treePidOf(again.stderr())!));
  assert.match(again.stderr(), new RegExp(`cannot restore ${newer}: .*does not match its digest.*deleted from oci://`));
  assert.match(again.stderr(), new RegExp(`restored oci://${reg.host}/${REPO}:${older}`));
  assert.match(again.stderr(), /restored an older checkpoint/);
  assert.ok(!(await tagsOf(reg)).includes(newer!), 'the damaged tag is deleted');
  again.child.kill('SIGTERM');
  assert.equal(await again.done, CHECKPOINTED, again.stderr());

  // a registry that refuses deletion: said once, the job carries on, the tags pile up
  const keeper = await f.registry(false);
  const stubborn = f.job(['--checkpoint-dir', `oci://${keeper.host}/${REPO}`, '--every', '1s', '--keep', '1', '--', f.counter, '100000', '0.02']);
  await waitFor(() => treePidOf(stubborn.stderr()), 'the job to start');
  f.trees.track(rootOf(treePidOf(stubborn.stderr())!));
  await waitFor(async () => (await tagsOf(keeper)).length >= 3, 'three periodic checkpoints', 20_000);
  stubborn.child.kill('SIGTERM');
  assert.equal(await stubborn.done, CHECKPOINTED, stubborn.stderr());
  assert.equal((stubborn.stderr().match(/refuses to delete manifests/g) ?? []).length, 1, stubborn.stderr());
  assert.ok((await tagsOf(keeper)).length >= 4);
});

test('cryo job and cryo ls refuse registry arguments they cannot use: two lines, exit 2', async () => {
  const tagged = await cli(['job', '--checkpoint-dir', 'oci://127.0.0.1:9/jobs/count:v1', '--', 'true']);
  assert.equal(tagged.status, 2, tagged.stderr);
  assert.match(tagged.stderr, /^cryo: error: expected a registry repository without a tag, got 'oci:\/\/127\.0\.0\.1:9\/jobs\/count:v1'\nhint: write oci:\/\/HOST\[:PORT\]\/REPOSITORY/);
  const other = await cli(['job', '--checkpoint-dir', 's3://bucket/x', '--', 'true']);
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /not s3:\/\//);
  const creds = await cli(['job', '--checkpoint-dir', '/tmp/x', '--creds', 'a:b', '--', 'true']);
  assert.equal(creds.status, 2, creds.stderr);
  const mixed = await cli(['ls', 'oci://127.0.0.1:9/jobs/count', '/tmp']);
  assert.equal(mixed.status, 2, mixed.stderr);
  assert.match(mixed.stderr, /^cryo: error: cryo ls takes one oci:\/\/HOST\/REPO, without other paths\nhint: /);
});
