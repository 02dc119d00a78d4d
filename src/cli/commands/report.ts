// cryo report CKPT [B]: the checkpoint as one self-contained HTML page (or JSON, or text): tree,
// connections, memory, dump timeline, files, and with B the changes.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync, constants } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CryoError, usageError } from '../../errors.js';
import { jsonReplacer } from '../output.js';

const FORMATS = ['html', 'json', 'text'] as const;

/** Writes `text` to `path` through a private temp file in the same directory, renamed over it. */
function writeOutput(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    writeSync(fd, text);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new CryoError('FAILED', `cannot write ${path}: ${(e as Error).message}`, { hint: 'pass -o a path in a writable directory, or leave -o out for stdout', cause: e });
  }
}

export function register(program: Command): void {
  program
    .command('report')
    .description('the checkpoint as one self-contained HTML page: process tree, connections, memory, dump timeline, files; with B, what changed from A to B')
    .argument('<checkpoint>', 'checkpoint directory or archive (a cryo archive, or a podman/CRI-O checkpoint tar)')
    .argument('[b]', 'a later checkpoint of the same tree: the report shows it and the changes since <checkpoint>')
    .option('-o, --output <file>', 'write the report here (replaced) instead of stdout')
    .option('--format <format>', `${FORMATS.join('|')} (default html)`, 'html')
    .option('--json', 'the same as --format json (schemas/report.schema.json)')
    .action(async (a: string, b: string | undefined, o: { output?: string; format: string; json?: boolean }) => {
      if (o.json) o.format = 'json';
      if (!(FORMATS as readonly string[]).includes(o.format)) throw usageError(`--format: expected ${FORMATS.join(', ')}, got "${o.format}"`, `cryo report ${a} --format html -o report.html`);
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { buildReport } = await import('../../inspect/report.js');
      const first = await openImages(a);
      try {
        const second = b === undefined ? undefined : await openImages(b);
        try {
          // with B the report shows B, the later checkpoint, and the changes since A
          const shown = second ?? first;
          const r = buildReport(shown.img, { against: second ? first.img : undefined });
          r.checkpoint = resolve(b ?? a);
          r.inspect.dir = r.checkpoint;
          if (second) {
            r.against = resolve(a);
            r.diff!.a = resolve(a);
            r.diff!.b = resolve(b!);
          }
          let text: string;
          if (o.format === 'json') text = `${JSON.stringify(r, jsonReplacer, 2)}\n`;
          else if (o.format === 'text') text = (await import('../render/report/text.js')).renderReportText(r);
          else text = (await import('../render/report/html.js')).renderReportHtml(r);
          if (o.output !== undefined && o.output !== '-') writeOutput(resolve(o.output), text);
          else process.stdout.write(text);
        } finally {
          await second?.close();
        }
      } finally {
        await first.close();
      }
    });
}
