// One running `criu swrk 3` over a SOCK_SEQPACKET socketpair: spawn it (signal-shielded), send a
// request, answer NOTIFYs through hooks until the final answer, close or kill it, and reap it.
// No thread blocks: receives wait on an event-loop poll handle (src/kernel/socket.ts).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { CryoError, type ErrorCode } from '../../errors.js';
import { closeFd, PacketSocket, seqpacketPair, SyscallError } from '../../kernel/socket.js';
import { isExecutable } from '../find.js';
import { decodeCriuResponse, encodeCriuRequest } from './codec.js';
import { criuFailure, logFacts, oneLine } from './failure.js';
import { hasHooks, raceAbort, runHooks } from './hooks.js';
import type { CriuHooks, CriuNotifyInfo, CriuRequest, CriuResponse } from './types.js';

/** What the client needs of a CRIU binary (a CriuBinary from findCriu() fits). */
export interface CriuPath {
  path: string;
}

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
  /** the caller's fds CRIU gets at the same numbers (inherit_fd names fds of CRIU's own table) */
  passFds?: number[];
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
// neither the tree nor a checkpoint), so CRIU starts with them ignored: a POSIX shell sets them to
// ignored and execs CRIU (an ignored signal stays ignored across exec; libuv resets dispositions in
// the child, hence the shell). It costs one exec, where asking env whether it has --ignore-signal
// cost two more on every command. cryo itself holds them back until CRIU has answered. Without a
// /bin/sh, CRIU gets a session of its own.
const SHELL = '/bin/sh';
const SHIELD = 'trap "" INT QUIT TSTP HUP; exec "$0" "$@"';

/** Spawns `<criu> swrk 3` with its end of a fresh socketpair as fd 3; our copy of that end is closed. */
export function openCriu(criu: CriuPath, opts: OpenCriuOptions = {}): CriuConnection {
  if (!isExecutable(criu.path)) throw noCriu(criu, new Error(`${criu.path} is not an executable file`));
  const shielded = isExecutable(SHELL);
  const [ours, theirs] = seqpacketPair();
  let child: ChildProcess;
  try {
    const stdio: StdioOptions = ['ignore', 'ignore', opts.stderr ?? 'pipe', theirs];
    for (const fd of opts.passFds ?? []) if (fd > 3) (stdio as unknown[])[fd] = fd;
    for (let i = 4; i < stdio.length; i++) stdio[i] ??= 'ignore';
    const options = { stdio, env: opts.env ?? process.env };
    child = shielded
      ? spawn(SHELL, ['-c', SHIELD, criu.path, 'swrk', '3'], options) // the shell execs criu: the pid is CRIU's
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
