// Encryption at rest with real CRIU: an encrypted archive restores with its key and continues the
// tree; a wrong key and a flipped byte are refused with exit 4 before CRIU runs; verify and
// inspect read it given the key; encrypted chunks in a registry still dedup and refuse a wrong key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { listTree } from '../../src/kernel/process.js';
import { run } from '../../src/kernel/run.js';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { hasTool, REGISTRY_BIN, startRegistry, type Registry } from '../helpers/registry.js';
import { alive, cli, counter, sleep, waitFor } from '../helpers/trees.js';

const HOLDER = `
import os, sys, time
secret = b'cryo-plaintext-marker-' * 4096
a = bytearray(os.urandom(4 << 20))
i = 0
while True:
    i += 1
    with open(sys.argv[1] + '.tmp', 'w') as f: f.write(str(i))
    os.rename(sys.argv[1] + '.tmp', sys.argv[1])
    time.sleep(0.05)
`;


function fixture(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-encrypt-it-'));
  writeFileSync(join(dir, 'holder.py'), HOLDER);
  writeFileSync(join(dir, 'key'), randomBytes(32), { mode: 0o600 });
  writeFileSync(join(dir, 'other'), randomBytes(32), { mode: 0o600 });
  const roots = new Set<number>();
  const registries: Registry[] = [];
  t.after(async () => {
    for (const root of roots) for (const p of listTree(root)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir, roots, registries,
    async start() {
      const count = join(dir, 'count');
      const r = await run('python3', [join(dir, 'holder.py'), count]);
      roots.add(r.rootPid);
      await waitFor(() => counter(count) > 2, 'the test tree to count');
      return { pid: r.pid, count };
    },
  };
}

test('encryption: round trip with real CRIU; wrong key and flipped byte refused with exit 4; verify and inspect with the key', async (t) => {
  if (!criuFor(t)) return;
  const f = fixture(t);
  const tree = await f.start();
  const file = join(f.dir, 'app.ckpt');
  const key = join(f.dir, 'key');
  const d = await cli(['dump', String(tree.pid), '-o', file, '--encrypt', '--key-file', key, '--json']);
  assert.equal(d.status, 0, d.stderr);
  await waitFor(() => !alive(tree.pid), 'the dumped tree to end');
  const sealed = readFileSync(file);
  assert.equal(sealed.subarray(0, 8).toString('latin1'), 'CRYOENC1');
  assert.ok(!sealed.includes(Buffer.from('cryo-plaintext-marker-')), 'no memory shows in the file');
  const v = await cli(['verify', file, '--key-file', key, '--json']);
  assert.equal(v.status, 0, v.stderr);
  assert.ok(JSON.parse(v.stdout).meta.files.length > 5);
  const i = await cli(['inspect', file, '--key-file', key, '--json']);
  assert.equal(i.status, 0, i.stderr);
  assert.ok(JSON.stringify(JSON.parse(i.stdout).processes).includes('holder.py'));
  const nokey = await cli(['restore', '-i', file]);
  assert.equal(nokey.status, 2);
  assert.match(nokey.stderr, /is encrypted/);
  const wrong = await cli(['restore', '-i', file, '--key-file', join(f.dir, 'other')]);
  assert.equal(wrong.status, 4, wrong.stderr);
  assert.match(wrong.stderr, /wrong key/);
  const flipped = join(f.dir, 'flipped.ckpt');
  const copy = Buffer.from(sealed);
  copy[copy.length >> 1] ^= 0x01;
  writeFileSync(flipped, copy);
  const bad = await cli(['restore', '-i', flipped, '--key-file', key]);
  assert.equal(bad.status, 4, bad.stderr);
  assert.match(bad.stderr, /tampered/);
  assert.equal((await cli(['verify', flipped, '--key-file', key])).status, 4);
  const frozenAt = counter(tree.count);
  await sleep(200);
  assert.equal(counter(tree.count), frozenAt, 'the refused restores started nothing');
  const r = await cli(['restore', '-i', file, '--key-file', key, '--json']);
  assert.equal(r.status, 0, r.stderr);
  f.roots.add(JSON.parse(r.stdout).rootPid);
  await waitFor(() => counter(tree.count) > frozenAt + 2, 'the restored tree to count on');
});

test('encryption: encrypted chunks in a registry dedup, need the key, and refuse a wrong one with exit 4', async (t) => {
  if (!criuFor(t)) return;
  if (!requireOrSkip(t, hasTool(REGISTRY_BIN), `${REGISTRY_BIN} is missing (scripts/test-tools.mjs installs Debian's docker-registry)`)) return;
  const f = fixture(t);
  const reg = await startRegistry();
  f.registries.push(reg);
  const tree = await f.start();
  const key = join(f.dir, 'key');
  const ref = (tag: string) => `oci://${reg.host}/enc/app:${tag}`;
  const a = join(f.dir, 'a.ckpt');
  assert.equal((await cli(['dump', String(tree.pid), '-o', a, '--leave-running', '--encrypt', '--key-file', key])).status, 0);
  const p1 = await cli(['push', a, ref('one'), '--key-file', key, '--json']);
  assert.equal(p1.status, 0, p1.stderr);
  assert.equal(JSON.parse(p1.stdout).encrypted, true, 'an archive encrypted at rest is pushed encrypted');
  await sleep(300);
  const d2 = await cli(['dump', String(tree.pid), '-o', ref('two'), '--encrypt', '--key-file', key, '--json']);
  assert.equal(d2.status, 0, d2.stderr);
  const out = join(f.dir, 'p.ckpt');
  const nokey = await cli(['pull', ref('two'), '-o', out]);
  assert.equal(nokey.status, 2, nokey.stderr);
  const wrong = await cli(['pull', ref('two'), '-o', out, '--key-file', join(f.dir, 'other')]);
  assert.equal(wrong.status, 4, wrong.stderr);
  const pl = await cli(['pull', ref('two'), '-o', out, '--key-file', key, '--json']);
  assert.equal(pl.status, 0, pl.stderr);
  const first = JSON.parse(p1.stdout);
  // the same images pushed again under another tag: every sealed chunk is already there
  const again = await cli(['push', out, ref('three'), '--encrypt', '--key-file', key, '--json']);
  assert.equal(again.status, 0, again.stderr);
  const third = JSON.parse(again.stdout);
  assert.equal(third.uploadedBlobs, 0, `sealed chunks dedup: ${third.uploadedBlobs} of ${third.blobs} uploaded`);
  t.diagnostic(`encrypted: first push ${first.uploadedBytes} bytes; the same images again: ${third.uploadedBytes} bytes`);
  const r = await cli(['restore', '-i', ref('two'), '--key-file', key, '--json']);
  assert.equal(r.status, 0, r.stderr);
  f.roots.add(JSON.parse(r.stdout).rootPid);
});
