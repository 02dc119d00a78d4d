// CRIU's own binaries where RPC has no request: `criu page-server` (pages of a --no-lazy dump land
// on the destination) and `criu lazy-pages` (the destination's post-copy daemon). Each is started
// from the criu findCriu() gives, signal-shielded like swrk, with its log in a private work dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import type { CriuBinary } from '../criu/find.js';
import { firstErrors, logMessage } from '../criu/log.js';

export interface PageServerTls {
  ca: string;
  cert: string;
  key: string;
}

export interface CriuDaemon {
  child: ChildProcess;
  pid: number;
  logPath: string;
  /** resolves with the exit status (null code: killed) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL by pid, if still running */
  kill(): void;
}

function tlsArgs(tls: PageServerTls | undefined): string[] {
  return tls ? ['--tls', '--tls-cacert', tls.ca, '--tls-cert', tls.cert, '--tls-key', tls.key] : [];
}

function startDaemon(criu: CriuBinary, args: string[], logPath: string, statusFd: boolean): CriuDaemon {
  // setsid: the terminal's SIGINT must not reach CRIU in the middle of a transfer; cryo ends it by pid
  const child = spawn(criu.path, args, { stdio: ['ignore', 'ignore', 'ignore', statusFd ? 'pipe' : 'ignore'], detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  return {
    child,
    pid: child.pid ?? -1,
    logPath,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The first error of a daemon's log, for messages. */
export function daemonFailure(what: string, d: CriuDaemon, status: { code: number | null; signal: NodeJS.Signals | null }): CryoError {
  let log = '';
  try {
    log = readFileSync(d.logPath, 'utf8');
  } catch {
    /* none */
  }
  const first = firstErrors(log, 1)[0];
  const how = status.signal ? `killed by ${status.signal}` : `exit status ${status.code}`;
  return new CryoError('FAILED', `criu ${what} failed (${how})${first ? `: ${logMessage(first)}` : ''}`, { hint: `log: ${d.logPath}`, details: { logPath: d.logPath } });
}

/** `criu page-server` on `address:port` writing into `dir`; resolves once it listens (its status fd), rejects if it exits first or after `readyMs`. */
export async function startPageServer(criu: CriuBinary, o: { dir: string; workDir: string; address: string; port: number; tls?: PageServerTls; readyMs?: number }): Promise<CriuDaemon> {
  const logPath = join(o.workDir, 'page-server.log');
  const d = startDaemon(criu, ['page-server', '-D', o.dir, '-W', o.workDir, '-o', 'page-server.log', '-v4', '--address', o.address, '--port', String(o.port), '--status-fd', '3', ...tlsArgs(o.tls)], logPath, true);
  const status = d.child.stdio[3] as NodeJS.ReadableStream | null;
  const ready = new Promise<void>((resolve) => status?.once('data', () => resolve()));
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), o.readyMs ?? 10_000).unref());
  const r = await Promise.race([ready.then(() => 'ready' as const), d.exited, timeout]);
  if (r === 'ready') return d;
  d.kill();
  if (r === 'timeout') throw new CryoError('FAILED', `criu page-server did not start listening within ${o.readyMs ?? 10_000} ms`, { hint: `log: ${logPath}` });
  throw daemonFailure('page-server', d, r);
}

/** `criu lazy-pages` fetching from the source's page server at `address:port`; resolves once its socket exists in `workDir`. */
export async function startLazyPages(criu: CriuBinary, o: { dir: string; workDir: string; address: string; port: number; tls?: PageServerTls; readyMs?: number }): Promise<CriuDaemon> {
  const logPath = join(o.workDir, 'lazy-pages.log');
  const d = startDaemon(criu, ['lazy-pages', '--page-server', '-D', o.dir, '-W', o.workDir, '-o', 'lazy-pages.log', '-v4', '--address', o.address, '--port', String(o.port), ...tlsArgs(o.tls)], logPath, false);
  const deadline = Date.now() + (o.readyMs ?? 10_000);
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void d.exited.then((s) => (gone = s));
  // the restore may start only once the daemon's socket is there (DESIGN: verified)
  while (!existsSync(join(o.workDir, 'lazy-pages.socket')) && !existsSync(join(o.dir, 'lazy-pages.socket'))) {
    if (gone) throw daemonFailure('lazy-pages', d, gone);
    if (Date.now() > deadline) {
      d.kill();
      throw new CryoError('FAILED', `criu lazy-pages did not become ready within ${o.readyMs ?? 10_000} ms`, { hint: `log: ${logPath}` });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return d;
}

/**
 * Pages the lazy-pages daemon copied in on a fault vs ahead of need, read from its log (level 4):
 * "uffd: P-N: #PF at ADDR" then "uffd: P-N: uffd_copy: ADDR/LEN" for the faulting page, other
 * uffd_copy lines for the background transfer.
 */
export function lazyPageCounts(logPath: string): { onDemand: number; background: number } | null {
  let log: string;
  try {
    log = readFileSync(logPath, 'utf8');
  } catch {
    return null;
  }
  const faults = new Set<string>();
  let onDemand = 0;
  let background = 0;
  for (const m of log.matchAll(/uffd: (\d+-\d+): (?:#PF at (0x[0-9a-f]+)|uffd_copy: (0x[0-9a-f]+)\/(\d+))/g)) {
    if (m[2] !== undefined) faults.add(`${m[1]} ${m[2]}`);
    else {
      const pages = Math.ceil(Number(m[4]) / 4096);
      if (faults.delete(`${m[1]} ${m[3]}`)) onDemand += pages;
      else background += pages;
    }
  }
  return { onDemand, background };
}
