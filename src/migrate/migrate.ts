// The source side of a live migration (cryo migrate): connect and authenticate, freeze the tree with
// CRIU (its pages to the destination's page server, or served lazily from here), send the other
// images over cryo's channel, and end this copy only once the destination reports its copy complete.
// Until then the tree is kept (stopped or frozen) and resumed on any failure.
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryoError, isCryoError } from '../errors.js';
import type { DumpStats } from '../checkpoint/meta.js';
import { readStats } from '../checkpoint/stats.js';
import { callCriu, failureFromCriu } from '../criu/call.js';
import { findCriu, type CriuBinary } from '../criu/find.js';
import { parsePid, restoreOptionsFromDump, toRpcOpts, type CriuDumpOptions } from '../criu/options.js';
import { checkCriuFeatures } from '../criu/rpc/one-shot.js';
import { listTree, ownNetns, readProcess, resolveDumpTarget, signalTree, treeMemoryBytes, waitUntilGone } from '../kernel/process.js';
import { checkAuth, type MigrationAuth } from './auth.js';
import { makeCertificates } from './certificates.js';
import type { TlsChannel } from './channel.js';
import { assertLazyPipeSize, LAZY_PIPE_MAX_SIZE, readPipeMaxSize } from './pipe-size.js';
import { connectChannel, findFreePort, parseEndpoint } from './transport.js';

/** The protocol's version; both ends must speak the same. */
export const MIGRATION_PROTOCOL = 1;

export type MigrationMode = 'lazy' | 'no-lazy';

/** Progress of a migration, in order: connected, frozen, images-sent, restored, complete, committed. */
export interface MigrationEvent {
  phase: 'connected' | 'frozen' | 'images-sent' | 'restored' | 'complete' | 'committed';
  /** ms since the migration started */
  ms: number;
}

export interface MigrateOptions extends CriuDumpOptions, MigrationAuth {
  /** the criu binary; default: findCriu() */
  criu?: string;
  /** true: post-copy (lazy pages); false: pages first through CRIU's page server; default: lazy where userfaultfd and fs.pipe-max-size allow it */
  lazy?: boolean;
  /** how long to wait for each answer of the destination, ms; default 120000 */
  answerMs?: number;
  /** how long the lazy phase may take, ms; default 600000 */
  lazyMs?: number;
  /** aborts until the destination reported its copy complete (the channel is dropped, CRIU finishes or fails, the tree is resumed here) */
  signal?: AbortSignal;
  onEvent?: (e: MigrationEvent) => void;
}

export interface MigrateResult {
  /** host pid of the process named, on this host (gone now) */
  pid: number;
  rootPid: number;
  pids: number[];
  /** "IP:PORT" of the destination */
  to: string;
  mode: MigrationMode;
  /** the tree now runs on the destination only */
  tree: 'migrated';
  /** the destination's host pids */
  destination: { pid: number; rootPid: number };
  /** tree frozen here until it runs there, ms */
  downtimeMs: number;
  /** the whole migration, connection to commit, ms */
  totalMs: number;
  /** bytes over cryo's channel plus the pages CRIU sent */
  bytesSent: number;
  /** bytes of the images sent over cryo's channel */
  imageBytes: number;
  /** bytes of memory pages CRIU sent (page server or lazily) */
  pageBytes: number;
  /** pages the destination faulted in vs fetched ahead, lazy mode; null otherwise or unknown */
  pages: { onDemand: number; background: number } | null;
  /** CRIU's stats-dump (--no-lazy; null for lazy: CRIU writes it before it serves the pages) */
  stats: DumpStats | null;
  /** why the mode is what it is, when not asked for */
  modeReason?: string;
}

const PAGE = 4096;

/** A private work dir for the images, in memory where /dev/shm exists: nothing reaches the source's disk. */
function makeWorkDir(): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, 'cryo-migrate-'));
}

/** Picks the mode: --lazy must work (else an ENVIRONMENT error), the default falls back to --no-lazy with a reason. */
async function chooseMode(criu: CriuBinary, lazy: boolean | undefined): Promise<{ mode: MigrationMode; reason?: string }> {
  if (lazy === false) return { mode: 'no-lazy' };
  const uffd = (await checkCriuFeatures(criu, { lazyPages: true })).lazy_pages;
  if (lazy === true) {
    if (!uffd) throw new CryoError('ENVIRONMENT', 'lazy migration needs userfaultfd, which this kernel or CRIU lacks', { hint: 'migrate with --no-lazy' });
    assertLazyPipeSize('source');
    return { mode: 'lazy' };
  }
  if (!uffd) return { mode: 'no-lazy', reason: 'userfaultfd is not available here' };
  const size = readPipeMaxSize();
  if (size !== undefined && size < LAZY_PIPE_MAX_SIZE) return { mode: 'no-lazy', reason: `fs.pipe-max-size is ${size} (lazy pages need ${LAZY_PIPE_MAX_SIZE}: sysctl -w fs.pipe-max-size=${LAZY_PIPE_MAX_SIZE})` };
  return { mode: 'lazy' };
}

