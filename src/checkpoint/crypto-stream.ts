// Encryption at rest around an archive's byte stream (docs/encryption.md): AES-256-GCM over
// records of 64 KiB, each nonce carrying the record's number and a last-record flag (the STREAM
// construction), the header bound into every record: any flipped byte, dropped, reordered or
// truncated record fails authentication, and nothing unauthenticated is ever handed on.
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { deriveKey, keyCheck, SCRYPT, wrongKey, type Secret } from './crypto-key.js';

const ENCRYPTED_MAGIC = Buffer.from('CRYOENC1', 'latin1');
const HEADER = 56;
const RECORD = 64 << 10;
const TAG = 16;

function nonce(prefix: Buffer, counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 7);
  n.writeUInt32BE(counter, 7);
  n[11] = last ? 1 : 0;
  return n;
}

function keysFor(secret: Secret, salt: Buffer, scrypt: { log2N: number; r: number; p: number }): { enc: Buffer; check: Buffer } {
  const base = deriveKey(secret, salt, 'archive base', scrypt);
  const asKey: Secret = { kind: 'key', bytes: base };
  return { enc: deriveKey(asKey, salt, 'archive v1'), check: deriveKey(asKey, salt, 'archive check v1') };
}

/** True when `path` is a file that starts with the encrypted-archive magic. */
export function isEncryptedFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(ENCRYPTED_MAGIC.length);
    return readSync(fd, b, 0, b.length, 0) === b.length && b.equals(ENCRYPTED_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function seal(key: Buffer, n: Buffer, aad: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, n);
  c.setAAD(aad);
  const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return out;
}

/** Encrypts a byte stream under `secret`. */
export async function* encryptBytes(src: AsyncIterable<Uint8Array>, secret: Secret): AsyncGenerator<Buffer> {
  const salt = randomBytes(16);
  const prefix = randomBytes(7);
  const { enc, check } = keysFor(secret, salt, SCRYPT);
  const header = Buffer.alloc(HEADER);
  ENCRYPTED_MAGIC.copy(header, 0);
  header[8] = 1;
  header[9] = secret.kind === 'key' ? 1 : 2;
  header[10] = SCRYPT.log2N;
  header[11] = SCRYPT.r;
  header[12] = SCRYPT.p;
  salt.copy(header, 16);
  prefix.copy(header, 32);
  keyCheck(check).copy(header, 40);
  yield header;
  let pending = Buffer.alloc(0);
  let counter = 0;
  for await (const chunk of src) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    // a record is sealed as "not last" only once more data is known to follow
    while (pending.length > RECORD) {
      yield seal(enc, nonce(prefix, counter++, false), header, pending.subarray(0, RECORD));
      pending = pending.subarray(RECORD);
    }
  }
  yield seal(enc, nonce(prefix, counter, true), header, pending);
}

function damaged(what: string, record: number): CryoError {
  return new CryoError('BAD_IMAGE', `${what} is damaged or was tampered with (record ${record} failed authentication)`, {
    hint: 'use an intact copy of the archive, or dump again', details: { record },
  });
}

/** Decrypts what encryptBytes wrote; throws BAD_IMAGE (exit 4) on a wrong key, damage or truncation: BAD_ARCHIVE would read as "not an archive" to the archive reader above. */
export async function* decryptBytes(src: AsyncIterable<Uint8Array>, secret: Secret, what = 'the encrypted archive'): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  let header: Buffer | undefined;
  let key: Buffer | undefined;
  let prefix: Buffer | undefined;
  let counter = 0;
  const open = (body: Buffer, last: boolean): Buffer => {
    const d = createDecipheriv('aes-256-gcm', key!, nonce(prefix!, counter, last));
    d.setAAD(header!);
    d.setAuthTag(body.subarray(body.length - TAG));
    try {
      const out = Buffer.concat([d.update(body.subarray(0, body.length - TAG)), d.final()]);
      counter++;
      return out;
    } catch {
      throw damaged(what, counter);
    }
  };
  const readHeader = () => {
    header = Buffer.from(pending.subarray(0, HEADER));
    pending = pending.subarray(HEADER);
    if (!header.subarray(0, 8).equals(ENCRYPTED_MAGIC)) throw new CryoError('BAD_IMAGE', `${what} is not an encrypted cryo archive (bad magic)`, { hint: 'pass an archive written by cryo dump -o FILE --encrypt' });
    if (header[8] !== 1) throw new CryoError('BAD_IMAGE', `${what} uses encryption version ${header[8]}, this cryo reads 1`, { hint: 'use the cryo version that wrote it' });
    const kind = header[9] === 1 ? 'key' : header[9] === 2 ? 'passphrase' : undefined;
    if (kind !== secret.kind) throw new CryoError('BAD_IMAGE', `${what} was encrypted with a ${kind ?? 'unknown kind of'} ${kind === 'key' ? 'file' : 'secret'}, not a ${secret.kind}`, { hint: kind === 'key' ? 'pass --key-file' : 'pass --passphrase-file' });
    if (header[10] > 20 || header[11] > 16 || header[12] > 4) throw new CryoError('BAD_IMAGE', `${what} asks for an unreasonable scrypt cost`, { hint: 'the header is damaged' });
    const keys = keysFor(secret, header.subarray(16, 32), { log2N: header[10], r: header[11], p: header[12] });
    if (!timingSafeEqual(keyCheck(keys.check), header.subarray(40, 56))) throw wrongKey(what);
    key = keys.enc;
    prefix = header.subarray(32, 39);
  };
  for await (const chunk of src) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    if (!header && pending.length >= HEADER) readHeader();
    while (header && pending.length > RECORD + TAG) {
      const out = open(pending.subarray(0, RECORD + TAG), false);
      pending = pending.subarray(RECORD + TAG);
      yield out;
    }
  }
  if (!header) throw new CryoError('BAD_IMAGE', `${what} is truncated (no complete header)`, { hint: 'use a complete copy' });
  if (pending.length < TAG) throw damaged(what, counter);
  yield open(pending, true);
}
