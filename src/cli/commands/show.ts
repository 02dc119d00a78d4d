// cryo show FILE: an image as pretty JSON (as `crit show`); --nopl leaves payloads out.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('show')
    .description('show a CRIU image as human-readable JSON (as crit show)')
    .argument('<file>', 'image file')
    .option('--nopl', 'do not show entry payloads (pipe data, queues, ...), only their size')
    .action(async (file: string, o: { nopl?: boolean }) => {
      // `cryo show ... | head`: a reader that goes away is no error
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { readInput, humanSize } = await import('../image-io.js');
      const { decodeImage } = await import('../../images/image.js');
      const { imageToJson, payloadSize } = await import('../../images/json.js');
      const img = decodeImage(await readInput(file), { name: file });
      if (o.nopl) {
        for (const e of img.entries) {
          if (e.extra === undefined) continue;
          if (img.magic === 'GHOST_FILE') delete e.extra;
          else e.extra = `... <${humanSize(payloadSize(img.magic, e))}>`;
        }
      }
      process.stdout.write(`${imageToJson(img, { pretty: true })}\n`);
    });
}
