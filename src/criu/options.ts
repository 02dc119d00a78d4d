// Option validation and the one place where cryo's options become CRIU's criu_opts (RPC field names).
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { usageError } from '../errors.js';

/** CRIU's network-lock backends (criu_network_lock_method). */
export type NetworkLock = 'iptables' | 'nftables' | 'skip';

/** CRIU's cgroup modes (criu_cg_mode); `true` means CRIU's default mode. */
export type CgroupMode = 'none' | 'props' | 'soft' | 'full' | 'strict' | 'ignore';

/** Options shared by dump and restore, named after CRIU's command-line options. */
export interface CommonCriuOptions {
  /** criu binary path; default: found by findCriu() ($CRYO_CRIU, PATH, provisioned) */
  criu?: string;
  /** --tcp-established: checkpoint/restore established TCP connections; default false (restore: as dumped) */
  tcpEstablished?: boolean;
  /** --ext-unix-sk: allow unix sockets connected outside the tree; default false (restore: as dumped) */
  extUnixSk?: boolean;
  /** --shell-job: the tree belongs to the caller's session/terminal; default false (restore: as dumped) */
  shellJob?: boolean;
  /** --file-locks: dump/restore file locks; default false (restore: as dumped) */
  fileLocks?: boolean;
  /** --external RES (repeatable): resources outside the tree, CRIU's syntax (e.g. "unix[1234]") */
  external?: string[];
  /** --manage-cgroups [MODE]: default off; true = CRIU's default mode (soft) */
  manageCgroups?: boolean | CgroupMode;
  /** --network-lock: default nftables when no iptables binary exists, else iptables */
  networkLock?: NetworkLock;
  /** -v/--log-level 0..4; default 4 so that failures can be explained */
  logLevel?: number;
  /** aborts the CRIU call (CRIU is killed; a dump then resumes the tree) */
  signal?: AbortSignal;
}

export const DEFAULT_LOG_LEVEL = 4;

/** "expected a positive integer pid, got 'abc'" */
export function parsePid(value: unknown, what = 'pid'): number {
  const s = String(value).trim();
  if (!/^\d+$/.test(s) || Number(s) <= 0 || Number(s) > 4194304) {
    throw usageError(`expected a positive integer ${what}, got '${String(value)}'`, `pass the numeric ${what} of a running process (see \`ps\`)`);
  }
  return Number(s);
}

/** --log-level / -v: 0..4 */
export function parseLogLevel(value: unknown): number {
  const s = String(value).trim();
  if (!/^[0-4]$/.test(s)) throw usageError(`expected a log level from 0 to 4, got '${String(value)}'`, 'CRIU log levels: 0 none, 1 errors, 2 warnings, 3 info, 4 debug');
  return Number(s);
}

/** CRIU's --ghost-limit size: bytes with an optional K/M/G suffix ("1M", "4096"). */
export function parseSize(value: unknown, what = '--ghost-limit'): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(String(value).trim());
  if (!m) throw usageError(`expected ${what} as a size in bytes with an optional K, M or G suffix, got '${String(value)}'`, 'e.g. --ghost-limit 4M');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * mult;
  if (n > 0xffffffff) throw usageError(`${what} is too large: ${String(value)} (at most 4G - 1 bytes)`, 'pass a smaller size');
  return n;
}

export function parseNetworkLock(value: unknown): NetworkLock {
  const s = String(value).trim();
  if (s === 'iptables' || s === 'nftables' || s === 'skip') return s;
  throw usageError(`expected --network-lock iptables, nftables or skip, got '${String(value)}'`, 'omit it: cryo picks the backend that exists here');
}

const CG_MODES: CgroupMode[] = ['none', 'props', 'soft', 'full', 'strict', 'ignore'];

export function parseCgroupMode(value: unknown): boolean | CgroupMode {
  if (value === true || value === undefined) return true;
  const s = String(value).trim().toLowerCase();
  if ((CG_MODES as string[]).includes(s)) return s as CgroupMode;
  throw usageError(`expected --manage-cgroups mode none, props, soft, full, strict or ignore, got '${String(value)}'`, 'or give --manage-cgroups alone for the default mode');
}

/** "K=V" for --env */
export function parseEnvPair(value: string): [string, string] {
  const i = value.indexOf('=');
  if (i <= 0) throw usageError(`expected --env as NAME=VALUE, got '${value}'`, 'e.g. --env PORT=8080');
  return [value.slice(0, i), value.slice(i + 1)];
}

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return true;
  }
  return ['/usr/sbin', '/sbin'].some((d) => existsSync(join(d, name)));
}

let detectedLock: NetworkLock | undefined;

/** CRIU defaults to iptables and then fails with status 127 where it is missing: pick what exists. */
export function detectNetworkLock(): NetworkLock {
  detectedLock ??= onPath('iptables-restore') || onPath('iptables') ? 'iptables' : 'nftables';
  return detectedLock;
}

const NETWORK_LOCK_ENUM: Record<NetworkLock, string> = { iptables: 'IPTABLES', nftables: 'NFTABLES', skip: 'SKIP' };
const CG_ENUM: Record<CgroupMode, string> = { none: 'CG_NONE', props: 'PROPS', soft: 'SOFT', full: 'FULL', strict: 'STRICT', ignore: 'IGNORE' };

/**
 * The criu_opts fields (protobuf keepCase names) common to dump and restore. `needsLock`: CRIU will
 * lock the network (TCP connections to freeze, or a network namespace of its own). Only then is a
 * backend chosen: where iptables is missing that is nftables, whose set-up alone costs CRIU about
 * 0.4 s here, so trees that need no lock keep CRIU's default (a no-op for them).
 */
export function commonCriuOpts(o: CommonCriuOptions, logFile: string, needsLock = Boolean(o.tcpEstablished)): Record<string, unknown> {
  const out: Record<string, unknown> = {
    log_level: o.logLevel ?? DEFAULT_LOG_LEVEL,
    log_file: logFile,
  };
  const lock = o.networkLock ?? (needsLock || o.tcpEstablished ? detectNetworkLock() : undefined);
  if (lock) out.network_lock = NETWORK_LOCK_ENUM[lock];
  if (o.tcpEstablished) out.tcp_established = true;
  if (o.extUnixSk) out.ext_unix_sk = true;
  if (o.shellJob) out.shell_job = true;
  if (o.fileLocks) out.file_locks = true;
  if (o.external?.length) out.external = [...o.external];
  if (o.manageCgroups) {
    out.manage_cgroups = true;
    if (typeof o.manageCgroups === 'string') out.manage_cgroups_mode = CG_ENUM[o.manageCgroups];
  }
  return out;
}
