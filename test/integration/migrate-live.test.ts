// cryo migrate / cryo receive between two "hosts" (network namespaces joined by a veth pair): a
// `cryo run` tree with 512 MiB of known memory and a counter moves with --no-lazy and with --lazy;
// afterwards exactly one copy runs, on the destination, its counter went on and its memory is intact.
// A wrong token is refused before anything is touched; cryo says when fs.pipe-max-size forbids lazy pages.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { makeMigrationHosts, type MigrationHosts, copiesOf, startCryoIn, startMemoryTree, stateOf, waitListening, type HostPair } from '../helpers/netns.js';
import { assertCliJson } from '../helpers/schema.js';
import { alive, killTree, sleep } from '../helpers/trees.js';

let hosts: MigrationHosts | undefined;
let pair: HostPair | undefined;
let dir = '';
let token = '';
let started: number[] = [];

before(() => {
  hosts = makeMigrationHosts('cryo-migrate-', 'migrate-test-token-0123456789abcdef');
  if (hosts) ({ pair, dir, token, started } = hosts);
});

after(() => hosts?.cleanup());

async function migrateOnce(mode: '--no-lazy' | '--lazy', port: number): Promise<void> {
  const { a, b } = pair!;
  const tree = await startMemoryTree(a, dir, 512);
  started.push(tree.rootPid);
  const receiveArgs = ['receive', '--listen', `${b.ip}:${port}`, '--token-file', token, '--json'];
  const rec = startCryoIn(b, receiveArgs);
  const bound = await waitListening(b, port);
  assert.deepEqual(bound, [`${b.ip}:${port}`], 'receive binds only to the address given');
  const counterBefore = tree.counter();
  const migrateArgs = ['migrate', String(tree.pid), '--to', `${b.ip}:${port}`, mode, '--token-file', token, '--json'];
  const mig = startCryoIn(a, migrateArgs);
  const [m, r] = await Promise.all([mig.done, rec.done]);
  assert.equal(m.status, 0, `migrate: ${m.stderr}`);
  assert.equal(r.status, 0, `receive: ${r.stderr}`);
  assertCliJson(migrateArgs, m);
  assertCliJson(receiveArgs, r);
  const res = JSON.parse(r.stdout) as { pid: number; rootPid: number; mode: string };
  const out = JSON.parse(m.stdout) as { mode: string; downtimeMs: number; totalMs: number; destination: { pid: number }; pageBytes: number; pages: { onDemand: number; background: number } | null };
  started.push(res.rootPid);
  assert.equal(out.mode, mode.slice(2));
  assert.equal(out.destination.pid, res.pid);
  assert.ok(out.pageBytes >= 512 * 1024 * 1024, `all the memory crossed (${out.pageBytes} bytes)`);
  if (mode === '--lazy') assert.ok(out.pages && out.pages.onDemand + out.pages.background > 0);

  // exactly one copy, on the destination; the source's is gone
  assert.equal(alive(tree.pid), false, 'the source copy ended');
  assert.deepEqual(copiesOf(tree.marker), [res.pid]);
  // its counter went on from where it was
  const c1 = tree.counter();
  await sleep(300);
  const c2 = tree.counter();
  assert.ok(c1 >= counterBefore && c2 > c1, `counter ${counterBefore} -> ${c1} -> ${c2}`);
  // every page of the known memory reads back right (the tree's own checksum)
  assert.equal(await tree.checksum(res.pid), tree.initialChecksum());
  killTree(res.rootPid);
}

test('a 512 MiB tree migrates with --no-lazy: one copy runs, on the destination, counter and memory intact', { timeout: 120_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  await migrateOnce('--no-lazy', 7101);
});

test('a 512 MiB tree migrates with --lazy: one copy runs, on the destination, counter and memory intact', { timeout: 120_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  await migrateOnce('--lazy', 7102);
});

test('a wrong token is refused before the tree is touched: it keeps running on the source', { timeout: 60_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  const { a, b } = pair;
  const tree = await startMemoryTree(a, dir, 16);
  started.push(tree.rootPid);
  const other = join(dir, 'other-token');
  writeFileSync(other, 'a-different-token-fedcba9876543210\n', { mode: 0o600 });
  const rec = startCryoIn(b, ['receive', '--listen', `${b.ip}:7103`, '--token-file', token]);
  await waitListening(b, 7103);
  const m = await startCryoIn(a, ['migrate', String(tree.pid), '--to', `${b.ip}:7103`, '--no-lazy', '--token-file', other]).done;
  assert.equal(m.status, 1, m.stderr);
  assert.match(m.stderr, /cryo: error: .*refused/);
  assert.match(m.stderr, /hint: .*token/);
  assert.notEqual(stateOf(tree.pid), 't');
  const c1 = tree.counter();
  await sleep(200);
  assert.ok(tree.counter() > c1, 'the tree never stopped');
  assert.deepEqual(copiesOf(tree.marker), [tree.pid]);
  // receive refused the peer and waits on; it ends cleanly on SIGTERM, having restored nothing
  assert.equal(rec.child.exitCode, null);
  rec.child.kill('SIGTERM');
  const r = await rec.done;
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  killTree(tree.rootPid);
});

test('--lazy at a too low fs.pipe-max-size fails before anything is touched, and says how to fix it', { timeout: 30_000 }, async (t) => {
  if (!criuFor(t) || !pair) return void t.skip('needs root, CRIU, ip and nsenter');
  const path = '/proc/sys/fs/pipe-max-size';
  const { readFileSync } = await import('node:fs');
  const raised = readFileSync(path, 'utf8').trim();
  writeFileSync(path, '1048576');
  try {
    const tree = await startMemoryTree(pair.a, dir, 8);
    started.push(tree.rootPid);
    const m = await startCryoIn(pair.a, ['migrate', String(tree.pid), '--to', `${pair.b.ip}:7104`, '--lazy', '--token-file', token]).done;
    assert.equal(m.status, 3, m.stderr);
    assert.match(m.stderr, /fs\.pipe-max-size/);
    assert.match(m.stderr, /hint: .*sysctl -w fs\.pipe-max-size=4194304/);
    assert.deepEqual(copiesOf(tree.marker), [tree.pid]);
    killTree(tree.rootPid);
  } finally {
    writeFileSync(path, raised);
  }
});
