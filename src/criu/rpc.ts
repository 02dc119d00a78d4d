// CRIU's RPC client: `criu swrk 3` over a SOCK_SEQPACKET socketpair, one criu_req / criu_resp per packet.
//
// API (plain objects with rpc.proto's field names; types in rpc-types.ts):
//   criuCall(criu, req, {hooks, signal, timeoutMs, imagesDir, logDir, logFile, errorCode, what})
//       one request on a fresh CRIU: spawns swrk, sends req, answers NOTIFYs through hooks until the
//       final answer, reaps CRIU. imagesDir/logDir are opened here and passed as images_dir_fd /
//       work_dir_fd (CRIU reopens them through /proc/<our pid>/fd/<n>), then closed.
//       Resolves with the criu_resp; a failure answer throws CryoError(errorCode ?? 'RPC') with
//       details {crErrno, crErrmsg, logPath, logErrors}.
//   getCriuVersion(criu) → {version: "4.2.1", major_number, ...}
//   checkCriu(criu, {logDir?}) → {ok, error?}           (CRIU's own `criu check`; error is ENVIRONMENT)
//   checkCriuFeatures(criu, {memTrack, lazyPages, pidfdStore}) → {mem_track, lazy_pages, pidfd_store}
//   openCriu(criu, {stderr, env}) → CriuConnection: request(req, opts) one at a time (keep_open keeps
//       CRIU's loop going), close() reaps CRIU (killing it after a grace period).
//   openDumpSession(criu) → CriuDumpSession: preDump(opts, callOpts)... then dump(opts, callOpts) on
//       one CRIU, as CRIU's pre-dump loop expects.
//   openDirFd(dir) → {fd, close()}: a directory fd for images_dir_fd / work_dir_fd.
//   criuFailure(resp, {code, what, logPath}) / describeErrno(3) → "ESRCH (No such process)".
// Errors: CRIU exiting early → "criu exited before answering the DUMP request (exit status 1): <stderr>";
// an invalid answer or a type mismatch → code 'RPC' (CRIU killed); a missing binary → NO_CRIU.
// No thread blocks: receives wait on an event-loop poll handle (src/kernel/socket.ts).
// Hooks (CriuHooks): onNotify(script, {pid, fd}) plus named hooks (preDump, postDump, preRestore,
// postRestore, networkLock, networkUnlock, setupNamespaces, postSetupNamespaces, preResume, postResume,
// orphanPtsMaster, statusReady). notify_scripts is set only when a hook is given. A hook that throws makes
// cryo answer notify_success=false; the request then fails with the hook's error as cause.
// Cancellation: signal / timeoutMs kill CRIU by pid (SIGKILL), reap it, and reject with CryoError.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryoError, usageError, type ErrorCode } from '../errors.js';
import { closeFd, PacketSocket, seqpacketPair, strerror, SyscallError } from '../kernel/socket.js';
import { isHarmlessLogLine, logMessage, readCriuLog } from './log.js';
import { decodeCriuRequest, decodeCriuResponse, encodeCriuRequest, encodeCriuResponse } from './rpc-codec.js';
import { isExecutable } from './find.js';
import type {
  CriuFeatures,
  CriuHook,
  CriuHooks,
  CriuNotifyInfo,
  CriuOpts,
  CriuRequest,
  CriuResponse,
  CriuVersionInfo,
} from './rpc-types.js';

export type * from './rpc-types.js';

/** What the client needs of a CRIU binary (a CriuBinary from findCriu() fits). */
export interface CriuPath {
  path: string;
}

// ---------------------------------------------------------------- codec

// rpc-codec.ts encodes and decodes the messages
export { decodeCriuRequest, decodeCriuResponse, encodeCriuRequest, encodeCriuResponse };

// ---------------------------------------------------------------- errors

// Node's table lacks Linux-only names CRIU uses (e.g. EBADRQC for a request without an images dir)
const LINUX_ERRNO: Record<string, number> = {
  ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48, EUNATCH: 49, ENOCSI: 50, EL2HLT: 51,
  EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56, EBADSLT: 57, EBFONT: 59, ENONET: 64,
  ENOPKG: 65, EREMOTE: 66, EADV: 68, ESRMNT: 69, ECOMM: 70, EDOTDOT: 73, ENOTUNIQ: 76, EBADFD: 77,
  EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80, ELIBSCN: 81, ELIBMAX: 82, ELIBEXEC: 83, ERESTART: 85,
  ESTRPIPE: 86, EUSERS: 87, ESOCKTNOSUPPORT: 94, EPFNOSUPPORT: 96, ESHUTDOWN: 108, ETOOMANYREFS: 109,
  EHOSTDOWN: 112, EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119, EISNAM: 120, EREMOTEIO: 121, ENOMEDIUM: 123,
  EMEDIUMTYPE: 124, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129, ERFKILL: 132,
  EHWPOISON: 133,
};
const ERRNO_NAMES = new Map<number, string>(
  Object.entries({ ...LINUX_ERRNO, ...osConstants.errno }).map(([k, v]) => [v, k]),
);

