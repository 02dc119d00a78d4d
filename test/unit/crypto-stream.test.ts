// Encrypted archives: a round trip in odd-sized pieces, and every kind of damage refused with exit
// 4 (a wrong key, a flipped byte anywhere, a cut at a record boundary, records swapped).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSecret, type Secret } from '../../src/checkpoint/crypto-key.js';
import { decryptBytes, encryptBytes } from '../../src/checkpoint/crypto-stream.js';
import { CryoError } from '../../src/errors.js';

const RECORD = 64 << 10;

async function* pieces(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function all(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of src) out.push(c);
  return Buffer.concat(out);
}

const key: Secret = { kind: 'key', bytes: randomBytes(32) };
const plain = randomBytes(3 * RECORD + 1234);

async function refused(sealed: Buffer, secret: Secret, message: RegExp): Promise<void> {
  await assert.rejects(all(decryptBytes(pieces(sealed, 7777), secret)), (e: unknown) => e instanceof CryoError && e.exitCode === 4 && message.test(e.message));
}

test('a round trip gives the same bytes, whatever the input piece sizes; empty input too', async () => {
  const sealed = await all(encryptBytes(pieces(plain, 1000), key));
  assert.ok(!sealed.includes(plain.subarray(0, 64)), 'the plaintext does not show');
  assert.ok((await all(decryptBytes(pieces(sealed, 65599), key))).equals(plain));
  const empty = await all(encryptBytes(pieces(Buffer.alloc(0), 1), key));
  assert.equal((await all(decryptBytes(pieces(empty, 3), key))).length, 0);
});

test('a wrong key, a flipped byte, a cut and swapped records are refused with exit 4', async () => {
  const sealed = await all(encryptBytes(pieces(plain, 1 << 20), key));
  await refused(sealed, { kind: 'key', bytes: randomBytes(32) }, /wrong key/);
  for (const at of [60, 100, RECORD + 56 + 5, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at] ^= 1;
    await refused(bad, key, /damaged or was tampered with/);
  }
  // cut exactly after a record: the last record left was not sealed as the last one
  await refused(sealed.subarray(0, 56 + 2 * (RECORD + 16)), key, /record 1 failed/);
  const rec = (i: number) => sealed.subarray(56 + i * (RECORD + 16), 56 + (i + 1) * (RECORD + 16));
  const swapped = Buffer.concat([sealed.subarray(0, 56), rec(1), rec(0), sealed.subarray(56 + 2 * (RECORD + 16))]);
  await refused(swapped, key, /record 0 failed/);
});

test('passphrases are stretched and must match; key files hold 32 bytes or 64 hex digits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-crypto-'));
  try {
    writeFileSync(join(dir, 'pass'), 'correct horse battery\n');
    writeFileSync(join(dir, 'other'), 'wrong horse battery\n');
    writeFileSync(join(dir, 'hex'), `${'ab'.repeat(32)}\n`);
    writeFileSync(join(dir, 'short'), 'abc');
    const pass = readSecret({ passphraseFile: join(dir, 'pass') });
    const sealed = await all(encryptBytes(pieces(plain.subarray(0, 5000), 999), pass));
    assert.ok((await all(decryptBytes(pieces(sealed, 100), pass))).equals(plain.subarray(0, 5000)));
    await refused(sealed, readSecret({ passphraseFile: join(dir, 'other') }), /wrong key/);
    await refused(sealed, key, /not a key/);
    assert.deepEqual(readSecret({ keyFile: join(dir, 'hex') }).bytes, Buffer.alloc(32, 0xab));
    assert.throws(() => readSecret({ keyFile: join(dir, 'short') }), (e: unknown) => e instanceof CryoError && e.exitCode === 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
