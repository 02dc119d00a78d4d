// Who may talk to whom: TLS for cryo's channel (a certificate pair with a CA, or an ephemeral
// server certificate), and a pre-shared token proved by both sides as an HMAC over the TLS
// session's exported keying material, so a proof cannot be replayed or relayed by a man in the middle.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { CryoError } from '../errors.js';

export interface MigrationAuth {
  /** the pre-shared token (the contents of --token-file) */
  token?: string;
  /** PEM: this side's certificate, its key, and the CA the peer's certificate must chain to */
  cert?: string;
  key?: string;
  ca?: string;
}

/** Reads a token file: at least 16 bytes, readable by its owner only. */
export function readTokenFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new CryoError('USAGE', `cannot read the token file ${path}: ${(e as Error).message}`, { hint: 'create one with: head -c 32 /dev/urandom | base64 > token; chmod 600 token' });
  }
  if ((st.mode & 0o077) !== 0) throw new CryoError('USAGE', `the token file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, { hint: `chmod 600 ${path}` });
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 16) throw new CryoError('USAGE', `the token in ${path} is too short (${token.length} characters, want at least 16)`, { hint: 'create one with: head -c 32 /dev/urandom | base64 > token' });
  return token;
}

/** Refuses a configuration that would not authenticate the peer. */
export function checkAuth(auth: MigrationAuth, side: 'migrate' | 'receive'): void {
  const certs = [auth.cert, auth.key, auth.ca].filter((x) => x !== undefined).length;
  if (certs !== 0 && certs !== 3) throw new CryoError('USAGE', '--cert, --key and --ca go together', { hint: `give all three to cryo ${side}, or none and --token-file` });
  if (certs === 0 && auth.token === undefined) {
    throw new CryoError('USAGE', 'refusing an unauthenticated migration', { hint: `give cryo ${side} --token-file FILE (the same file on both hosts), or --cert/--key/--ca` });
  }
}

/** This side's proof of the token over this TLS session. */
export function proveToken(token: string, socket: TLSSocket, role: 'source' | 'destination'): string {
  const ekm = socket.exportKeyingMaterial(32, 'EXPORTER-cryo-migrate', Buffer.alloc(0));
  return createHmac('sha256', token).update(role).update(ekm).digest('base64');
}

/** Whether the peer's proof is right (constant time). */
export function checkTokenProof(token: string, socket: TLSSocket, role: 'source' | 'destination', proof: unknown): boolean {
  if (typeof proof !== 'string') return false;
  const want = Buffer.from(proveToken(token, socket, role));
  const got = Buffer.from(proof);
  return got.length === want.length && timingSafeEqual(got, want);
}