/** 3 → "ESRCH (No such process)". */
export function describeErrno(errnum: number): string {
  const name = ERRNO_NAMES.get(errnum) ?? `errno ${errnum}`;
  let text = '';
  try {
    text = strerror(errnum);
  } catch {
    // no libc binding: the name alone is still useful
  }
  return text ? `${name} (${text})` : name;
}

export interface CriuFailureDetails {
  crErrno?: number;
  crErrmsg?: string;
  logPath?: string;
  logErrors: string[];
  [k: string]: unknown;
}

function logFacts(logPath: string | undefined): { logPath?: string; logErrors: string[] } {
  if (!logPath) return { logErrors: [] };
  return { logPath, logErrors: readCriuLog(logPath).errors };
}

/** The CryoError for a criu_resp with success=false. */
export function criuFailure(
  resp: CriuResponse,
  opts: { code?: ErrorCode; what?: string; logPath?: string } = {},
): CryoError {
  const facts = logFacts(opts.logPath);
  const parts: string[] = [];
  if (resp.cr_errno) parts.push(describeErrno(resp.cr_errno));
  // CRIU's errmsg is the first error it logged, which here is often the harmless RLIMIT_NOFILE line
  const errmsg = resp.cr_errmsg && !isHarmlessLogLine(resp.cr_errmsg) ? logMessage(resp.cr_errmsg) : '';
  if (errmsg) parts.push(errmsg);
  else if (facts.logErrors.length > 0) parts.push(logMessage(facts.logErrors[0]));
  const what = opts.what ?? `criu ${resp.type.toLowerCase().replace(/_/g, '-')}`;
  const message = `${what} failed${parts.length ? `: ${parts.join(': ')}` : ''}`;
  const details: CriuFailureDetails = {
    crErrno: resp.cr_errno,
    crErrmsg: resp.cr_errmsg,
    ...facts,
  };
  return new CryoError(opts.code ?? 'RPC', oneLine(message), {
    hint: facts.logPath ? `see CRIU's log: ${facts.logPath}` : 'pass a log directory (and a higher log level) to see why',
    details: details as Record<string, unknown>,
  });
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

// ---------------------------------------------------------------- hooks

const NAMED_HOOKS: Record<string, keyof CriuHooks> = {
  'pre-dump': 'preDump',
  'post-dump': 'postDump',
  'pre-restore': 'preRestore',
  'post-restore': 'postRestore',
  'network-lock': 'networkLock',
  'network-unlock': 'networkUnlock',
  'setup-namespaces': 'setupNamespaces',
  'post-setup-namespaces': 'postSetupNamespaces',
  'pre-resume': 'preResume',
  'post-resume': 'postResume',
  'orphan-pts-master': 'orphanPtsMaster',
  'status-ready': 'statusReady',
};

function hasHooks(h: CriuHooks | undefined): h is CriuHooks {
  return !!h && Object.values(h).some((v) => typeof v === 'function');
}

async function runHooks(hooks: CriuHooks | undefined, script: string, info: CriuNotifyInfo): Promise<void> {
  if (!hooks) return;
  await hooks.onNotify?.(script, info);
  const name = NAMED_HOOKS[script];
  const hook = name ? (hooks[name] as CriuHook | undefined) : undefined;
  await hook?.(info);
}

/** Rejects as soon as `signal` aborts, so a hook that hangs cannot outlive a timeout. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

// ---------------------------------------------------------------- connection

const EPIPE = 32;
const ECONNRESET = 104;

export interface CriuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OpenCriuOptions {
  /** CRIU's own stderr: 'pipe' keeps its last 16 KiB for error reports (default), 'ignore', or an fd */
  stderr?: 'pipe' | 'ignore' | number;
  env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  hooks?: CriuHooks;
  signal?: AbortSignal;
  /** kill CRIU and fail after this many ms */
  timeoutMs?: number;
  /** the CryoError code of a failure answer (default 'RPC'), e.g. 'DUMP_FAILED' */
  errorCode?: ErrorCode;
  /** the operation's name in messages, e.g. "dump of pid 42"; default "criu <type>" */
  what?: string;
  /** where CRIU writes its log for this request (read for failure reports) */
  logPath?: string;
  /** resolve with a success=false answer instead of throwing */
  allowFailure?: boolean;
}

