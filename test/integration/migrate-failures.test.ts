// Failures of a live migration between two "hosts" (network namespaces joined by a veth pair): the
// destination's restore fails, `cryo receive` is killed while the pages cross (--no-lazy) and during
// the lazy phase (--lazy). In each case exactly one copy of the tree runs afterwards: the source's,
// resumed with its memory intact, and nothing of cryo's is left on the destination.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { makeMigrationHosts, type MigrationHosts, copiesOf, startCryoIn, startMemoryTree, stateOf, waitListening, type HostPair, type MemoryTree } from '../helpers/netns.js';
import { killTree, sleep, waitFor } from '../helpers/trees.js';

let hosts: MigrationHosts | undefined;
let pair: HostPair | undefined;
let dir = '';
let token = '';
let started: number[] = [];

before(() => {
  hosts = makeMigrationHosts('cryo-migrate-fail-', 'migrate-failure-token-0123456789ab');
  if (hosts) ({ pair, dir, token, started } = hosts);
});

after(() => hosts?.cleanup());

/** Processes (other than the tree's) whose command line names a cryo receive work dir: CRIU daemons or guards left behind. */
function receiveLeftovers(): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('/cryo-receive-')) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** After a failed migration: the source's copy, and only it, runs again with its memory intact. */
async function assertSourceRuns(tree: MemoryTree): Promise<void> {
  await waitFor(() => {
    const c = copiesOf(tree.marker);
    return c.length === 1 && c[0] === tree.pid && !['t', 'T'].includes(stateOf(tree.pid) ?? 'gone');
  }, 'only the source copy, running', 30_000);
  const c1 = tree.counter();
  await sleep(300);
  assert.ok(tree.counter() > c1, 'the source copy runs on');
  assert.equal(await tree.checksum(tree.pid), tree.initialChecksum());
  await waitFor(() => receiveLeftovers().length === 0, 'no CRIU daemon or guard of cryo receive left', 10_000);
}

test("the destination's restore fails (a file the tree holds is missing there): the source resumes", { timeout: 120_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  const { a, b } = pair;
  const heldDir = join(dir, 'held');
  mkdirSync(heldDir);
  const tree = await startMemoryTree(a, dir, 64, join(heldDir, 'data'));
  started.push(tree.rootPid);
  // the destination sees an empty directory where the held file is: its own mount namespace, a tmpfs on top
  const wrap = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs cryo-test ${heldDir} && exec "$@"`, 'sh'];
  const rec = startCryoIn(b, ['receive', '--listen', `${b.ip}:7201`, '--token-file', token], 120_000, wrap);
  await waitListening(b, 7201);
  const m = await startCryoIn(a, ['migrate', String(tree.pid), '--to', `${b.ip}:7201`, '--no-lazy', '--token-file', token]).done;
  const r = await rec.done;
  assert.equal(m.status, 1, m.stderr);
  assert.match(m.stderr, /cryo: error: migration failed: .*restore failed/);
  assert.match(m.stderr, /hint: .*resumed here/);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cryo: error: restore failed/);
  // the destination kept CRIU's restore log, named in the hint; the images went
  const log = /log: (\/\S+\/cryo-receive-[^/\s]+)\/criu\/restore\.log/.exec(r.stderr);
  assert.ok(log, r.stderr);
  assert.match(readFileSync(join(log[1]!, 'criu', 'restore.log'), 'utf8'), /Error|error/);
  assert.deepEqual(readdirSync(log[1]!), ['criu']);
  rmSync(log[1]!, { recursive: true, force: true });
  await assertSourceRuns(tree);
  killTree(tree.rootPid);
});

test('cryo receive is killed while the pages cross (--no-lazy): the source resumes', { timeout: 120_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  const { a, b } = pair;
  const tree = await startMemoryTree(a, dir, 512);
  started.push(tree.rootPid);
  const rec = startCryoIn(b, ['receive', '--listen', `${b.ip}:7202`, '--token-file', token]);
  await waitListening(b, 7202);
  const mig = startCryoIn(a, ['migrate', String(tree.pid), '--to', `${b.ip}:7202`, '--no-lazy', '--token-file', token]);
  await waitFor(() => stateOf(tree.pid) === 't', 'the source frozen by CRIU', 30_000);
  await sleep(300);
  rec.child.kill('SIGKILL');
  const m = await mig.done;
  assert.equal(m.status, 1, m.stderr);
  assert.match(m.stderr, /hint: .*resumed here/);
  await assertSourceRuns(tree);
  killTree(tree.rootPid);
});

test('cryo receive is killed during the lazy phase (--lazy): its copy is killed, the source resumes', { timeout: 120_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  const { a, b } = pair;
  const tree = await startMemoryTree(a, dir, 512);
  started.push(tree.rootPid);
  const rec = startCryoIn(b, ['receive', '--listen', `${b.ip}:7203`, '--token-file', token]);
  await waitListening(b, 7203);
  const mig = startCryoIn(a, ['migrate', String(tree.pid), '--to', `${b.ip}:7203`, '--lazy', '--token-file', token]);
  // the lazy phase: a second copy runs on the destination while its pages still come
  const dest = await waitFor(() => copiesOf(tree.marker).find((p) => p !== tree.pid), 'the destination copy', 30_000);
  started.push(dest);
  assert.equal(stateOf(tree.pid), 't', 'the source stays frozen during the lazy phase');
  rec.child.kill('SIGKILL');
  const m = await mig.done;
  assert.equal(m.status, 1, m.stderr);
  assert.match(m.stderr, /hint: .*resumed here/);
  await assertSourceRuns(tree);
  killTree(tree.rootPid);
});
