// Locate a working criu: --criu, $CRYO_CRIU, PATH, then what `cryo setup` provisioned.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { CryoError } from '../errors.js';

export interface CriuBinary {
  /** absolute path of an executable that behaves as `criu` */
  path: string;
  /** "4.2.1" */
  version: string;
  /** where it was found */
  source: 'option' | 'env' | 'path' | 'provisioned';
}

export interface FindCriuOptions {
  /** an explicit criu path (the CLI's --criu) */
  criu?: string;
  /** skip `criu check` (already verified by the caller); default false */
  skipCheck?: boolean;
}

/** In a provisioned prefix: the version `criu --version` gave when `cryo setup` verified it. */
export const VERSION_FILE = 'version';

/** Directory that holds provisioned CRIU builds: $XDG_CACHE_HOME/cryo or ~/.cache/cryo. */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'cryo');
}

/** Provisioned criu wrappers, newest version first. */
function provisionedCriuPaths(): string[] {
  const dir = cacheDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith('criu-'))
    .sort((a, b) => compareVersions(b.slice(5), a.slice(5)))
    .map((n) => join(dir, n, 'bin', 'criu'))
    .filter((p) => existsSync(p));
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `p` may be executed by this process (access X_OK). */
export function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function whichCriu(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'criu');
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** `criu --version` → "4.2.1", or undefined when it does not run. */
export function criuVersion(path: string): string | undefined {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /Version:\s*([\d.]+)/.exec(r.stdout ?? '');
  return m?.[1];
}

/** The version file of a provisioned prefix (PREFIX/bin/criu → PREFIX/version), if it is there. */
function recordedVersion(path: string): string | undefined {
  try {
    const v = readFileSync(join(dirname(dirname(path)), VERSION_FILE), 'utf8').trim();
    return /^\d+\.\d+(\.\d+)*$/.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `criu check`; ok when CRIU says "Looks good". */
export function criuCheck(path: string): { ok: boolean; output: string } {
  const r = spawnSync(path, ['check'], { encoding: 'utf8', timeout: 60_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { ok: r.status === 0 && /Looks good/.test(output), output };
}

/** Candidates in the order cryo tries them. */
function criuCandidates(opts: FindCriuOptions = {}): Array<{ path: string; source: CriuBinary['source'] }> {
  const out: Array<{ path: string; source: CriuBinary['source'] }> = [];
  if (opts.criu) return [{ path: opts.criu, source: 'option' }];
  if (process.env.CRYO_CRIU) return [{ path: process.env.CRYO_CRIU, source: 'env' }];
  const onPath = whichCriu();
  if (onPath) out.push({ path: onPath, source: 'path' });
  for (const p of provisionedCriuPaths()) out.push({ path: p, source: 'provisioned' });
  return out;
}

const cache = new Map<string, CriuBinary>();

/** Throws NOT_ROOT (exit 3) unless cryo runs as root: CRIU seizes, dumps and restores trees only as root. */
export function requireRoot(what: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() === 0) return;
  throw new CryoError('NOT_ROOT', `${what} needs root: CRIU checkpoints and restores process trees only as root`, {
    hint: `run it as root (e.g. sudo ${what.startsWith('cryo ') ? what : 'cryo ...'})`,
  });
}

/**
 * Finds a working criu (version 4.2+ whose `criu check` passes) or throws NO_CRIU.
 * Provisioned builds were checked when installed, so they skip the slow `criu check`.
 */
export function findCriu(opts: FindCriuOptions = {}): CriuBinary {
  const key = `${opts.criu ?? ''}|${process.env.CRYO_CRIU ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // not root: every criu fails its check, and "no working CRIU" would send the user the wrong way
  if (!opts.skipCheck) requireRoot('checkpoint/restore');
  const tried: string[] = [];
  for (const c of criuCandidates(opts)) {
    // provisioned builds carry the version setup verified: no process to spawn on every command
    const version = (c.source === 'provisioned' ? recordedVersion(c.path) : undefined) ?? criuVersion(c.path);
    if (!version) {
      tried.push(`${c.path}: does not run`);
      continue;
    }
    if (!opts.skipCheck && c.source !== 'provisioned') {
      const chk = criuCheck(c.path);
      if (!chk.ok) {
        tried.push(`${c.path} (${version}): criu check failed: ${firstLine(chk.output)}`);
        continue;
      }
    }
    const found: CriuBinary = { path: c.path, version, source: c.source };
    cache.set(key, found);
    return found;
  }
  const explicit = opts.criu ?? process.env.CRYO_CRIU;
  throw new CryoError('NO_CRIU', explicit ? `criu at ${explicit} is not usable` : 'no working CRIU found', {
    hint: 'run `cryo setup` to provision CRIU 4.2+ (needs root and Debian packages), or pass --criu PATH',
    details: { tried },
  });
}

function firstLine(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim() && !/RLIMIT_NOFILE/.test(l));
  return lines.find((l) => /Error|error|fail/.test(l)) ?? lines[0] ?? '';
}