/** Waits until CRIU writes its status byte into the status file (the lazy page server listens), or the dump ends first. */
async function waitStatus(fd: number, dump: Promise<unknown>): Promise<void> {
  let done = false;
  let failed: unknown;
  dump.then(() => (done = true), (e) => { done = true; failed = e; });
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    if (fstatSync(fd).size > 0) return;
    if (done) {
      if (failed) throw failed;
      return;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Sends every image file of `dir` (regular files, not CRIU's log) as one frame each; returns the bytes. */
async function sendImages(channel: TlsChannel, dir: string): Promise<number> {
  let bytes = 0;
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.log') || !lstatSync(join(dir, name)).isFile()) continue;
    const data = readFileSync(join(dir, name));
    bytes += data.length;
    await channel.sendFile(name, data);
  }
  await channel.send({ t: 'images-done' });
  return bytes;
}

/** Moves the tree of `pid` to the `cryo receive` listening at `to` ("IP:PORT"); see docs/migration.md for which copy runs after each failure. */
export async function migrate(pid: number, to: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const t0 = performance.now();
  const since = () => Math.round((performance.now() - t0) * 10) / 10;
  const event = (phase: MigrationEvent['phase']) => opts.onEvent?.({ phase, ms: since() });
  pid = parsePid(pid);
  const peer = parseEndpoint(to, '--to');
  checkAuth(opts, 'migrate');
  const proc = readProcess(pid);
  if (!proc || proc.state === 'Z' || proc.state === 'X') {
    throw new CryoError('NO_PROCESS', proc ? `process ${pid} has already exited (zombie)` : `no process with pid ${pid}`, { hint: 'check the pid with `ps`; `cryo run` prints the pid of the tree it starts', details: { pid } });
  }
  const target = resolveDumpTarget(pid);
  const netns = ownNetns(target.rootPid);
  const criuOpts = toRpcOpts('dump', opts, { needsLock: netns });
  const criu = findCriu({ criu: opts.criu });
  const { mode, reason } = await chooseMode(criu, opts.lazy);
  const answerMs = opts.answerMs ?? 120_000;

  const channel = await connectChannel(peer, opts);
  event('connected');
  const work = makeWorkDir();
  // killing CRIU mid-dump can wreck the tree (its parasite is inside): an abort drops the channel
  // instead, the destination gives up, CRIU fails or finishes, and the tree is resumed
  const abort = new AbortController();
  const onAbort = () => channel.socket.destroy();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let statusFd: number | undefined;
  let dumpP: Promise<unknown> | undefined;
  let pids: number[] = [];
  let committed = false;
  try {
    const psHost = mode === 'lazy' ? channel.socket.localAddress! : peer.host;
    const tlsDir = join(work, 'tls');
    mkdirSync(tlsDir, { mode: 0o700 });
    const certs = makeCertificates(tlsDir, psHost);
    const lazyPort = mode === 'lazy' ? await findFreePort(psHost) : undefined;
    await channel.send({
      t: 'hello',
      protocol: MIGRATION_PROTOCOL,
      mode,
      tls: certs,
      tree: { pid: target.pid, rootPid: target.rootPid, pidns: target.pidns, nsPid: target.nsPid ?? null, memoryBytes: treeMemoryBytes(target.rootPid) },
      restoreOptions: restoreOptionsFromDump(opts),
      ...(mode === 'lazy' ? { pageServer: { address: psHost, port: lazyPort } } : {}),
    });
    const ready = await channel.expect('ready', answerMs);
    const psPort = mode === 'lazy' ? lazyPort! : Number(ready.port);
    if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted before the tree was touched', { hint: 'nothing was changed' });
    if (!channel.open) throw new CryoError('FAILED', 'the destination went away before the tree was touched', { hint: 'nothing was changed' });

    // CRIU freezes the tree; it resumes it itself if the dump fails
    const imagesDir = join(work, 'images');
    mkdirSync(imagesDir, { mode: 0o700 });
    if (mode === 'lazy') statusFd = openSync(join(work, 'status'), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const tFreeze = performance.now();
    dumpP = callCriu(criu, {
      type: 'DUMP',
      opts: {
        ...criuOpts,
        pid: target.rootPid,
        log_file: 'dump.log',
        leave_stopped: true,
        ps: { address: psHost, port: psPort },
        tls: true,
        tls_cacert: join(tlsDir, 'ca.pem'),
        tls_cert: join(tlsDir, 'cert.pem'),
        tls_key: join(tlsDir, 'key.pem'),
        ...(mode === 'lazy' ? { lazy_pages: true, status_fd: statusFd } : {}),
      },
    }, { imagesDir, signal: abort.signal });
    dumpP.catch(() => undefined);
    try {
      if (mode === 'lazy') await waitStatus(statusFd!, dumpP);
      else await dumpP;
    } catch (e) {
      throw failureFromCriu('dump', e, join(imagesDir, 'dump.log'), { pid: target.pid, rootPid: target.rootPid, running: true });
    }
    pids = listTree(target.rootPid);
    event('frozen');
    const imageBytes = await sendImages(channel, imagesDir);
    event('images-sent');
    const restored = await channel.expect('restored', answerMs);
    const tUp = performance.now();
    event('restored');
    const complete = await channel.expect('complete', mode === 'lazy' ? (opts.lazyMs ?? 600_000) : answerMs);
    if (mode === 'lazy') {
      try {
        await dumpP;
      } catch (e) {
        throw failureFromCriu('dump', e, join(imagesDir, 'dump.log'), { pid: target.pid, rootPid: target.rootPid });
      }
    }
    event('complete');
    // the destination holds a complete copy: end this one, then let the destination run for good
    committed = true;
    // past this point an interruption would only leave the destination unsure: finish the handshake
    opts.signal?.removeEventListener('abort', onAbort);
    signalTree(pids, 'SIGKILL');
    await waitUntilGone(pids, 5000);
    await channel.send({ t: 'commit' }).catch(() => undefined);
    try {
      await channel.expect('running', answerMs);
    } catch (e) {
      throw new CryoError('FAILED', "the destination did not confirm that its copy runs; this host's copy has ended", {
        hint: `on the destination, \`cryo resume ${Number(restored.rootPid)}\` resumes its copy if \`cryo receive\` left it stopped`,
        cause: e,
        details: { destination: { pid: restored.pid, rootPid: restored.rootPid } },
      });
    }
    const tRun = performance.now();
    event('committed');
    const stats = readStats(imagesDir).dump ?? null;
    const pages = (complete.pages as MigrateResult['pages']) ?? null;
    // a lazy dump's stats count no pages (CRIU serves them after writing stats): the destination counted them
    const pagesSent = mode === 'lazy' ? (pages ? pages.onDemand + pages.background : 0) : (stats?.pages_written ?? 0);
    return {
      pid: target.pid,
      rootPid: target.rootPid,
      pids,
      to: `${peer.host}:${peer.port}`,
      mode,
      tree: 'migrated',
      destination: { pid: Number(restored.pid), rootPid: Number(restored.rootPid) },
      downtimeMs: Math.round(((mode === 'lazy' ? tUp : tRun) - tFreeze) * 10) / 10,
      totalMs: since(),
      bytesSent: channel.bytesSent + pagesSent * PAGE,
      imageBytes,
      pageBytes: pagesSent * PAGE,
      pages,
      stats: mode === 'lazy' ? null : stats,
      ...(reason ? { modeReason: reason } : {}),
    };
  } catch (e) {
    if (committed) throw e;
    throw await resumeSource(e, channel, dumpP, abort, pids, target.rootPid);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    channel.close();
    if (statusFd !== undefined) closeSync(statusFd);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Any failure before the commit: tell the destination, let CRIU finish (it resumes on failure), and resume what it left stopped. */
async function resumeSource(e: unknown, channel: TlsChannel, dumpP: Promise<unknown> | undefined, abort: AbortController, pids: number[], rootPid: number): Promise<unknown> {
  if (channel.open) await channel.send({ t: 'failed', message: isCryoError(e) ? e.message : String(e) }).catch(() => undefined);
  channel.close();
  if (dumpP) {
    // a lazy dump serves pages until the destination's daemon goes; bound the wait, then kill CRIU
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([dumpP.then(() => true, () => true), new Promise((r) => (timer = setTimeout(() => r(false), 15_000)))]);
    clearTimeout(timer);
    if (!settled) abort.abort();
    await dumpP.catch(() => undefined);
  }
  const all = pids.length > 0 ? pids : listTree(rootPid);
  signalTree(all, 'SIGCONT');
  if (!isCryoError(e)) return e;
  const touched = dumpP !== undefined;
  return new CryoError(e.code, `migration failed: ${e.message.replace(/^destination: /, 'the destination said: ')}`, {
    hint: touched ? `${e.hint ? `${e.hint}; ` : ''}the tree was resumed here and runs as before` : (e.hint ?? 'nothing was changed'),
    cause: e.cause ?? e,
    details: { ...e.details, resumed: touched },
    exitCode: e.exitCode,
  });
}
