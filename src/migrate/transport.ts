// The TLS transport of cryo's channel: connect (source) and listen (destination), each side proving
// itself before anything else crosses. Certificates, when given, are checked both ways (mutual TLS,
// the server's name against the IP dialled); without them the server shows an ephemeral certificate
// and the token proof, bound to the session's keying material, authenticates both ends.
import { createServer as createNetServer, isIP } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { checkTokenProof, proveToken, type MigrationAuth } from './auth.js';
import { makeCertificates } from './certificates.js';
import { TlsChannel } from './channel.js';

export interface Endpoint {
  host: string;
  port: number;
}

/** "IP:PORT" (IPv6 in brackets) as an endpoint; CRIU's page server needs an IP, not a name. */
export function parseEndpoint(value: string, what: string): Endpoint {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value) ?? /^([0-9.]+):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !isIP(m[1]) || !(port > 0 && port < 65536)) {
    throw new CryoError('USAGE', `expected ${what} as IP:PORT, got '${value}'`, { hint: `e.g. ${what} 169.254.10.2:7070 (an address of this link; host names are not accepted)` });
  }
  return { host: m[1], port };
}

/** A free TCP port on `host` (bound and released: CRIU binds it right after). */
export function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const TLS_BASE = { minVersion: 'TLSv1.3' as const };

/** Connects to a destination and authenticates both ends; rejects (nothing sent) when the destination cannot prove itself. */
export async function connectChannel(to: Endpoint, auth: MigrationAuth, timeoutMs = 10_000): Promise<TlsChannel> {
  const certs = auth.ca !== undefined;
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connect({
      ...TLS_BASE,
      host: to.host,
      port: to.port,
      ...(certs ? { ca: auth.ca, cert: auth.cert, key: auth.key, rejectUnauthorized: true } : { rejectUnauthorized: false }),
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new CryoError('FAILED', `no answer from ${to.host}:${to.port} within ${timeoutMs} ms`, { hint: 'is `cryo receive --listen` running there?' }));
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(new CryoError('FAILED', `cannot reach the destination ${to.host}:${to.port}: ${e.message}`, {
        hint: /certificate|self.signed|altname/i.test(e.message) ? "the destination's certificate is not the one --ca vouches for" : 'is `cryo receive --listen` running there, on that address?',
        cause: e,
      }));
    });
  });
  const channel = new TlsChannel(socket);
  await channel.send({ t: 'auth', proof: auth.token !== undefined ? proveToken(auth.token, socket, 'source') : null });
  let answer;
  try {
    answer = await channel.next(timeoutMs);
  } catch (e) {
    channel.close();
    throw new CryoError('FAILED', 'the destination refused the migration (authentication)', { hint: 'both hosts must use the same --token-file (or certificates of one CA)', cause: e });
  }
  if (answer.t !== 'auth' || (auth.token !== undefined && !checkTokenProof(auth.token, socket, 'destination', answer.proof))) {
    channel.close();
    throw new CryoError('FAILED', answer.t === 'refused' ? `the destination refused the migration: ${String(answer.message)}` : 'the destination could not prove the token', {
      hint: 'both hosts must use the same --token-file (or certificates of one CA)',
    });
  }
  return channel;
}

export interface Listener {
  /** the next authenticated peer (unauthenticated ones are refused and dropped meanwhile) */
  accept(signal?: AbortSignal): Promise<TlsChannel>;
  /** peers refused so far */
  refused: number;
  /** the port bound (the one asked for, or the kernel's pick for 0) */
  port: number;
  close(): void;
}

/** Listens on exactly `at` (TLS); without certificates, an ephemeral one is made for its IP. */
export async function listenChannel(at: Endpoint, auth: MigrationAuth): Promise<Listener> {
  let creds = { cert: auth.cert, key: auth.key, ca: auth.ca };
  if (auth.cert === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'cryo-tls-'));
    try {
      const made = makeCertificates(dir, at.host);
      creds = { cert: made.cert, key: made.key, ca: undefined };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const certs = auth.ca !== undefined;
  const waiting: Array<(c: TlsChannel) => void> = [];
  const ready: TlsChannel[] = [];
  const listener: Listener = {
    refused: 0,
    port: at.port,
    accept(signal) {
      const c = ready.shift();
      if (c) return Promise.resolve(c);
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(new CryoError('FAILED', 'interrupted while waiting for a migration', { hint: 'nothing was received' }));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push((ch) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(ch);
        });
      });
    },
    close: () => {
      server.close();
      // peers that authenticated while a migration ran are not served: tell them by closing
      for (const c of ready.splice(0)) c.close();
    },
  };
  const server: Server = createServer({ ...TLS_BASE, cert: creds.cert, key: creds.key, ...(certs ? { ca: creds.ca, requestCert: true, rejectUnauthorized: true } : {}) }, (socket) => {
    const ch = new TlsChannel(socket);
    const refuse = (why: string) => {
      listener.refused++;
      void ch.send({ t: 'refused', message: why }).catch(() => undefined).finally(() => ch.close());
    };
    ch.next(10_000).then((m) => {
      if (m.t !== 'auth') return refuse('expected authentication first');
      if (auth.token !== undefined && !checkTokenProof(auth.token, socket, 'source', m.proof)) return refuse('wrong token');
      return ch.send({ t: 'auth', proof: auth.token !== undefined ? proveToken(auth.token, socket, 'destination') : null }).then(() => {
        const w = waiting.shift();
        if (w) w(ch);
        else ready.push(ch);
      });
    }).catch(() => ch.close());
  });
  server.on('tlsClientError', () => listener.refused++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new CryoError('FAILED', `cannot listen on ${at.host}:${at.port}: ${e.message}`, { hint: 'give an address of this host and a free port', cause: e })));
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => resolve());
  });
  listener.port = (server.address() as { port: number }).port;
  return listener;
}
