import type { Command } from 'commander';
import { parseCgroupMode, parseLogLevel, parseNetworkLock } from '../../criu/options.js';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';
import { deferSignals } from './dump.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** --inherit-fd fd[N]:RES, CRIU's syntax */
function parseInheritFd(v: string): { key: string; fd: number } {
  const m = /^fd\[(\d+)\]:(.+)$/.exec(v);
  if (!m) throw usageError(`expected --inherit-fd as fd[N]:RESOURCE, got '${v}'`, 'e.g. --inherit-fd fd[3]:pipe:[12345]');
  return { fd: Number(m[1]), key: m[2] };
}

export function register(program: Command): void {
  program
    .command('restore')
    .description('restore the checkpoint in DIR, detached; prints the restored pid')
    .option('-D, --images-dir <dir>', 'the checkpoint directory written by `cryo dump`')
    .option('-i, --input <file>', 'restore from an archive written by `cryo dump -o` (- for stdin), every hash checked first')
    .option('--tcp-established', 'restore established TCP connections (default: as dumped)')
    .option('--ext-unix-sk', 'allow external unix sockets (default: as dumped)')
    .option('--external <res>', "an external resource, CRIU's syntax (repeatable; default: as dumped)", collect, [] as string[])
    .option('--shell-job', "attach to the caller's session or terminal (default: as dumped)")
    .option('--file-locks', 'restore file locks (default: as dumped)')
    .option('--inherit-fd <fd[N]:res>', "give the tree cryo's fd N in place of RES (repeatable)", collect, [] as string[])
    .option('--manage-cgroups [mode]', 'restore cgroups (mode: none, props, soft, full, strict, ignore)')
    .option('--network-lock <method>', 'iptables, nftables or skip (default: nftables when iptables is missing)')
    .option('-v, --log-level <n>', "CRIU's log level 0-4 (default 4; the log is DIR/restore.log)")
    .option('--pid-wait <ms>', 'for trees that need their original pids: how long to wait for zombies holding them (default: 5000)')
    .option('--json', 'print one JSON object (pid, dir, wallMs, stats) on stdout')
    .action(async (o: {
      imagesDir?: string; input?: string; tcpEstablished?: boolean; extUnixSk?: boolean; external: string[]; shellJob?: boolean; fileLocks?: boolean;
      inheritFd: string[]; manageCgroups?: boolean | string; networkLock?: string; logLevel?: string; pidWait?: string; json?: boolean;
    }) => {
      if (!o.imagesDir && o.input === undefined) throw usageError('missing -D DIR (or -i FILE): the checkpoint to restore', 'cryo restore -D ./ckpt, or -i app.ckpt for an archive');
      if (o.pidWait !== undefined && !/^\d+$/.test(o.pidWait)) throw usageError(`expected --pid-wait as milliseconds, got '${o.pidWait}'`, 'e.g. --pid-wait 5000');
      const opts = {
        criu: program.opts().criu as string | undefined,
        tcpEstablished: o.tcpEstablished,
        extUnixSk: o.extUnixSk,
        external: o.external.length ? o.external : undefined,
        shellJob: o.shellJob,
        fileLocks: o.fileLocks,
        inheritFd: o.inheritFd.map(parseInheritFd),
        manageCgroups: o.manageCgroups === undefined ? undefined : parseCgroupMode(o.manageCgroups),
        networkLock: o.networkLock === undefined ? undefined : parseNetworkLock(o.networkLock),
        logLevel: o.logLevel === undefined ? undefined : parseLogLevel(o.logLevel),
        pidWaitMs: o.pidWait === undefined ? undefined : Number(o.pidWait),
      };
      if (o.input !== undefined) {
        if (o.imagesDir) throw usageError('-i FILE excludes -D DIR', 'cryo restore -i app.ckpt');
        const { restoreArchiveCommand } = await import('../../archive/cli.js');
        return restoreArchiveCommand(o.input, opts, o.json);
      }
      const { restore } = await import('../../criu/restore.js');
      const r = await deferSignals(() => restore(o.imagesDir!, opts));
      if (o.json) printJson({ pid: r.pid, rootPid: r.rootPid, dir: r.dir, wallMs: r.wallMs, pidns: r.pidns, log: r.log, stats: r.stats ?? null });
      else process.stdout.write(`${r.pid}\n`);
    });
}
