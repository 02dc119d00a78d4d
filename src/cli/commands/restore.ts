// cryo restore -D DIR | -i FILE | -i -: one pipeline, one result shape, whatever the source.
import type { Command } from 'commander';
import { parseCgroupMode, parseLogLevel, parseNetworkLock } from '../../criu/options.js';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** --inherit-fd fd[N]:RES, CRIU's syntax */
function parseInheritFd(v: string): { key: string; fd: number } {
  const m = /^fd\[(\d+)\]:(.+)$/.exec(v);
  if (!m) throw usageError(`expected --inherit-fd as fd[N]:RESOURCE, got '${v}'`, "e.g. cryo restore -D ./ckpt --inherit-fd 'fd[3]:pipe:[12345]'");
  return { fd: Number(m[1]), key: m[2]! };
}

export function register(program: Command): void {
  program
    .command('restore')
    .description('restore a checkpoint detached (a directory, or an archive every hash of which is checked first); prints the restored pid')
    .option('-D, --images-dir <dir>', 'the checkpoint directory written by `cryo dump -D`')
    .option('-i, --input <file>', 'an archive written by `cryo dump -o` (- for stdin)')
    .option('--tcp-established', 'restore established TCP connections (default: as dumped)')
    .option('--ext-unix-sk', 'allow external unix sockets (default: as dumped)')
    .option('--external <res>', "an external resource, CRIU's syntax (repeatable; default: as dumped)", collect, [] as string[])
    .option('--shell-job', "attach to the caller's session or terminal (default: as dumped)")
    .option('--file-locks', 'restore file locks (default: as dumped)')
    .option('--inherit-fd <fd[N]:res>', "give the tree cryo's fd N in place of RES (repeatable)", collect, [] as string[])
    .option('--manage-cgroups [mode]', 'restore cgroups (mode: none, props, soft, full, strict, ignore)')
    .option('--network-lock <method>', 'iptables, nftables or skip (default: nftables when iptables is missing)')
    .option('-v, --log-level <n>', "CRIU's log level 0-4 (default 4)")
    .option('--pid-wait <ms>', 'for trees that need their original pids: how long to wait for zombies holding them (default: 5000)')
    .option('--json', 'print the result as one JSON object (schemas/restore.schema.json)')
    .action(async (o: {
      imagesDir?: string; input?: string; tcpEstablished?: boolean; extUnixSk?: boolean; external: string[]; shellJob?: boolean; fileLocks?: boolean;
      inheritFd: string[]; manageCgroups?: boolean | string; networkLock?: string; logLevel?: string; pidWait?: string; json?: boolean;
    }) => {
      if (o.imagesDir === undefined && o.input === undefined) throw usageError('missing -D DIR or -i FILE: the checkpoint to restore', 'cryo restore -D ./ckpt   (or: cryo restore -i app.ckpt)');
      if (o.imagesDir !== undefined && o.input !== undefined) throw usageError('-D DIR and -i FILE exclude each other', 'cryo restore -i app.ckpt');
      if (o.pidWait !== undefined && !/^\d+$/.test(o.pidWait)) throw usageError(`expected --pid-wait as milliseconds, got '${o.pidWait}'`, 'cryo restore -D ./ckpt --pid-wait 5000');
      if (o.input === '-' && process.stdin.isTTY) throw usageError('refusing to read an archive from a terminal', 'cryo restore -i - < app.ckpt');
      const opts = {
        criu: program.opts().criu as string | undefined,
        tcpEstablished: o.tcpEstablished,
        extUnixSk: o.extUnixSk,
        external: o.external,
        shellJob: o.shellJob,
        fileLocks: o.fileLocks,
        inheritFd: o.inheritFd.map(parseInheritFd),
        manageCgroups: o.manageCgroups === undefined ? undefined : parseCgroupMode(o.manageCgroups),
        networkLock: o.networkLock === undefined ? undefined : parseNetworkLock(o.networkLock),
        logLevel: o.logLevel === undefined ? undefined : parseLogLevel(o.logLevel),
        pidWaitMs: o.pidWait === undefined ? undefined : Number(o.pidWait),
      };
      const from = o.imagesDir !== undefined ? { dir: o.imagesDir } : o.input === '-' ? { stream: process.stdin, name: '-' } : { archive: o.input! };
      const [{ restore }, { withTerminationSignals }, { progressLine }] = await Promise.all([
        import('../../pipeline/restore.js'), import('../signals.js'), import('../render/progress.js'),
      ]);
      const progress = progressLine('reading the checkpoint');
      let r;
      try {
        r = await withTerminationSignals((signal) => restore(from, { ...opts, signal, onProgress: progress.update }));
      } finally {
        progress.done();
      }
      if (o.json) printJson(r);
      else process.stdout.write(`${r.pid}\n`);
    });
}
