// The destination side of a live migration (cryo receive): listen on exactly the address given,
// authenticate the source, take the images (the pages through CRIU's page server, or lazily through
// CRIU's lazy-pages daemon), restore, and run the copy for good only once the source has ended its
// own. A guard outlives this process: if cryo receive dies mid-way, the half-migrated copy is killed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryoError, isCryoError } from '../errors.js';
import { callCriu, failureFromCriu } from '../criu/call.js';
import { findCriu, type CriuBinary } from '../criu/find.js';
import { toRpcOpts } from '../criu/options.js';
import { checkCriuFeatures } from '../criu/rpc/one-shot.js';
import { findInNamespace, listTree, signalTree } from '../kernel/process.js';
import { childPids } from '../kernel/run.js';
import { checkAuth, type MigrationAuth } from './auth.js';
import { writeCertificates, type CertificateSet } from './certificates.js';
import type { ChannelMessage, TlsChannel } from './channel.js';
import { daemonFailure, lazyPageCounts, startLazyPages, startPageServer, type CriuDaemon } from './criu-daemons.js';
import { TreeGuard } from './guard.js';
import { MIGRATION_PROTOCOL, type MigrationMode } from './migrate.js';
import { assertLazyPipeSize } from './pipe-size.js';
import { findFreePort, listenChannel, parseEndpoint, type Listener } from './transport.js';

export interface ReceiveOptions extends MigrationAuth {
  /** the criu binary; default: findCriu() */
  criu?: string;
  /** kill a restore that has not answered after this many ms (a lazy restore can hang); default 120000 */
  restoreTimeoutMs?: number;
  /** how long the lazy phase may take, ms; default 600000 */
  lazyMs?: number;
  /** how long to wait for each message of the source, ms; default 120000 */
  answerMs?: number;
  /** aborts the wait, and any migration not committed yet (its copy here is killed) */
  signal?: AbortSignal;
  onEvent?: (e: { phase: 'listening' | 'accepted' | 'images-received' | 'restored' | 'complete' | 'committed'; ms: number }) => void;
}

