// cryo restore -D DIR | -i FILE | -i -: one pipeline, one result shape, whatever the source.
import type { Command } from 'commander';
import { addCriuOptions, criuOptionsFromCli } from '../criu-options.js';
import { isCryoError, usageError } from '../../errors.js';
import { escapeText } from '../render/escape.js';
import { printJson } from '../output.js';
import { addKeyOptions, addRegistryOptions, decryptedInput, registryFromCli, secretFromCli, type RegistryCliOptions } from '../registry-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('restore')
    .description('restore a checkpoint detached (a directory, or an archive every hash of which is checked first); prints the restored pid')
    .option('-D, --images-dir <dir>', 'the checkpoint directory written by `cryo dump -D`')
    .option('-i, --input <file>', 'an archive written by `cryo dump -o` (- for stdin, oci://HOST/REPO:TAG from a registry)')
    .option('-v, --log-level <n>', "CRIU's log level 0-4 (default 4)")
    .option('--pid-wait <ms>', 'for trees that need their original pids: how long to wait for zombies holding them (default: 5000)')
    .option('--restore-timeout <ms>', "kill CRIU and the half-restored tasks when CRIU's restore has not finished after this long (default: 60000)")
    .option('--json', 'print the result as one JSON object (schemas/restore.schema.json)')
    .option('--overwrite-files', 'replace files that exist here and differ from the copies the checkpoint carries (each is named)');
  addCriuOptions(cmd, 'restore');
  addRegistryOptions(addKeyOptions(cmd, { encrypt: false }));
  cmd.action(async (o: RegistryCliOptions & { imagesDir?: string; input?: string; pidWait?: string; restoreTimeout?: string; json?: boolean; overwriteFiles?: boolean }) => {
    if (o.imagesDir === undefined && o.input === undefined) throw usageError('missing -D DIR or -i FILE: the checkpoint to restore', 'cryo restore -D ./ckpt   (or: cryo restore -i app.ckpt)');
    if (o.imagesDir !== undefined && o.input !== undefined) throw usageError('-D DIR and -i FILE exclude each other', 'cryo restore -i app.ckpt');
    if (o.pidWait !== undefined && !/^\d+$/.test(o.pidWait)) throw usageError(`expected --pid-wait as milliseconds, got '${o.pidWait}'`, 'cryo restore -D ./ckpt --pid-wait 5000');
    if (o.restoreTimeout !== undefined && !/^[1-9]\d*$/.test(o.restoreTimeout)) throw usageError(`expected --restore-timeout as milliseconds, got '${o.restoreTimeout}'`, 'cryo restore -D ./ckpt --restore-timeout 120000');
    if (o.input === '-' && process.stdin.isTTY) throw usageError('refusing to read an archive from a terminal', 'cryo restore -i - < app.ckpt');
    const opts = {
      ...criuOptionsFromCli(o as unknown as Record<string, unknown>, 'restore'),
      criu: program.opts().criu as string | undefined,
      pidWaitMs: o.pidWait === undefined ? undefined : Number(o.pidWait),
      overwriteFiles: o.overwriteFiles,
      onFilesPlaced: printFilesPlaced,
      restoreTimeoutMs: o.restoreTimeout === undefined ? undefined : Number(o.restoreTimeout),
    };
    const secret = await secretFromCli(o, false);
    const from = o.imagesDir !== undefined ? { dir: o.imagesDir } : o.input === '-' ? { stream: process.stdin, name: '-' }
      : o.input!.startsWith('oci://') ? { oci: o.input!, ...(await registryFromCli(o.input!, o, secret)) }
      : (await decryptedInput(o.input!, secret)) ?? { archive: o.input! };
    (await import('../../criu/find.js')).requireRoot('cryo restore');
    const [{ restore }, { withTerminationSignals }, { progressLine }] = await Promise.all([
      import('../../pipeline/restore.js'), import('../signals.js'), import('../render/progress.js'),
    ]);
    const progress = progressLine('reading the checkpoint');
    let r;
    try {
      r = await withTerminationSignals((signal) => restore(from, { ...opts, signal, onProgress: progress.update }));
    } catch (e) {
      printRefusedFiles(e);
      throw e;
    } finally {
      progress.done();
    }
    if (o.json) printJson(r);
    else process.stdout.write(`${r.pid}\n`);
  });
}

/** Says which existing files --overwrite-files replaced (stderr: stdout carries the pid). */
function printFilesPlaced(p: { placed: string[]; replaced: string[] }): void {
  for (const f of p.replaced) process.stderr.write(`replaced ${escapeText(f)}: it differed from the checkpoint's copy\n`);
}

/** One line per file a refused restore names, before the error line. */
function printRefusedFiles(e: unknown): void {
  const files = isCryoError(e) && Array.isArray(e.details.files) ? (e.details.files as Array<{ path: string; why: string }>) : [];
  for (const f of files) process.stderr.write(`  ${escapeText(f.path)} ${escapeText(f.why)}\n`);
}