const STDERR_TAIL = 16 * 1024;

function describeExit(e: CriuExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit status ${e.code}`;
}

/** One running `criu swrk`, spoken to over our end of its socketpair. */
export class CriuConnection {
  readonly pid: number;
  readonly path: string;
  #child: ChildProcess;
  #sock: PacketSocket;
  #exit: Promise<CriuExit>;
  #exitInfo: CriuExit | undefined;
  #stderr = '';
  #busy = false;
  /** CRIU has answered a request after which its service loop ends */
  #finished = false;

  /** @internal use openCriu() */
  constructor(child: ChildProcess, sock: PacketSocket, path: string) {
    this.#child = child;
    this.#sock = sock;
    this.pid = child.pid!;
    this.path = path;
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitInfo = { code, signal };
        resolve(this.#exitInfo);
      });
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      this.#stderr = (this.#stderr + s).slice(-STDERR_TAIL);
    });
  }

  /** CRIU's stderr so far (last 16 KiB), when opened with stderr: 'pipe'. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Settles when CRIU has exited (it is reaped by then). */
  get exited(): Promise<CriuExit> {
    return this.#exit;
  }

  /**
   * Sends one request and resolves with CRIU's final answer, answering NOTIFYs through `hooks` meanwhile.
   * Throws CryoError: a failure answer (opts.errorCode), CRIU exiting early, an invalid answer, a type
   * mismatch, a failed hook, a timeout or an abort (CRIU is then killed).
   */
  async request(req: CriuRequest, opts: RequestOptions = {}): Promise<CriuResponse> {
    if (this.#busy) throw new CryoError('RPC', 'a CRIU request is already in progress on this connection');
    if (this.#finished || this.#sock.closed || this.#exitInfo) {
      throw new CryoError('RPC', 'this CRIU connection has ended', { hint: 'open a new one (criuCall does)' });
    }
    const what = opts.what ?? `criu ${req.type.toLowerCase().replace(/_/g, '-')}`;
    const code = opts.errorCode ?? 'RPC';
    let full = req;
    if (hasHooks(opts.hooks) && req.opts?.notify_scripts === undefined) {
      full = { ...req, opts: { ...req.opts, notify_scripts: true } };
    }
    const bytes = encodeCriuRequest(full);
    const timeout = opts.timeoutMs !== undefined ? AbortSignal.timeout(opts.timeoutMs) : undefined;
    const signal = timeout && opts.signal ? AbortSignal.any([opts.signal, timeout]) : (timeout ?? opts.signal);
    const fail = (message: string, extra: Record<string, unknown> = {}, cause?: unknown): CryoError =>
      new CryoError(code, oneLine(message), {
        cause,
        hint: opts.logPath ? `see CRIU's log: ${opts.logPath}` : 'rerun with --debug, or pass a log directory',
        details: { ...logFacts(opts.logPath), stderr: this.#stderr || undefined, ...extra },
      });
    const cancelled = async (): Promise<never> => {
      await this.kill();
      const timedOut = timeout?.aborted === true;
      throw fail(
        timedOut ? `${what} timed out after ${opts.timeoutMs} ms (criu killed)` : `${what} was cancelled (criu killed)`,
        { timedOut },
        signal?.reason,
      );
    };
    const exitedEarly = async (): Promise<never> => {
      const exit = await this.#waitExit(5000);
      const err = this.#stderr.trim().split('\n').filter(Boolean).pop();
      throw fail(`criu exited before answering the ${req.type} request (${describeExit(exit)})${err ? `: ${err}` : ''}`, {
        exitCode: exit.code,
        exitSignal: exit.signal,
      });
    };
    /** false when CRIU's end is gone (it exited) */
    const send = (data: Uint8Array): boolean => {
      try {
        this.#sock.send(data);
        return true;
      } catch (e) {
        if (e instanceof SyscallError && (e.errno === EPIPE || e.errno === ECONNRESET)) return false;
        throw fail(`cannot send the ${req.type} request to criu: ${(e as Error).message}`, {}, e);
      }
    };
    this.#busy = true;
    try {
      if (signal?.aborted) return await cancelled();
      if (!send(bytes)) return await exitedEarly();
      let hookError: { script: string; error: unknown } | undefined;
      for (;;) {
        let packet;
        try {
          packet = await this.#sock.recv(signal);
        } catch (e) {
          if (signal?.aborted) return await cancelled();
          throw fail(`cannot read criu's answer: ${(e as Error).message}`, {}, e);
        }
        if (packet === null) return await exitedEarly();
        let resp: CriuResponse;
        try {
          resp = decodeCriuResponse(packet.data);
        } catch (e) {
          packet.fds.forEach(closeFd);
          await this.kill();
          throw fail(`criu sent an invalid answer (${packet.data.length} bytes): ${(e as Error).message}`, {}, e);
        }
        if (resp.type === 'NOTIFY' && req.type !== 'NOTIFY') {
          const script = resp.notify?.script ?? '';
          const info: CriuNotifyInfo = {};
          if (resp.notify?.pid !== undefined) info.pid = resp.notify.pid;
          if (packet.fds.length > 0) info.fd = packet.fds[0];
          let ok = true;
          try {
            await raceAbort(runHooks(opts.hooks, script, info), signal);
          } catch (e) {
            ok = false;
            if (!signal?.aborted) hookError ??= { script, error: e };
          } finally {
            packet.fds.forEach(closeFd);
          }
          if (signal?.aborted) return await cancelled();
          if (!send(encodeCriuRequest({ type: 'NOTIFY', notify_success: ok }))) return await exitedEarly();
          continue;
        }
        packet.fds.forEach(closeFd);
        // CRIU's service loop ends after the answer unless keep_open; its pre-dump loop goes on after a success
        this.#finished = req.type === 'PRE_DUMP' ? !resp.success : !req.keep_open;
        if (hookError) {
          const msg = hookError.error instanceof Error ? hookError.error.message : String(hookError.error);
          throw fail(`${what} failed: the ${hookError.script} hook failed: ${msg}`, { hook: hookError.script }, hookError.error);
        }
        if (!resp.success) {
          if (opts.allowFailure) return resp;
          throw criuFailure(resp, { code, what, logPath: opts.logPath });
        }
        if (resp.type !== req.type) {
          await this.kill();
          throw fail(`criu answered ${resp.type} to a ${req.type} request`);
        }
        return resp;
      }
    } finally {
      this.#busy = false;
    }
  }

  async #waitExit(graceMs: number): Promise<CriuExit> {
    if (this.#exitInfo) return this.#exitInfo;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const r = await Promise.race([this.#exit, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') return this.kill();
    await this.#drainStderr();
    return r;
  }

  async #drainStderr(): Promise<void> {
    const s = this.#child.stderr;
    if (!s || s.destroyed) return;
    // a descendant may still hold the pipe: give the tail a moment, then let go of it
    await new Promise<void>((r) => {
      const t = setTimeout(r, 50);
      s.once('end', () => {
        clearTimeout(t);
        r();
      });
    });
    s.destroy();
  }

  /** Kills CRIU (SIGKILL, by pid), closes our end and reaps it. */
  async kill(): Promise<CriuExit> {
    if (!this.#exitInfo) this.#child.kill('SIGKILL');
    this.#sock.close();
    const e = await this.#exit;
    await this.#drainStderr();
    return e;
  }

  /**
   * Ends the connection: closes our end (CRIU waiting for a request then exits), waits up to `graceMs`
   * (default 10 s) for CRIU to exit, kills it after that, and reaps it.
   */
  async close(graceMs = 10_000): Promise<CriuExit> {
    this.#sock.close();
    return this.#waitExit(graceMs);
  }
}

