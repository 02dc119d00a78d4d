// What this machine offers for checkpoint/restore: CRIU, kernel, privileges, optional features.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { isCryoError } from '../errors.js';
import { criuCheck, findCriu, type CriuBinary } from './find.js';

export interface EnvironmentReport {
  /** true when dump and restore can work */
  ok: boolean;
  criu: (CriuBinary & { check: string }) | { error: string; hint?: string };
  kernel: string;
  root: boolean;
  /** effective capabilities that CRIU needs and the process lacks */
  missingCapabilities: string[];
  features: {
    /** soft-dirty memory tracking: incremental pre-dumps */
    memoryTracking: boolean;
    /** userfaultfd with non-cooperative events: lazy restore */
    lazyPages: boolean;
    /** pidfd store: pid reuse detection across pre-dumps */
    pidfdStore: boolean;
    timeNamespace: boolean;
  };
  networkLock: {
    /** iptables-restore (the program CRIU runs for the iptables lock) exists */
    iptables: boolean;
    nftables: boolean;
    /** what cryo passes when --network-lock is not given (detectNetworkLock) */
    default: NetworkLock;
  };
  problems: string[];
}

const CAPS: Record<number, string> = { 21: 'CAP_SYS_ADMIN', 19: 'CAP_SYS_PTRACE', 12: 'CAP_NET_ADMIN', 38: 'CAP_CHECKPOINT_RESTORE' };

function effectiveCaps(): bigint {
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

export function hasProgram(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

function feature(criu: string, name: string): boolean {
  return spawnSync(criu, ['check', '--feature', name], { encoding: 'utf8', timeout: 30_000 }).status === 0;
}

/** CRIU's network-lock backends (criu_network_lock_method). */
export type NetworkLock = 'iptables' | 'nftables' | 'skip';

let detected: NetworkLock | undefined;

/**
 * The one choice of network-lock backend when none is given. CRIU defaults to iptables and then fails
 * with status 127 where `iptables-restore` (the program it runs) is missing: take iptables where that
 * program exists, else nftables (CRIU links libnftables); `nftables: false` (CRIU's feature check said
 * no) leaves skip. Without an argument the answer is cached for the process.
 */
export function detectNetworkLock(nftables?: boolean): NetworkLock {
  if (nftables === undefined) return (detected ??= detectNetworkLock(true));
  if (hasProgram('iptables-restore')) return 'iptables';
  return nftables ? 'nftables' : 'skip';
}

export function checkEnvironment(opts: { criu?: string } = {}): EnvironmentReport {
  const problems: string[] = [];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) problems.push('not running as root: CRIU needs root to dump and restore');
  const caps = effectiveCaps();
  const missingCapabilities = Object.entries(CAPS)
    .filter(([bit]) => (caps & (1n << BigInt(bit))) === 0n)
    .map(([, name]) => name);
  if (root && missingCapabilities.includes('CAP_SYS_ADMIN')) problems.push('CAP_SYS_ADMIN is missing');

  let criu: EnvironmentReport['criu'];
  const features = { memoryTracking: false, lazyPages: false, pidfdStore: false, timeNamespace: false };
  let nftables = false;
  try {
    const found = findCriu({ criu: opts.criu, skipCheck: true });
    const check = criuCheck(found.path);
    criu = { ...found, check: check.output.split('\n').filter((l) => !/RLIMIT_NOFILE/.test(l)).join('\n') };
    if (!check.ok) problems.push(`criu check failed: ${criu.check.split('\n').find((l) => /Error/.test(l)) ?? criu.check}`);
    features.memoryTracking = feature(found.path, 'mem_dirty_track');
    features.lazyPages = feature(found.path, 'uffd-noncoop');
    features.pidfdStore = feature(found.path, 'pidfd_store');
    features.timeNamespace = feature(found.path, 'timens');
    nftables = feature(found.path, 'network_lock_nftables');
  } catch (e) {
    if (!isCryoError(e)) throw e;
    criu = { error: e.message, hint: e.hint };
    problems.push(e.message);
  }
  const iptables = hasProgram('iptables-restore');
  return {
    ok: problems.length === 0,
    criu,
    kernel: release(),
    root,
    missingCapabilities,
    features,
    networkLock: { iptables, nftables, default: detectNetworkLock(nftables) },
    problems,
  };
}
