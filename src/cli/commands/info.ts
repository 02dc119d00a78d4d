// cryo info FILE: an image's magic and entry count (as `crit info`).
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('info')
    .description('show the magic and number of entries of an image (as crit info)')
    .argument('<file>', 'image file')
    .action(async (file: string) => {
      // `cryo info ... | head`: a reader that goes away is no error
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { readInput } = await import('../image-io.js');
      const { decodeImage } = await import('../../images/image.js');
      const { stringifyJson } = await import('../../images/json.js');
      const img = decodeImage(await readInput(file), { name: file });
      const info = img.magic === 'RAW'
        ? { magic: 'RAW', size: img.raw!.length }
        // crit does not count the pagemap head
        : { magic: img.magic, count: img.magic === 'PAGEMAP' ? Math.max(0, img.entries.length - 1) : img.entries.length };
      process.stdout.write(`${stringifyJson(info, true)}\n`);
    });
}
