import type { Command } from 'commander';
import { parseCgroupMode, parseLogLevel, parseNetworkLock, parsePid, parseSize } from '../../criu/options.js';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';

export interface DumpCliOptions {
  dir?: string;
  leaveRunning?: boolean;
  leaveStopped?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  external: string[];
  shellJob?: boolean;
  fileLocks?: boolean;
  linkRemap?: boolean;
  ghostLimit?: string;
  manageCgroups?: boolean | string;
  networkLock?: string;
  logLevel?: string;
  json?: boolean;
  force?: boolean;
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** Runs `fn` with SIGINT/SIGTERM/SIGHUP held back; afterwards the exit status says which came. */
export async function deferSignals<T>(fn: () => Promise<T>): Promise<T> {
  let got: NodeJS.Signals | undefined;
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  const onSignal = (sig: NodeJS.Signals) => {
    if (!got) process.stderr.write(`cryo: ${sig} received; finishing first so that nothing is lost\n`);
    got = sig;
  };
  const sigs = Object.keys(codes) as NodeJS.Signals[];
  for (const s of sigs) process.on(s, onSignal);
  try {
    return await fn();
  } finally {
    for (const s of sigs) process.off(s, onSignal);
    if (got) process.exitCode = 128 + (codes[got] ?? 0);
  }
}

export function register(program: Command): void {
  program
    .command('dump')
    .description('checkpoint the process tree rooted at PID into DIR (the tree ends unless --leave-running)')
    .argument('<pid>', 'root of the tree (for trees started by `cryo run`, the pid it printed)')
    .option('-D, --images-dir <dir>', 'directory to write the checkpoint into (created; must be new or empty)')
    .option('-o, --output <file>', 'write one verified archive instead (- for stdout); see docs/archive-format.md')
    .option('-R, --leave-running', 'leave the tree running after the dump')
    .option('--leave-stopped', 'leave the tree stopped (SIGSTOP) after the dump')
    .option('--tcp-established', 'checkpoint established TCP connections')
    .option('--ext-unix-sk', 'allow unix sockets connected to peers outside the tree')
    .option('--external <res>', "an external resource, CRIU's syntax, e.g. unix[INO] (repeatable)", collect, [] as string[])
    .option('--shell-job', "the tree belongs to the caller's session or terminal")
    .option('--file-locks', 'checkpoint file locks')
    .option('--link-remap', 'allow open files that were unlinked')
    .option('--ghost-limit <size>', 'largest deleted file kept in the images (bytes, K, M, G; default 1M)')
    .option('--manage-cgroups [mode]', 'dump cgroups (mode: none, props, soft, full, strict, ignore)')
    .option('--network-lock <method>', 'iptables, nftables or skip (default: nftables when iptables is missing)')
    .option('-v, --log-level <n>', "CRIU's log level 0-4 (default 4; the log is DIR/dump.log)")
    .option('--json', 'print one JSON object (pid, dir, wallMs, stats) on stdout')
    .option('--force', 'replace a checkpoint already in DIR')
    .action(async (pidArg: string, o: DumpCliOptions & { imagesDir?: string; output?: string }) => {
      const pid = parsePid(pidArg);
      const dir = o.imagesDir;
      if (!dir && o.output === undefined) throw usageError('missing -D DIR (or -o FILE): where to write the checkpoint', `cryo dump ${pid} -D ./ckpt, or -o app.ckpt for one archive file`);
      if (o.leaveRunning && o.leaveStopped) throw usageError('--leave-running and --leave-stopped exclude each other', 'pass one of them');
      const opts = {
        criu: program.opts().criu as string | undefined,
        leaveRunning: o.leaveRunning,
        leaveStopped: o.leaveStopped,
        tcpEstablished: o.tcpEstablished,
        extUnixSk: o.extUnixSk,
        external: o.external,
        shellJob: o.shellJob,
        fileLocks: o.fileLocks,
        linkRemap: o.linkRemap,
        ghostLimit: o.ghostLimit === undefined ? undefined : parseSize(o.ghostLimit),
        manageCgroups: o.manageCgroups === undefined ? undefined : parseCgroupMode(o.manageCgroups),
        networkLock: o.networkLock === undefined ? undefined : parseNetworkLock(o.networkLock),
        logLevel: o.logLevel === undefined ? undefined : parseLogLevel(o.logLevel),
        force: o.force,
      };
      if (o.output !== undefined) {
        if (dir || o.leaveStopped) throw usageError('-o FILE excludes -D DIR and --leave-stopped', `cryo dump ${pid} -o app.ckpt`);
        const { dumpArchiveCommand } = await import('../../archive/cli.js');
        return dumpArchiveCommand(pid, o.output, opts, o.json);
      }
      const { dump } = await import('../../criu/dump.js');
      // an interrupted cryo would leave CRIU's finished images without cryo.json (and the tree ended):
      // let the dump finish, then exit with the signal's status
      const r = await deferSignals(() => dump(pid, dir!, opts));
      if (o.json) {
        printJson({ pid: r.pid, rootPid: r.rootPid, dir: r.dir, wallMs: r.wallMs, running: r.running, log: r.log, stats: r.stats ?? null });
      } else {
        const frozen = r.stats ? `, frozen ${(r.stats.frozen_time / 1000).toFixed(1)} ms` : '';
        process.stderr.write(`dumped ${r.pid} into ${r.dir} in ${r.wallMs.toFixed(0)} ms${frozen}${r.running ? '; the tree still runs' : ''}\n`);
      }
    });
}
