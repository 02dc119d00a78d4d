// The secret behind --encrypt: a key file (32 random bytes, raw or as 64 hex digits) or a
// passphrase file (stretched with scrypt). Every key cryo uses is derived from it with HKDF, one
// per purpose, so no two purposes ever share a key.
import { createHmac, hkdfSync, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CryoError } from '../errors.js';

/** Where the secret comes from. */
export type KeySpec = { keyFile: string } | { passphraseFile: string };

export interface Secret {
  kind: 'key' | 'passphrase';
  bytes: Buffer;
}

/** scrypt cost for passphrases: N = 2^15, r = 8, p = 1 (about 32 MiB, 0.1 s here). */
export const SCRYPT = { log2N: 15, r: 8, p: 1 } as const;

/** Reads the key or passphrase file; USAGE when it holds no usable secret. */
export function readSecret(spec: KeySpec): Secret {
  const path = 'keyFile' in spec ? spec.keyFile : spec.passphraseFile;
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new CryoError('USAGE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'pass a readable key file (e.g. head -c 32 /dev/urandom > key)', cause: e });
  }
  if ('passphraseFile' in spec) {
    const text = raw.toString('utf8').replace(/\r?\n$/, '');
    if (text.length < 8) throw new CryoError('USAGE', `the passphrase in ${path} is shorter than 8 characters`, { hint: 'use a longer passphrase, or a key file with 32 random bytes' });
    return { kind: 'passphrase', bytes: Buffer.from(text, 'utf8') };
  }
  if (raw.length === 32) return { kind: 'key', bytes: raw };
  const hex = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return { kind: 'key', bytes: Buffer.from(hex, 'hex') };
  throw new CryoError('USAGE', `${path} is not a key: expected 32 bytes or 64 hex digits, got ${raw.length} bytes`, {
    hint: 'make one with: head -c 32 /dev/urandom > key (or pass a passphrase with --passphrase-file)',
  });
}

/** A 32-byte key for `purpose`, bound to `salt`. */
export function deriveKey(secret: Secret, salt: Buffer, purpose: string, scrypt: { log2N: number; r: number; p: number } = SCRYPT): Buffer {
  const base = secret.kind === 'key'
    ? secret.bytes
    : scryptSync(secret.bytes, salt, 32, { N: 2 ** scrypt.log2N, r: scrypt.r, p: scrypt.p, maxmem: 256 * 2 ** scrypt.log2N * scrypt.r });
  return Buffer.from(hkdfSync('sha256', base, salt, `cryo ${purpose}`, 32));
}

/** A value that tells a wrong key from a damaged file, and reveals nothing about the key. */
export function keyCheck(checkKey: Buffer): Buffer {
  return createHmac('sha256', checkKey).update('cryo key check').digest().subarray(0, 16);
}

export function wrongKey(what: string): CryoError {
  return new CryoError('BAD_IMAGE', `cannot decrypt ${what}: wrong key or passphrase`, { hint: 'pass the --key-file (or --passphrase-file) it was encrypted with' });
}