// The terminal's Ctrl-C, Ctrl-Z, Ctrl-\ and hang-up go to the whole foreground process group. CRIU
// killed by one of them in the middle of a dump loses the tree (seen: SIGINT during a 512 MiB dump left
// neither the tree nor a checkpoint), so CRIU starts with them ignored (an ignored signal stays ignored
// across exec; libuv resets dispositions in the child, hence `env`). cryo itself holds them back until
// CRIU has answered. Where env lacks --ignore-signal (coreutils < 9), CRIU gets a session of its own.
const SHIELD = '--ignore-signal=INT,QUIT,TSTP,HUP';
let shield: string | null | undefined;
function signalShield(): string | null {
  if (shield === undefined) {
    const env = ['/usr/bin/env', '/bin/env'].find(isExecutable);
    shield = env && spawnSync(env, [SHIELD, 'true'], { stdio: 'ignore' }).status === 0 ? env : null;
  }
  return shield;
}

/** Spawns `<criu> swrk 3` with its end of a fresh socketpair as fd 3; our copy of that end is closed. */
export function openCriu(criu: CriuPath, opts: OpenCriuOptions = {}): CriuConnection {
  if (!isExecutable(criu.path)) throw noCriu(criu, new Error(`${criu.path} is not an executable file`));
  const env = signalShield();
  const [ours, theirs] = seqpacketPair();
  let child: ChildProcess;
  try {
    const options = { stdio: ['ignore', 'ignore', opts.stderr ?? 'pipe', theirs] as StdioOptions, env: opts.env ?? process.env };
    child = env
      ? spawn(env, [SHIELD, criu.path, 'swrk', '3'], options) // env execs criu: the pid is CRIU's
      : spawn(criu.path, ['swrk', '3'], { ...options, detached: true });
  } catch (e) {
    closeFd(ours);
    closeFd(theirs);
    throw noCriu(criu, e);
  }
  // only CRIU may hold its end: then CRIU exiting is end-of-file on ours
  closeFd(theirs);
  if (child.pid === undefined) {
    closeFd(ours);
    let err: unknown;
    child.once('error', (e) => (err = e));
    throw noCriu(criu, err);
  }
  child.once('error', () => {});
  return new CriuConnection(child, new PacketSocket(ours), criu.path);
}

