// cryo dump PID -D DIR | -o FILE | -o -: one pipeline, one result shape, whatever the sink.
import type { Command } from 'commander';
import { parsePid } from '../../criu/options.js';
import { addCriuOptions, criuOptionsFromCli } from '../criu-options.js';
import { usageError } from '../../errors.js';
import { jsonReplacer } from '../output.js';
import { addKeyOptions, addRegistryOptions, registryFromCli, secretFromCli, type RegistryCliOptions } from '../registry-options.js';

interface DumpCliOptions extends RegistryCliOptions {
  imagesDir?: string;
  output?: string;
  leaveRunning?: boolean;
  leaveStopped?: boolean;
  level?: string;
  json?: boolean;
  force?: boolean;
  forceNonCheckpoint?: boolean;
  include?: string[];
  exclude?: string[];
  portable?: boolean;
  endAfterWrite?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const cmd = program
    .command('dump')
    .description('checkpoint the process tree of PID into DIR or one archive (the tree ends unless --leave-running/--leave-stopped)')
    .argument('<pid>', 'the tree (for trees started by `cryo run`, the pid it printed)')
    .option('-D, --images-dir <dir>', 'write a checkpoint directory (created; must be new, empty, or hold a checkpoint with --force)')
    .option('-o, --output <file>', 'write one verified archive instead (- for stdout: the tree keeps running unless --end-after-write; oci://HOST/REPO:TAG for a registry); see docs/archive-format.md')
    .option('--end-after-write', 'with -o -: stop the tree for the dump and end it once the whole archive was written to stdout (a pipe may hold the end unread)')
    .option('-R, --leave-running', 'leave the tree running after the dump')
    .option('--leave-stopped', 'leave the tree stopped after the dump (`cryo resume PID` resumes it)')
    .option('-v, --log-level <n>', "CRIU's log level 0-4 (default 4; the log is dump.log in the checkpoint)")
    .option('--level <n>', 'archives: zstd compression level 1-19 (default 3)')
    .option('--json', 'print the result as one JSON object (schemas/dump.schema.json)')
    .option('--force', 'replace a checkpoint already in DIR, or an existing archive FILE')
    .option('--force-non-checkpoint', 'with --force: also replace a directory that holds other files than a checkpoint')
    .option('--include <path>', 'carry this file or directory (recursively: contents, mode, owner, mtime) in the checkpoint; repeatable (docs/portable.md)', collect)
    .option('--portable', 'carry every file the tree has open, mapped, or as cwd/root, except those of the installed system (docs/portable.md)')
    .option('--exclude <path>', 'never carry this file, nor anything under this directory (wins over --include and --portable); repeatable', collect);
  addCriuOptions(cmd, 'dump');
  addRegistryOptions(addKeyOptions(cmd, { encrypt: true }));
  cmd.action(async (pidArg: string, o: DumpCliOptions) => {
    const pid = parsePid(pidArg);
    if (o.imagesDir === undefined && o.output === undefined) {
      throw usageError('missing -D DIR or -o FILE: where to write the checkpoint', `cryo dump ${pid} -D ./ckpt   (or: cryo dump ${pid} -o app.ckpt)`);
    }
    if (o.imagesDir !== undefined && o.output !== undefined) throw usageError('-D DIR and -o FILE exclude each other', `cryo dump ${pid} -D ./ckpt`);
    if (o.leaveRunning && o.leaveStopped) throw usageError('--leave-running and --leave-stopped exclude each other', `cryo dump ${pid} -D ./ckpt --leave-running`);
    if (o.forceNonCheckpoint && !o.force) throw usageError('--force-non-checkpoint goes with --force', `cryo dump ${pid} -D ${o.imagesDir ?? './ckpt'} --force --force-non-checkpoint`);
    let level: number | undefined;
    if (o.level !== undefined) {
      if (!/^\d+$/.test(o.level) || Number(o.level) < 1 || Number(o.level) > 19) throw usageError(`expected --level from 1 to 19, got '${o.level}'`, `cryo dump ${pid} -o app.ckpt --level 3`);
      level = Number(o.level);
    }
    const toStdout = o.output === '-';
    if (o.endAfterWrite && !toStdout) throw usageError('--end-after-write goes with -o -', `cryo dump ${pid} -o - --end-after-write | ssh host cryo restore -i -`);
    if (o.endAfterWrite && (o.leaveRunning || o.leaveStopped)) throw usageError('--end-after-write excludes --leave-running and --leave-stopped', `cryo dump ${pid} -o - --end-after-write > app.ckpt`);
    if (toStdout && process.stdout.isTTY) throw usageError('refusing to write an archive to a terminal', `cryo dump ${pid} -o - > app.ckpt`);
    const opts = {
      ...criuOptionsFromCli(o as unknown as Record<string, unknown>, 'dump'),
      criu: program.opts().criu as string | undefined,
      leaveRunning: o.leaveRunning,
      leaveStopped: o.leaveStopped,
      force: o.force,
      forceNonCheckpoint: o.forceNonCheckpoint,
      level,
      include: o.include,
      exclude: o.exclude,
      portable: o.portable,
      endAfterWrite: o.endAfterWrite,
    };
    const secret = await secretFromCli(o, true);
    if (secret && o.output === undefined) throw usageError('--encrypt goes with -o FILE or -o oci://REF, not -D DIR', `cryo dump ${pid} -o app.ckpt --encrypt --key-file key`);
    if (secret && toStdout) throw usageError('--encrypt writes files and registries, not stdout', `cryo dump ${pid} -o app.ckpt --encrypt --key-file key`);
    const toOci = o.output?.startsWith('oci://') ?? false;
    const to = o.imagesDir !== undefined ? { dir: o.imagesDir } : toStdout ? { stream: process.stdout, name: '-' }
      : toOci ? { oci: o.output!, ...(await registryFromCli(o.output!, o, secret)) }
      : secret ? new (await import('../../checkpoint/crypto-sink.js')).EncryptedArchiveSink(o.output!, secret, { force: o.force, level })
      : { archive: o.output! };
    (await import('../../criu/find.js')).requireRoot('cryo dump');
    const [{ dump }, { withTerminationSignals }, { progressLine }] = await Promise.all([
      import('../../pipeline/dump.js'), import('../signals.js'), import('../render/progress.js'),
    ]);
    const progress = progressLine('writing the checkpoint');
    let r;
    try {
      r = await withTerminationSignals((signal) => dump(pid, to, { ...opts, signal, onProgress: progress.update }));
    } finally {
      progress.done();
    }
    // with -o - the archive owns stdout: the JSON result goes to stderr
    if (o.json) (toStdout ? process.stderr : process.stdout).write(`${JSON.stringify(r, jsonReplacer, 2)}\n`);
    else {
      const { humanBytes } = await import('../render/text.js');
      const where = 'dir' in r ? r.dir : r.archive === '-' ? 'stdout' : r.archive;
      const size = 'bytes' in r ? `${humanBytes(r.imageBytes)} of images in ${humanBytes(r.bytes)}` : humanBytes(r.imageBytes);
      const frozen = r.stats ? `, frozen ${(r.stats.frozen_time / 1000).toFixed(1)} ms` : '';
      const tree = r.tree === 'ended' ? 'the tree ended' : r.tree === 'running' ? 'the tree still runs' : `the tree is stopped; resume it with: ${r.resume}`;
      process.stderr.write(`dumped ${r.pid} into ${where} (${size}) in ${r.wallMs.toFixed(0)} ms${frozen}; ${tree}\n`);
    }
  });
}
