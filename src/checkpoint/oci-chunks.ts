// How image files become registry blobs: each file is cut into content-defined chunks (a gear
// rolling hash, so an inserted or removed page moves only the cuts next to it), each chunk is
// compressed by itself and, with a key, sealed with a nonce derived from its own content: equal
// chunks give equal blobs, which is what lets a second push skip what the registry already has.
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { CryoError } from '../errors.js';
import { deriveKey, keyCheck, type Secret } from './crypto-key.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

export const MIN_CHUNK = 128 << 10;
export const MAX_CHUNK = 2 << 20;
// about 512 KiB between cuts past the minimum: fewer requests (a registry pays per request) against finer dedup
const MASK = (1 << 19) - 1;

const GEAR = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) t[i] = createHash('sha256').update(`cryo gear ${i}`).digest().readUInt32LE(0);
  return t;
})();

/** The chunk boundaries of `b`: [start, end) pairs covering it, MIN_CHUNK..MAX_CHUNK each (the last may be shorter). */
export function cutChunks(b: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  while (start < b.length) {
    const limit = Math.min(b.length, start + MAX_CHUNK);
    let end = limit;
    let h = 0;
    for (let i = start + MIN_CHUNK; i < limit; i++) {
      h = ((h << 1) + GEAR[b[i]]) >>> 0;
      if ((h & MASK) === 0) {
        end = i + 1;
        break;
      }
    }
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** The keys of a registry repository's encrypted chunks (stable, so equal chunks stay equal blobs). */
export interface ChunkKeys {
  enc: Buffer;
  nonce: Buffer;
  /** hex value that tells a wrong key on pull */
  check: string;
}

export function deriveChunkKeys(secret: Secret, registry: string, repository: string): ChunkKeys {
  // the salt must not change between pushes, or nothing would dedup; it is bound to the repository
  const salt = createHash('sha256').update(`cryo oci v1\0${registry}/${repository}`).digest().subarray(0, 16);
  const base: Secret = { kind: 'key', bytes: deriveKey(secret, salt, 'oci base') };
  return {
    enc: deriveKey(base, salt, 'oci chunk v1'),
    nonce: deriveKey(base, salt, 'oci nonce v1'),
    check: keyCheck(deriveKey(base, salt, 'oci check v1')).toString('hex'),
  };
}

async function collect(src: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    n += c.length;
    if (n > limit) throw new CryoError('BAD_ARCHIVE', 'a chunk decompresses to more bytes than the manifest declares', { hint: 'the registry\'s copy is damaged or was tampered with' });
    parts.push(c);
  }
  return Buffer.concat(parts);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** Seals bytes with a nonce derived from them: nonce(12) | ciphertext | tag(16). */
export function sealDeterministic(keys: ChunkKeys, plain: Buffer): Buffer {
  const nonce = createHmac('sha256', keys.nonce).update(plain).digest().subarray(0, 12);
  const c = createCipheriv('aes-256-gcm', keys.enc, nonce);
  return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
}

export function openSealed(keys: ChunkKeys, sealed: Buffer, what: string): Buffer {
  if (sealed.length < 28) throw new CryoError('BAD_ARCHIVE', `${what} is too short to be encrypted`, { hint: 'the registry\'s copy is damaged' });
  const d = createDecipheriv('aes-256-gcm', keys.enc, sealed.subarray(0, 12));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  } catch {
    throw new CryoError('BAD_ARCHIVE', `${what} failed authentication (damaged or tampered with)`, { hint: 'push the checkpoint again' });
  }
}

/** One chunk as a blob: zstd, then sealed when `keys` are given. */
export async function encodeChunk(plain: Buffer, keys?: ChunkKeys, level = 3): Promise<Buffer> {
  const z = await collect(zstdCompress(once(plain), { level, threads: 0 }), Number.MAX_SAFE_INTEGER);
  return keys ? sealDeterministic(keys, z) : z;
}

/** The chunk's bytes back, at most `length` of them (it must be exactly that long). */
export async function decodeChunk(blob: Buffer, length: number, keys: ChunkKeys | undefined, what: string): Promise<Buffer> {
  const z = keys ? openSealed(keys, blob, what) : blob;
  let plain: Buffer;
  try {
    plain = await collect(zstdDecompress(once(z)), length);
  } catch (e) {
    if (e instanceof CryoError && e.code === 'BAD_ARCHIVE') throw e;
    throw new CryoError('BAD_ARCHIVE', `${what} is not a valid zstd chunk`, { hint: 'the registry\'s copy is damaged', cause: e });
  }
  if (plain.length !== length) throw new CryoError('BAD_ARCHIVE', `${what} holds ${plain.length} bytes, the manifest says ${length}`, { hint: 'the registry\'s copy is damaged' });
  return plain;
}