export interface ReceiveResult {
  /** host pid of the restored process the user knows (the command under cryo's init), else the root */
  pid: number;
  rootPid: number;
  pidns: boolean;
  /** "IP:PORT" of the source */
  from: string;
  mode: MigrationMode;
  /** connection to commit, ms */
  wallMs: number;
  /** CRIU's restore, ms */
  criuMs: number;
  /** bytes of images received over cryo's channel */
  imageBytes: number;
  pages: { onDemand: number; background: number } | null;
  /** unauthenticated peers refused while waiting */
  refused: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Waits on `listen` ("IP:PORT") for one authenticated migration and completes it. */
export async function receive(listen: string, opts: ReceiveOptions = {}): Promise<ReceiveResult> {
  const at = parseEndpoint(listen, '--listen');
  checkAuth(opts, 'receive');
  const criu = findCriu({ criu: opts.criu });
  const listener = await listenChannel(at, opts);
  const t0 = performance.now();
  opts.onEvent?.({ phase: 'listening', ms: 0 });
  try {
    const channel = await listener.accept(opts.signal);
    return await receiveOn(channel, criu, opts, listener, t0);
  } finally {
    listener.close();
  }
}

async function refuse(channel: TlsChannel, e: unknown): Promise<never> {
  const err = isCryoError(e) ? e : new CryoError('FAILED', String((e as Error)?.message ?? e));
  if (channel.open) await channel.send({ t: 'refused', code: err.code, message: err.message, hint: err.hint }).catch(() => undefined);
  channel.close();
  throw err;
}

async function receiveOn(channel: TlsChannel, criu: CriuBinary, opts: ReceiveOptions, listener: Listener, t0: number): Promise<ReceiveResult> {
  const since = () => Math.round((performance.now() - t0) * 10) / 10;
  const event = (phase: Parameters<NonNullable<ReceiveOptions['onEvent']>>[0]['phase']) => opts.onEvent?.({ phase, ms: since() });
  event('accepted');
  const answerMs = opts.answerMs ?? 120_000;
  const from = `${channel.socket.remoteAddress}:${channel.socket.remotePort}`;
  const hello = await channel.expect('hello', answerMs).catch((e) => refuse(channel, e));
  const mode = hello.mode === 'lazy' ? 'lazy' : 'no-lazy';
  const work = mkdtempSync(join(tmpdir(), 'cryo-receive-'));
  const guard = new TreeGuard(work);
  let pageServer: CriuDaemon | undefined;
  let lazyDaemon: CriuDaemon | undefined;
  let pids: number[] = [];
  let complete = false;
  // a failed restore keeps CRIU's logs (the error names them); the images and certificates always go
  let keepLogs = false;
  const onAbort = () => channel.socket.destroy();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let tls;
    let restoreOpts: Record<string, unknown>;
    try {
      if (hello.protocol !== MIGRATION_PROTOCOL) throw new CryoError('FAILED', `the source speaks migration protocol ${String(hello.protocol)}, this cryo ${MIGRATION_PROTOCOL}`, { hint: 'run the same cryo version on both hosts' });
      if (mode === 'lazy') {
        assertLazyPipeSize('destination');
        if (!(await checkCriuFeatures(criu, { lazyPages: true })).lazy_pages) throw new CryoError('ENVIRONMENT', 'lazy migration needs userfaultfd, which the destination lacks', { hint: 'migrate with --no-lazy' });
      }
      restoreOpts = toRpcOpts('restore', (hello.restoreOptions ?? {}) as Record<string, unknown>, { needsLock: false });
      for (const d of ['images', 'criu', 'tls']) mkdirSync(join(work, d), { mode: 0o700 });
      tls = writeCertificates(join(work, 'tls'), hello.tls as CertificateSet);
      if (mode === 'no-lazy') {
        const address = channel.socket.localAddress!;
        const port = await findFreePort(address);
        pageServer = await startPageServer(criu, { dir: join(work, 'images'), workDir: join(work, 'criu'), address, port, tls });
        guard.killOnDeath([pageServer.pid]);
        await channel.send({ t: 'ready', port });
      } else {
        await channel.send({ t: 'ready' });
      }
    } catch (e) {
      pageServer?.kill();
      guard.release();
      return await refuse(channel, e);
    }
    const imagesDir = join(work, 'images');
    const workDir = join(work, 'criu');

    // the images; in --no-lazy the pages arrive meanwhile through the page server
    let imageBytes = 0;
    for (;;) {
      const m = await channel.next(answerMs);
      if (m.t === 'images-done') break;
      if (m.t === 'failed') throw new CryoError('FAILED', `the source gave up: ${String(m.message)}`, { hint: 'the tree still runs on the source' });
      if (m.t !== 'file' || typeof m.name !== 'string' || !NAME.test(m.name) || !Buffer.isBuffer(m.data)) throw new CryoError('FAILED', 'migration protocol: expected an image file', { hint: 'run the same cryo version on both hosts' });
      const data = m.data;
      imageBytes += data.length;
      writeFileSync(join(imagesDir, m.name), data, { mode: 0o600, flag: 'wx' });
    }
    if (pageServer) {
      const st = await Promise.race([pageServer.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), answerMs).unref())]);
      if (st === 'timeout') throw new CryoError('FAILED', 'criu page-server did not finish after the source sent its images', { hint: `log: ${pageServer.logPath}` });
      if (st.code !== 0) throw daemonFailure('page-server', pageServer, st);
    }
    event('images-received');
    const tree = hello.tree as { pidns?: boolean; nsPid?: number | null };
    if (mode === 'lazy') {
      const ps = hello.pageServer as { address: string; port: number };
      lazyDaemon = await startLazyPages(criu, { dir: imagesDir, workDir, address: ps.address, port: ps.port, tls });
      guard.killOnDeath([lazyDaemon.pid]);
    }

    // restore: stopped for --no-lazy (it runs once the source has ended its copy), running for --lazy
    const t1 = performance.now();
    let rootPid: number;
    try {
      const resp = await callCriu(criu, {
        type: 'RESTORE',
        opts: { ...restoreOpts, log_file: 'restore.log', ...(mode === 'lazy' ? { lazy_pages: true } : { leave_stopped: true }) },
      }, { imagesDir, workDir, signal: AbortSignal.timeout(opts.restoreTimeoutMs ?? 120_000) });
      rootPid = Number(resp.restore?.pid);
    } catch (e) {
      keepLogs = true;
      throw failureFromCriu('restore', e, join(workDir, 'restore.log'), {});
    }
    const criuMs = Math.round((performance.now() - t1) * 10) / 10;
    pids = listTree(rootPid);
    guard.killOnDeath(pids);
    const pid = tree.pidns ? ((typeof tree.nsPid === 'number' ? findInNamespace(rootPid, tree.nsPid) : undefined) ?? childPids(rootPid)[0] ?? rootPid) : rootPid;
    await channel.send({ t: 'restored', pid, rootPid });
    event('restored');

    // the source sends nothing until we report complete: a message or a closed channel now is a failure
    const nextMsg = channel.next();
    nextMsg.catch(() => undefined);
    let pages: ReceiveResult['pages'] = null;
    if (lazyDaemon) {
      const lazyMs = opts.lazyMs ?? 600_000;
      const r = await Promise.race([
        lazyDaemon.exited,
        nextMsg.then((m: ChannelMessage) => ({ msg: m }), (e: unknown) => ({ lost: e })),
        new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), lazyMs).unref()),
      ]);
      if (r === 'timeout') throw new CryoError('FAILED', `the lazy phase took longer than ${lazyMs} ms`, { hint: 'the copy here was killed; the tree was resumed on the source' });
      if ('lost' in r) throw new CryoError('FAILED', 'the source went away during the lazy phase', { hint: 'the copy here was killed (its pages were incomplete); the source resumes its tree', cause: r.lost });
      if ('msg' in r) throw new CryoError('FAILED', `the source ended the migration during the lazy phase${r.msg.t === 'failed' ? `: ${String(r.msg.message)}` : ''}`, { hint: 'the copy here was killed; the source resumes its tree' });
      if (r.code !== 0) throw daemonFailure('lazy-pages', lazyDaemon, r);
      pages = lazyPageCounts(lazyDaemon.logPath);
    }
    // complete: from here on this copy is never killed; in doubt it is stopped, never run twice
    complete = true;
    guard.stopOnDeath(pids);
    await channel.send({ t: 'complete', pages });
    event('complete');
    let commit: ChannelMessage | undefined;
    try {
      commit = await Promise.race([nextMsg, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), answerMs).unref())]);
    } catch {
      commit = undefined;
    }
    if (commit?.t !== 'commit') {
      if (mode === 'lazy') signalTree(pids, 'SIGSTOP');
      guard.release();
      throw new CryoError('FAILED', 'the source did not confirm that it ended its copy; the copy here is kept stopped', {
        hint: `if the tree no longer runs on the source, resume it here with: cryo resume ${rootPid}`,
        details: { pid, rootPid, stopped: true },
      });
    }
    if (mode === 'no-lazy') signalTree(pids, 'SIGCONT');
    guard.release();
    await channel.send({ t: 'running' }).catch(() => undefined);
    event('committed');
    return { pid, rootPid, pidns: Boolean(tree.pidns), from, mode, wallMs: since(), criuMs, imageBytes, pages, refused: listener.refused };
  } catch (e) {
    if (!complete) {
      // pages missing or never confirmed: this copy must not run
      if (pids.length > 0) signalTree(pids, 'SIGKILL');
      lazyDaemon?.kill();
      pageServer?.kill();
      guard.release();
      if (channel.open) await channel.send({ t: 'failed', message: isCryoError(e) ? e.message : String(e), hint: isCryoError(e) ? `on the destination: ${e.hint}` : undefined }).catch(() => undefined);
    }
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    channel.close();
    await Promise.all([lazyDaemon?.exited, pageServer?.exited]);
    if (keepLogs) for (const d of ['images', 'tls']) rmSync(join(work, d), { recursive: true, force: true });
    else rmSync(work, { recursive: true, force: true });
  }
}
