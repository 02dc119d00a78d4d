// cryo's migration channel without root: frames fed in small chunks, files as raw frames, bad frames
// refused; and the TLS transport on 127.0.0.1 with the token proof (right token in, wrong token out).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { checkAuth, readTokenFile } from '../../src/migrate/auth.js';
import { TlsChannel } from '../../src/migrate/channel.js';
import { lazyPageCounts } from '../../src/migrate/criu-daemons.js';
import { connectChannel, listenChannel, parseEndpoint } from '../../src/migrate/transport.js';

/** A socket stand-in: what is written is kept; `feed` delivers bytes as the peer's. */
function fakeSocket(): { socket: TLSSocket; written: Buffer[]; feed(b: Buffer): void } {
  const ee = new EventEmitter() as EventEmitter & Record<string, unknown>;
  const written: Buffer[] = [];
  ee.write = (b: Buffer, cb: (e?: Error) => void) => {
    written.push(b);
    cb();
    return true;
  };
  ee.end = () => undefined;
  ee.destroy = () => ee.emit('close');
  return { socket: ee as unknown as TLSSocket, written, feed: (b) => ee.emit('data', b) };
}

test('frames arrive whole whatever the chunking: messages and a raw file, byte by byte', async () => {
  const out = fakeSocket();
  const sender = new TlsChannel(out.socket);
  await sender.send({ t: 'hello', n: 1 });
  await sender.sendFile('pagemap-1.img', Buffer.from([0, 1, 2, 255]));
  await sender.send({ t: 'images-done' });
  const bytes = Buffer.concat(out.written);
  assert.equal(sender.bytesSent, bytes.length);
  const inn = fakeSocket();
  const receiver = new TlsChannel(inn.socket);
  for (const b of bytes) inn.feed(Buffer.from([b]));
  assert.deepEqual(await receiver.next(), { t: 'hello', n: 1 });
  const file = await receiver.next();
  assert.equal(file.t, 'file');
  assert.equal(file.name, 'pagemap-1.img');
  assert.deepEqual(file.data, Buffer.from([0, 1, 2, 255]));
  assert.equal((await receiver.expect('images-done')).t, 'images-done');
});

test('a frame beyond the limit, a bad kind or bad JSON closes the channel with a clear error', async () => {
  for (const bad of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0]), Buffer.from([0, 0, 0, 1, 7, 0]), Buffer.from([0, 0, 0, 2, 0, 0x7b, 0x7b])]) {
    const inn = fakeSocket();
    const ch = new TlsChannel(inn.socket);
    inn.feed(bad);
    await assert.rejects(ch.next(), /bad frame|malformed/);
  }
});

test("a peer's failed message becomes its error; another type than expected is a protocol error", async () => {
  const out = fakeSocket();
  const s = new TlsChannel(out.socket);
  await s.send({ t: 'failed', message: 'restore failed: x', hint: 'on the destination: y' });
  await s.send({ t: 'other' });
  const inn = fakeSocket();
  const r = new TlsChannel(inn.socket);
  inn.feed(Buffer.concat(out.written));
  await assert.rejects(r.expect('restored'), (e: Error & { hint?: string }) => /destination: restore failed: x/.test(e.message) && e.hint === 'on the destination: y');
  await assert.rejects(r.expect('restored'), /expected 'restored', got 'other'/);
});

test('endpoints are IP:PORT; names, missing ports and bad ports are usage errors', () => {
  assert.deepEqual(parseEndpoint('169.254.1.2:7070', '--to'), { host: '169.254.1.2', port: 7070 });
  assert.deepEqual(parseEndpoint('[fe80::1]:1', '--to'), { host: 'fe80::1', port: 1 });
  for (const bad of ['host:7070', '169.254.1.2', '169.254.1.2:0', '169.254.1.2:70000', '999.1.1.1:5']) {
    assert.throws(() => parseEndpoint(bad, '--to'), (e: Error & { code?: string }) => e.code === 'USAGE' && /expected --to as IP:PORT/.test(e.message));
  }
});

test('no token and no certificates is refused; a token file must be private and long enough', () => {
  assert.throws(() => checkAuth({}, 'receive'), /refusing an unauthenticated migration/);
  assert.throws(() => checkAuth({ cert: 'x' }, 'migrate'), /go together/);
  const dir = mkdtempSync(join(tmpdir(), 'cryo-token-'));
  try {
    const f = join(dir, 'token');
    writeFileSync(f, 'short\n', { mode: 0o600 });
    assert.throws(() => readTokenFile(f), /too short/);
    writeFileSync(f, 'a-long-enough-token-0123456789\n');
    chmodSync(f, 0o644);
    assert.throws(() => readTokenFile(f), /readable by others/);
    chmodSync(f, 0o600);
    assert.equal(readTokenFile(f), 'a-long-enough-token-0123456789');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TLS on 127.0.0.1: the right token is let in, a wrong one refused before any message', async () => {
  const token = 'the-right-token-0123456789abcdef';
  const l = await listenChannel({ host: '127.0.0.1', port: 0 }, { token }).catch(() => undefined);
  assert.ok(l, 'listens');
  const port = l.port;
  try {
    await assert.rejects(connectChannel({ host: '127.0.0.1', port }, { token: 'a-wrong-token-0123456789abcdef' }), /refused the migration: wrong token/);
    const accepted = l.accept();
    const src = await connectChannel({ host: '127.0.0.1', port }, { token });
    const dst = await accepted;
    await src.send({ t: 'hello' });
    assert.equal((await dst.next()).t, 'hello');
    assert.equal(l.refused, 1);
    src.close();
    dst.close();
  } finally {
    l.close();
  }
});

test('lazy page counts: a copy at a faulting address is on demand, the others background', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-lazy-log-'));
  try {
    const f = join(dir, 'lazy-pages.log');
    writeFileSync(f, [
      '(00.1) uffd: 2-12: #PF at 0x7f0000001000',
      '(00.2) uffd: 2-12: uffd_copy: 0x7f0000001000/4096',
      '(00.3) uffd: 2-12: uffd_copy: 0x7f0000010000/65536',
      '(00.4) uffd: 1-11: uffd_copy: 0x7f0000001000/8192',
    ].join('\n'));
    assert.deepEqual(lazyPageCounts(f), { onDemand: 1, background: 18 });
    assert.equal(lazyPageCounts(join(dir, 'none.log')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('certificates alone: mutual TLS of one CA is let in, a certificate of another CA is refused', async () => {
  const { makeCertificates } = await import('../../src/migrate/certificates.js');
  const d1 = mkdtempSync(join(tmpdir(), 'cryo-ca1-'));
  const d2 = mkdtempSync(join(tmpdir(), 'cryo-ca2-'));
  try {
    const one = makeCertificates(d1, '127.0.0.1');
    const other = makeCertificates(d2, '127.0.0.1');
    const l = await listenChannel({ host: '127.0.0.1', port: 0 }, one);
    try {
      const accepted = l.accept();
      const src = await connectChannel({ host: '127.0.0.1', port: l.port }, one);
      const dst = await accepted;
      await src.send({ t: 'hello' });
      assert.equal((await dst.next()).t, 'hello');
      src.close();
      dst.close();
      await assert.rejects(connectChannel({ host: '127.0.0.1', port: l.port }, other), /cannot reach the destination|refused/);
    } finally {
      l.close();
    }
  } finally {
    rmSync(d1, { recursive: true, force: true });
    rmSync(d2, { recursive: true, force: true });
  }
});