function noCriu(criu: CriuPath, cause: unknown): CryoError {
  return new CryoError('NO_CRIU', `cannot start criu at ${criu.path}`, {
    cause,
    hint: 'run `cryo setup`, or pass --criu PATH',
  });
}

// ---------------------------------------------------------------- one-shot calls

/** A directory opened for images_dir_fd / work_dir_fd (O_RDONLY|O_DIRECTORY); close() it after the call. */
export function openDirFd(dir: string): { fd: number; close(): void } {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot open directory ${dir}: ${err.code ?? err.message}`, {
      cause: e,
      hint: err.code === 'ENOENT' ? 'check the path' : undefined,
    });
  }
  let open = true;
  return {
    fd,
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

export interface CriuCallOptions extends RequestOptions, OpenCriuOptions {
  /** the images directory, opened here and passed as images_dir_fd */
  imagesDir?: string;
  /** where CRIU writes its log (and stats): opened here and passed as work_dir_fd; default the images dir */
  logDir?: string;
  /** the log's bare file name; default "<type>.log" (dump.log, restore.log, ...) when a directory is known */
  logFile?: string;
}

interface Prepared {
  req: CriuRequest;
  logPath?: string;
  cleanup(): void;
}

function defaultLogName(type: string): string {
  return `${type.toLowerCase().replace(/_/g, '-')}.log`;
}

/** Opens the call's directories and fills images_dir_fd / work_dir_fd / log_file; cleanup() closes them. */
function prepare(req: CriuRequest, o: CriuCallOptions): Prepared {
  const opened: Array<{ close(): void }> = [];
  const cleanup = () => opened.forEach((d) => d.close());
  try {
    const opts: CriuOpts = { ...req.opts };
    if (o.imagesDir !== undefined) {
      const d = openDirFd(o.imagesDir);
      opened.push(d);
      opts.images_dir_fd = d.fd;
    }
    if (o.logDir !== undefined) {
      const d = openDirFd(o.logDir);
      opened.push(d);
      opts.work_dir_fd = d.fd;
    }
    const imagesPath = o.imagesDir ?? (opts.images_dir_fd === undefined || opts.images_dir_fd < 0 ? opts.images_dir : undefined);
    const dir = o.logDir ?? (opts.work_dir_fd === undefined ? imagesPath : undefined);
    const logFile = o.logFile ?? opts.log_file ?? (dir !== undefined ? defaultLogName(req.type) : undefined);
    if (logFile !== undefined) {
      if (logFile.includes('/')) throw usageError(`expected a bare log file name, got "${logFile}"`, 'put the directory in logDir');
      opts.log_file = logFile;
    }
    const logPath = o.logPath ?? (dir !== undefined && logFile !== undefined ? join(dir, logFile) : undefined);
    const hasOpts = req.opts !== undefined || Object.keys(opts).length > 0;
    return { req: hasOpts ? { ...req, opts } : req, logPath, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** One request on a fresh CRIU (spawned, answered, reaped). */
export async function criuCall(criu: CriuPath, req: CriuRequest, o: CriuCallOptions = {}): Promise<CriuResponse> {
  const p = prepare(req, o);
  let conn: CriuConnection | undefined;
  try {
    conn = openCriu(criu, o);
    return await conn.request(p.req, { ...o, logPath: p.logPath });
  } finally {
    p.cleanup();
    await conn?.close();
  }
}

/** CRIU's version over RPC: {version: "4.2.1", major_number: 4, minor_number: 2, sublevel: 1, ...}. */
export async function getCriuVersion(criu: CriuPath, o: RequestOptions = {}): Promise<CriuVersionInfo & { version: string }> {
  const resp = await criuCall(criu, { type: 'VERSION' }, o);
  const v = resp.version;
  if (!v) throw new CryoError('RPC', 'criu answered VERSION without a version');
  const version = [v.major_number, v.minor_number, v.sublevel].filter((x) => x !== undefined).join('.');
  return { ...v, version };
}

export interface CriuCheckResult {
  ok: boolean;
  /** why not, when ok is false (details carry crErrno, logPath, logErrors) */
  error?: CryoError;
}

/**
 * CRIU's own `check` over RPC. CRIU wants a directory for the request's log: `logDir` (kept), or a
 * temporary one that is removed when the check passes and kept (named in error.details.logPath) when it fails.
 */
export async function checkCriu(criu: CriuPath, o: RequestOptions & { logDir?: string } = {}): Promise<CriuCheckResult> {
  const dir = o.logDir ?? mkdtempSync(join(tmpdir(), 'cryo-check-'));
  let keep = o.logDir !== undefined;
  try {
    const resp = await criuCall(criu, { type: 'CHECK', opts: { log_level: 4 } }, { ...o, imagesDir: dir, allowFailure: true });
    if (resp.success) return { ok: true };
    keep = true;
    return { ok: false, error: criuFailure(resp, { code: 'ENVIRONMENT', what: 'criu check', logPath: join(dir, 'check.log') }) };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Asks CRIU which of the named features work here; absent answers are false. */
export async function checkCriuFeatures(
  criu: CriuPath,
  want: { memTrack?: boolean; lazyPages?: boolean; pidfdStore?: boolean } = { memTrack: true, lazyPages: true, pidfdStore: true },
  o: RequestOptions = {},
): Promise<Required<CriuFeatures>> {
  const features: CriuFeatures = {};
  if (want.memTrack) features.mem_track = true;
  if (want.lazyPages) features.lazy_pages = true;
  if (want.pidfdStore) features.pidfd_store = true;
  const resp = await criuCall(criu, { type: 'FEATURE_CHECK', features }, o);
  const f = resp.features ?? {};
  return { mem_track: f.mem_track === true, lazy_pages: f.lazy_pages === true, pidfd_store: f.pidfd_store === true };
}

// ---------------------------------------------------------------- pre-dump sessions

/**
 * PRE_DUMP iterations then the final DUMP on one CRIU, as CRIU's pre-dump loop expects. Each call
 * takes the same options as criuCall (imagesDir, logDir, logFile, hooks, signal, ...).
 */
export class CriuDumpSession {
  readonly connection: CriuConnection;
  constructor(connection: CriuConnection) {
    this.connection = connection;
  }

  async preDump(opts: CriuOpts, o: CriuCallOptions = {}): Promise<CriuResponse> {
    return this.#call({ type: 'PRE_DUMP', opts }, o);
  }

  /** The final dump; the session ends with it. */
  async dump(opts: CriuOpts, o: CriuCallOptions = {}): Promise<CriuResponse> {
    try {
      return await this.#call({ type: 'DUMP', opts }, o);
    } finally {
      await this.close();
    }
  }

  async #call(req: CriuRequest, o: CriuCallOptions): Promise<CriuResponse> {
    const p = prepare(req, o);
    try {
      return await this.connection.request(p.req, { ...o, logPath: p.logPath });
    } finally {
      p.cleanup();
    }
  }

  close(): Promise<CriuExit> {
    return this.connection.close();
  }
}

export function openDumpSession(criu: CriuPath, opts: OpenCriuOptions = {}): CriuDumpSession {
  return new CriuDumpSession(openCriu(criu, opts));
}
