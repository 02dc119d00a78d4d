// SEQPACKET bindings: whole packets of any size, fds by SCM_RIGHTS, end-of-file and cancellation.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { closeFd, PacketSocket, recvPacket, sendPacket, seqpacketPair } from '../../src/kernel/socket.js';

test('packets keep their boundaries and sizes, beyond 64 KiB, with no fixed buffer', async () => {
  const [a, b] = seqpacketPair();
  const s = new PacketSocket(b);
  try {
    const sizes = [1, 7, 4096, 65_536, 65_537, 150_000];
    const sent = sizes.map((n, i) => {
      const buf = Buffer.alloc(n, i + 1);
      buf[n - 1] = 0xee;
      return buf;
    });
    for (const buf of sent) {
      sendPacket(a, buf);
      const got = await s.recv();
      assert.ok(got);
      assert.equal(got.data.length, buf.length);
      assert.ok(got.data.equals(buf));
      assert.deepEqual(got.fds, []);
    }
    // several queued packets come back one by one
    sendPacket(a, Buffer.from('one'));
    sendPacket(a, Buffer.from('two'));
    assert.equal((await s.recv())?.data.toString(), 'one');
    assert.equal((await s.recv())?.data.toString(), 'two');
  } finally {
    s.close();
    closeFd(a);
  }
});

test('a view into a larger buffer sends only its own bytes', async () => {
  const [a, b] = seqpacketPair();
  const s = new PacketSocket(b);
  try {
    const big = Buffer.from('xxxxhelloyyyy');
    sendPacket(a, big.subarray(4, 9));
    assert.equal((await s.recv())?.data.toString(), 'hello');
  } finally {
    s.close();
    closeFd(a);
  }
});

test('an fd passed by SCM_RIGHTS arrives open and usable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-sock-'));
  const [a, b] = seqpacketPair();
  const s = new PacketSocket(b);
  try {
    const file = join(dir, 'f');
    writeFileSync(file, 'payload');
    const fd = openSync(file, 'r');
    sendPacket(a, Buffer.from('with-fd'), [fd]);
    closeSync(fd);
    const got = await s.recv();
    assert.equal(got?.data.toString(), 'with-fd');
    assert.equal(got?.fds.length, 1);
    const buf = Buffer.alloc(7);
    assert.equal(readSync(got!.fds[0], buf, 0, 7, 0), 7);
    assert.equal(buf.toString(), 'payload');
    closeSync(got!.fds[0]);
  } finally {
    s.close();
    closeFd(a);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pending receive sees end-of-file when the peer closes its end', async () => {
  const [a, b] = seqpacketPair();
  const s = new PacketSocket(b);
  const p = s.recv();
  setTimeout(() => closeFd(a), 50);
  assert.equal(await p, null);
  s.close();
});

test('close() ends a pending receive with null; an abort rejects it with the reason', async () => {
  const [a, b] = seqpacketPair();
  const s = new PacketSocket(b);
  const p = s.recv();
  setTimeout(() => s.close(), 50);
  assert.equal(await p, null);
  assert.equal(s.closed, true);
  await assert.rejects(s.recv(), /closed/);
  closeFd(a);

  const [c, d] = seqpacketPair();
  const s2 = new PacketSocket(d);
  const ac = new AbortController();
  const q = s2.recv(ac.signal);
  setTimeout(() => ac.abort(new Error('stop')), 50);
  await assert.rejects(q, /stop/);
  // the socket still works after an aborted receive
  sendPacket(c, Buffer.from('later'));
  assert.equal((await s2.recv())?.data.toString(), 'later');
  s2.close();
  closeFd(c);
});

test('a non-waiting receive on an empty socket says so', () => {
  const [a, b] = seqpacketPair();
  try {
    assert.equal(recvPacket(b, false), 'again');
  } finally {
    closeFd(a);
    closeFd(b);
  }
});
