// Helpers for tests that start process trees: start them ready for checkpointing, run the built
// CLI, wait for conditions, and end every tree they started BY PID (never by name).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, childPids, type RunOptions, type RunResult } from '../../src/kernel/run.js';
import { isCryoInit, readProcess } from '../../src/kernel/process.js';
import { assertCliJson } from './schema.js';

/** Repository root (tests run from dist/test/...). */
export const repoRoot = new URL('../../../', import.meta.url).pathname;
/** The built CLI entry (its modules). */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
/** The launcher users run: the start-up snapshot when the build made one for this Node, else cliPath. */
export const launcherPath = join(repoRoot, 'bin', 'cryo');
/** Fixture programs (sources, not compiled by tsc). */
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cryo ARGS` through the launcher (as users do) to completion, without inheriting this
 * process's extra fds. Tests that start cliPath with node run the modules: both ways are covered.
 * JSON output (--json, decode, show, info) must match its schema in schemas/ (the promise rejects
 * otherwise); `schema: false` opts out, for a deliberately broken case.
 */
export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; schema?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(launcherPath, args, {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      try {
        if (opts.schema !== false) assertCliJson(args, { status, stdout });
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ status, stdout, stderr });
    });
  });
}

/** A unique temp dir; remove it with rmSync or through a Trees instance. */
export function tempDir(prefix = 'cryo-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A python program that holds argv[1] MiB of memory (a quarter random, the rest a pattern zstd
 * shrinks) and writes an ever-growing counter into the file argv[2] every 50 ms (`counter` reads it).
 */
export const COUNTING_HOLDER = `
import os, sys, time
n = int(sys.argv[1]); r = n // 4
a = bytearray(os.urandom(r << 20))
pat = b'cryo test memory 0123456789 '
b = bytearray((pat * (((n - r) << 20) // len(pat) + 1))[: (n - r) << 20])
i = 0
while True:
    i += 1
    with open(sys.argv[2] + '.tmp', 'w') as f: f.write(str(i))
    os.rename(sys.argv[2] + '.tmp', sys.argv[2])
    time.sleep(0.05)
`;

/** The number a counting tree last wrote into `file` (0 before it wrote one). */
export function counter(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/** Polls `pred` every 20 ms until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(pred: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** True while PID is a live (non-zombie) process. */
export function alive(pid: number): boolean {
  const p = readProcess(pid);
  return Boolean(p && p.state !== 'Z' && p.state !== 'X');
}

/** Start time of PID (field 22 of /proc/PID/stat, clock ticks since boot), undefined when gone. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** PID and all its descendants (depth first, parents before children). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of childPids(p)) walk(c);
  };
  walk(pid);
  return out;
}

/** The lines of a text file ([] when it does not exist yet). */
export function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** Kills a tree by pid: every descendant, then the root (SIGKILL). Gone pids are ignored. */
export function killTree(pid: number): void {
  const all = descendants(pid).reverse();
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/**
 * Tracks what a test started and ends it: `await using`-free, call cleanup() in t.after().
 * Trees started in cryo's PID namespace are ended through their init (which takes the namespace down).
 */
export class Trees {
  /** pid → its start time, so that a pid reused by another process is never killed */
  private pids = new Map<number, string | undefined>();
  private dirs = new Set<string>();

  /** Starts a tree with cryo's run() and tracks it; returns the command's pid. */
  async start(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await run(cmd, args, opts);
    this.track(r.rootPid);
    return r;
  }

  /** Tracks a pid (a tree root) to kill at cleanup. */
  track(pid: number): number {
    this.pids.set(pid, startTime(pid));
    return pid;
  }

  dir(prefix?: string): string {
    const d = tempDir(prefix);
    this.dirs.add(d);
    return d;
  }

  /** Kills every tracked tree by pid and removes temp dirs. */
  cleanup(): void {
    for (const [pid, started] of this.pids) {
      // a tracked pid may have ended and been reused since: kill only the same process
      if (alive(pid) && startTime(pid) === started) killTree(pid);
    }
    this.pids.clear();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    this.dirs.clear();
  }
}

/** The tree root to kill for a pid `cryo run` printed: cryo's namespace init when there is one. */
export function rootOf(pid: number): number {
  const ppid = readProcess(pid)?.ppid;
  return ppid !== undefined && ppid > 1 && isCryoInit(ppid) ? ppid : pid;
}

/** Compiles a C fixture with gcc into `outDir`; undefined when gcc is missing. */
export function compileFixture(name: string, outDir: string, flags: string[] = []): string | undefined {
  const out = join(outDir, name.replace(/\.c$/, ''));
  const r = spawnSync('gcc', ['-O1', '-o', out, join(fixturesDir, name), ...flags], { encoding: 'utf8' });
  if (r.error) return undefined;
  if (r.status !== 0) throw new Error(`gcc failed on ${name}: ${r.stderr}`);
  return out;
}
