// Checkpoints through a real registry (Debian's docker-registry on 127.0.0.1): push, pull, dump
// -o oci:// and restore -i oci:// with real CRIU, a second push sending only changed chunks, a
// tampered blob refused, basic auth honoured. Every tree and the registry are ended by pid.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { listTree } from '../../src/kernel/process.js';
import { run } from '../../src/kernel/run.js';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { blobFile, hasTool, HTPASSWD_BIN, REGISTRY_BIN, startRegistry, type Registry } from '../helpers/registry.js';
import { alive, cli, counter, sleep, waitFor } from '../helpers/trees.js';

// 8 MiB of random memory that never changes, and a counter written every 50 ms
const HOLDER = `
import os, sys, time
a = bytearray(os.urandom(8 << 20))
i = 0
while True:
    i += 1
    with open(sys.argv[1] + '.tmp', 'w') as f: f.write(str(i))
    os.rename(sys.argv[1] + '.tmp', sys.argv[1])
    time.sleep(0.05)
`;


class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'cryo-registry-it-'));
  private roots = new Set<number>();
  registries: Registry[] = [];
  constructor(t: TestContext) {
    writeFileSync(join(this.dir, 'holder.py'), HOLDER);
    t.after(async () => {
      for (const root of this.roots) for (const p of listTree(root)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      for (const r of this.registries) await r.stop();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }
  async registry(auth?: { user: string; pass: string }): Promise<Registry> {
    const r = await startRegistry(auth);
    this.registries.push(r);
    return r;
  }
  async start(): Promise<{ pid: number; count: string }> {
    const count = join(this.dir, 'count');
    const r = await run('python3', [join(this.dir, 'holder.py'), count]);
    this.roots.add(r.rootPid);
    await waitFor(() => counter(count) > 2, 'the test tree to count');
    return { pid: r.pid, count };
  }
  track(root: number): void {
    this.roots.add(root);
  }
}

function ready(t: TestContext, auth = false): boolean {
  if (!criuFor(t)) return false;
  if (!requireOrSkip(t, hasTool(REGISTRY_BIN), `${REGISTRY_BIN} is missing (scripts/test-tools.mjs installs Debian's docker-registry)`)) return false;
  return !auth || requireOrSkip(t, hasTool(HTPASSWD_BIN), `${HTPASSWD_BIN} is missing (scripts/test-tools.mjs installs apache2-utils)`);
}

test('registry: push, a second push sends only changed chunks, pull verifies, dump -o oci:// and restore -i oci:// continue the tree', async (t) => {
  if (!ready(t)) return;
  const f = new Fixture(t);
  const reg = await f.registry();
  const tree = await f.start();
  const a = join(f.dir, 'a.ckpt');
  const b = join(f.dir, 'b.ckpt');
  assert.equal((await cli(['dump', String(tree.pid), '-o', a, '--leave-running'])).status, 0);
  const p1 = await cli(['push', a, `oci://${reg.host}/team/app:one`, '--json']);
  assert.equal(p1.status, 0, p1.stderr);
  const first = JSON.parse(p1.stdout);
  assert.ok(first.blobs > 8, `an 8 MiB tree makes many chunks, got ${first.blobs}`);
  assert.ok(first.uploadedBlobs >= first.blobs - 2, 'a fresh repository gets (nearly) every chunk');
  await sleep(300);
  assert.equal((await cli(['dump', String(tree.pid), '-o', b, '--leave-running'])).status, 0);
  const p2 = await cli(['push', b, `oci://${reg.host}/team/app:two`, '--json']);
  assert.equal(p2.status, 0, p2.stderr);
  const second = JSON.parse(p2.stdout);
  const ratio = second.uploadedBytes / first.uploadedBytes;
  t.diagnostic(`second push: ${second.uploadedBlobs} of ${second.blobs} chunks, ${second.uploadedBytes} of ${first.uploadedBytes} bytes (ratio ${ratio.toFixed(3)})`);
  assert.ok(second.uploadedBlobs < second.blobs / 2, `the second push uploaded ${second.uploadedBlobs} of ${second.blobs} chunks`);
  assert.ok(ratio < 0.5, `the second push sent ${(ratio * 100).toFixed(1)}% of the first's bytes`);

  const pulled = join(f.dir, 'pulled.ckpt');
  const pl = await cli(['pull', `oci://${reg.host}/team/app:two`, '-o', pulled, '--json']);
  assert.equal(pl.status, 0, pl.stderr);
  assert.equal(JSON.parse(pl.stdout).digest, second.digest);
  const v = await cli(['verify', pulled, '--json']);
  assert.equal(v.status, 0, v.stderr);
  const vb = await cli(['verify', b, '--json']);
  assert.deepEqual(JSON.parse(v.stdout).meta.files, JSON.parse(vb.stdout).meta.files, 'the pulled archive holds the pushed images, byte for byte');

  const d = await cli(['dump', String(tree.pid), '-o', `oci://${reg.host}/team/app:three`, '--json']);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(JSON.parse(d.stdout).archive, `oci://${reg.host}/team/app:three`);
  await waitFor(() => !alive(tree.pid), 'the dumped tree to end');
  const frozenAt = counter(tree.count);
  const r = await cli(['restore', '-i', `oci://${reg.host}/team/app:three`, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const restored = JSON.parse(r.stdout);
  f.track(restored.rootPid);
  assert.equal(restored.archive, `oci://${reg.host}/team/app:three`);
  await waitFor(() => counter(tree.count) > frozenAt + 2, 'the restored tree to count on');
});

test('registry: a tampered blob is refused on pull and restore (exit 4), a missing tag is exit 1', async (t) => {
  if (!ready(t)) return;
  const f = new Fixture(t);
  const reg = await f.registry();
  const tree = await f.start();
  const a = join(f.dir, 'a.ckpt');
  assert.equal((await cli(['dump', String(tree.pid), '-o', a, '--leave-running'])).status, 0);
  assert.equal((await cli(['push', a, `oci://${reg.host}/app:t`])).status, 0);
  const manifest = await (await fetch(`http://${reg.host}/v2/app/manifests/t`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: { digest: string; size: number }[] };
  const victim = manifest.layers.reduce((x, y) => (y.size > x.size ? y : x));
  const file = blobFile(reg, victim.digest);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x20;
  writeFileSync(file, bytes);
  const out = join(f.dir, 'out.ckpt');
  const p = await cli(['pull', `oci://${reg.host}/app:t`, '-o', out]);
  assert.equal(p.status, 4, p.stderr);
  assert.match(p.stderr, /does not match its digest/);
  assert.throws(() => readFileSync(out), 'nothing is written');
  const r = await cli(['restore', '-i', `oci://${reg.host}/app:t`]);
  assert.equal(r.status, 4, r.stderr);
  const v = await cli(['verify', `oci://${reg.host}/app:t`]);
  assert.equal(v.status, 4, v.stderr);
  const missing = await cli(['pull', `oci://${reg.host}/app:nope`, '-o', out]);
  assert.equal(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /no checkpoint app:nope/);
});

test('registry: basic auth is honoured (--creds, REGISTRY_AUTH_FILE), refused without or with a wrong password', async (t) => {
  if (!ready(t, true)) return;
  const f = new Fixture(t);
  const reg = await f.registry({ user: 'alice', pass: 's3cret-pass' });
  const tree = await f.start();
  const a = join(f.dir, 'a.ckpt');
  assert.equal((await cli(['dump', String(tree.pid), '-o', a, '--leave-running'])).status, 0);
  const ref = `oci://${reg.host}/app:auth`;
  const none = await cli(['push', a, ref], { env: { REGISTRY_AUTH_FILE: join(f.dir, 'none.json'), DOCKER_CONFIG: f.dir } });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /refused access without credentials/);
  const wrong = await cli(['push', a, ref, '--creds', 'alice:nope']);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /refused the credentials of alice/);
  const ok = await cli(['push', a, ref, '--creds', 'alice:s3cret-pass', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const authFile = join(f.dir, 'auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:s3cret-pass').toString('base64') } } }), { mode: 0o600 });
  const pl = await cli(['pull', ref, '-o', join(f.dir, 'p.ckpt'), '--json'], { env: { REGISTRY_AUTH_FILE: authFile } });
  assert.equal(pl.status, 0, pl.stderr);
  // a dump to a registry that refuses the user fails before the tree is touched
  const d = await cli(['dump', String(tree.pid), '-o', ref, '--creds', 'alice:nope']);
  assert.equal(d.status, 1);
  assert.ok(alive(tree.pid), 'the tree still runs');
});
