// CRIU's dump and restore options on the command line, straight from the option table: flags, help and
// defaults as CRIU documents them, parsed into the library's CriuDumpOptions / CriuRestoreOptions.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { usageError } from '../errors.js';
import {
  CRIU_OPTIONS,
  parseCgroupMode,
  parseLogLevel,
  parseNetworkLock,
  parseSize,
  toRpcOpts,
  type CriuDumpOptions,
  type CriuOptionSpec,
  type CriuRestoreOptions,
} from '../criu/options.js';

/** cryo's own flags on dump and restore; no table option may take them. */
export const CRYO_OWN_FLAGS = ['-D', '--images-dir', '-o', '--output', '-i', '--input', '-R', '--leave-running', '--leave-stopped', '--json', '--force', '--pid-wait', '-v', '--log-level'];

const REPEATABLE = new Set(['strings', 'inheritFd', 'extMountMap', 'cgroupRoot', 'joinNs', 'vethPair', 'emptyNs']);

/** The table options a command offers for `action`. */
export function cliCriuOptions(action: 'dump' | 'restore'): CriuOptionSpec[] {
  return CRIU_OPTIONS.filter((s) => s.cli && s.flag && s.actions.includes(action));
}

function flagsOf(spec: CriuOptionSpec): string {
  const value = spec.arg === undefined ? '' : spec.optionalArg ? ` [${spec.arg}]` : ` <${spec.arg}>`;
  return `${spec.short ? `${spec.short}, ` : ''}${spec.flag}${value}`;
}

/** The default as this action sees it: a restore repeats what the dump recorded. */
function defaultFor(spec: CriuOptionSpec, action: 'dump' | 'restore'): string {
  if (action === 'restore' && spec.repeatOnRestore) return 'as dumped';
  if (spec.name === 'logFile') return `${action}.log`;
  return spec.default;
}

/** The help as this action sees it: "dump: X; restore: Y" texts are split. */
function helpFor(spec: CriuOptionSpec, action: 'dump' | 'restore'): string {
  const m = /^dump: (.*); restore: (.*)$/.exec(spec.help);
  return m ? (action === 'dump' ? m[1] : m[2]) : spec.help;
}

const collect = (v: string, acc: string[] | undefined): string[] => [...(acc ?? []), v];

/** Adds every table option that applies to `action` to `cmd`, with CRIU's help and default; flags the command already has are left to it. */
export function addCriuOptions(cmd: Command, action: 'dump' | 'restore'): Command {
  const taken = new Set(cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))));
  for (const spec of cliCriuOptions(action)) {
    if (taken.has(spec.flag!)) continue;
    if (CRYO_OWN_FLAGS.includes(spec.flag!) || (spec.short && (CRYO_OWN_FLAGS.includes(spec.short) || taken.has(spec.short)))) {
      throw new Error(`option table: ${flagsOf(spec)} clashes with a flag of cryo ${action}`);
    }
    const repeat = REPEATABLE.has(spec.kind);
    const opt = new Option(flagsOf(spec), `${helpFor(spec, action)} (default: ${defaultFor(spec, action)})`);
    if (repeat) opt.argParser(collect);
    cmd.addOption(opt);
    // a restore repeats what the dump recorded; --no-X turns one off
    if (action === 'restore' && spec.repeatOnRestore && (spec.kind === 'bool' || spec.kind === 'extUnixSk')) {
      cmd.addOption(new Option(`--no-${spec.flag!.slice(2)}`, `do not repeat ${spec.flag} from the dump`));
    }
  }
  return cmd;
}

function cliValue(spec: CriuOptionSpec, v: unknown): unknown {
  switch (spec.kind) {
    case 'uint': {
      const s = String(v).trim();
      if (!/^\d+$/.test(s)) throw usageError(`expected ${spec.flag} as a non-negative integer, got '${String(v)}'`, spec.name === 'timeout' ? 'e.g. --timeout 30 (seconds)' : `e.g. ${spec.flag} 10`);
      return Number(s);
    }
    case 'size':
      return parseSize(v, spec.flag);
    case 'logLevel':
      return parseLogLevel(v);
    case 'path':
      return typeof v === 'string' && v !== '' ? resolve(v) : v;
    case 'networkLock':
      return parseNetworkLock(v);
    case 'manageCgroups':
      return parseCgroupMode(v);
    case 'extUnixSk':
      return typeof v === 'boolean' ? v : String(v).split(',').map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : x));
    default:
      return v;
  }
}

/**
 * The CRIU options in commander's parsed options (`cmd.opts()`), as library options: numbers, sizes,
 * modes parsed, paths made absolute, every value validated (a bad one is a usage error, exit 2).
 * `logLevel` (the command's own -v/--log-level) is read too when present.
 */
export function criuOptionsFromCli(parsed: Record<string, unknown>, action: 'dump'): CriuDumpOptions;
export function criuOptionsFromCli(parsed: Record<string, unknown>, action: 'restore'): CriuRestoreOptions;
export function criuOptionsFromCli(parsed: Record<string, unknown>, action: 'dump' | 'restore'): CriuDumpOptions | CriuRestoreOptions;
export function criuOptionsFromCli(parsed: Record<string, unknown>, action: 'dump' | 'restore'): CriuDumpOptions | CriuRestoreOptions {
  const out: Record<string, unknown> = {};
  const specs = cliCriuOptions(action);
  const logLevel = CRIU_OPTIONS.find((s) => s.name === 'logLevel');
  if (logLevel) specs.push(logLevel);
  for (const spec of specs) {
    const v = parsed[spec.name];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[spec.name] = cliValue(spec, v);
  }
  // every value through the same checks the RPC mapping makes
  toRpcOpts(action, out, { needsLock: false });
  return out;
}
