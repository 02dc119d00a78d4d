// What this machine offers for checkpoint/restore: CRIU, kernel, privileges, optional features.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { isCryoError } from '../errors.js';
import { readEffectiveCaps } from '../kernel/proc.js';
import { criuCheck, findCriu, type CriuBinary } from './find.js';

export interface EnvironmentReport {
  /** true when dump and restore can work */
  ok: boolean;
  criu: (CriuBinary & { check: string }) | { error: string; hint?: string };
  kernel: string;
  root: boolean;
  /** effective capabilities that CRIU needs and the process lacks */
  missingCapabilities: string[];
  /** each capability CRIU needs: held or not, and what fails without it */
  capabilities: CapabilityCheck[];
  /** what does not work here although dump and restore do (e.g. trees of another uid) */
  limits: string[];
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

interface CapabilityCheck {
  name: string;
  present: boolean;
  /** what CRIU cannot do without it */
  without: string;
  /** true when dump and restore cannot work at all without it */
  essential: boolean;
}

/** The capabilities CRIU uses (bit, name, what fails without it); CAP_CHECKPOINT_RESTORE is covered by CAP_SYS_ADMIN. */
const CAPS: { bit: number; name: string; without: string; essential: boolean }[] = [
  { bit: 21, name: 'CAP_SYS_ADMIN', without: 'CRIU cannot dump or restore at all (namespaces, mounts, /proc/PID/map_files)', essential: true },
  { bit: 19, name: 'CAP_SYS_PTRACE', without: 'CRIU cannot seize the tree to dump it', essential: true },
  { bit: 24, name: 'CAP_SYS_RESOURCE', without: "CRIU cannot dump a process of another uid (\"Can't get rlimit 0: Operation not permitted\"), nor restore its limits", essential: false },
  { bit: 1, name: 'CAP_DAC_OVERRIDE', without: "CRIU cannot read or reopen files the tree opened that root's modes forbid", essential: false },
  { bit: 2, name: 'CAP_DAC_READ_SEARCH', without: 'CRIU cannot open files by handle (inotify, fanotify watches)', essential: false },
  { bit: 6, name: 'CAP_SETGID', without: 'restore cannot give processes their groups back', essential: false },
  { bit: 7, name: 'CAP_SETUID', without: 'restore cannot give processes of another uid their uid back', essential: false },
  { bit: 5, name: 'CAP_KILL', without: 'CRIU cannot signal processes of another uid', essential: false },
  { bit: 12, name: 'CAP_NET_ADMIN', without: 'CRIU cannot lock the network or restore TCP connections (--tcp-established)', essential: false },
  { bit: 18, name: 'CAP_SYS_CHROOT', without: 'CRIU cannot restore a tree with its own root or mount namespace', essential: false },
  { bit: 0, name: 'CAP_CHOWN', without: 'restore cannot give files and sockets their owners back', essential: false },
  { bit: 3, name: 'CAP_FOWNER', without: 'restore cannot set the modes and times of files it recreates (ghost files)', essential: false },
];

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
  const caps = readEffectiveCaps('self');
  const capabilities: CapabilityCheck[] = CAPS.map((c) => ({ name: c.name, present: (caps & (1n << BigInt(c.bit))) !== 0n, without: c.without, essential: c.essential }));
  const missingCapabilities = capabilities.filter((c) => !c.present).map((c) => c.name);
  const limits: string[] = [];
  if (root) {
    for (const c of capabilities.filter((x) => !x.present)) (c.essential ? problems : limits).push(`${c.name} is missing: ${c.without}`);
  }

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
    capabilities,
    limits,
    features,
    networkLock: { iptables, nftables, default: detectNetworkLock(nftables) },
    problems,
  };
}
