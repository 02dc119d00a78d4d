// cryo decode: an image file to crit's JSON (same output as `crit decode`).
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('decode')
    .description('convert a CRIU image from binary to JSON (as crit decode)')
    .option('-i, --in <file>', 'image to decode (stdin by default)')
    .option('-o, --out <file>', 'where to write the JSON (stdout by default)')
    .option('--pretty', 'indent, and render some numeric fields in field-specific formats (hex, IPs, flags, devices)')
    .option('--max-entry-size <bytes>', 'refuse entries larger than this (default 64 MiB)', (v: string) => Number(v))
    .action(async (o: { in?: string; out?: string; pretty?: boolean; maxEntrySize?: number }) => {
      // `cryo decode ... | head`: a reader that goes away is no error
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { readInput, writeOutput } = await import('../image-io.js');
      if (o.maxEntrySize !== undefined && !(Number.isInteger(o.maxEntrySize) && o.maxEntrySize > 0)) {
        const { usageError } = await import('../../errors.js');
        throw usageError('--max-entry-size: expected a positive number of bytes', 'for example: --max-entry-size 16777216');
      }
      const { transcodeToJson } = await import('../../images/transcode.js');
      const buf = await readInput(o.in);
      const name = o.in ?? '<stdin>';
      // plain images go straight from bytes to JSON; everything else (and every error) the general way,
      // whose modules are loaded only then
      let json = transcodeToJson(buf, { name, pretty: o.pretty, maxEntrySize: o.maxEntrySize });
      if (!json) {
        const { decodeImage } = await import('../../images/image.js');
        const { imageToJsonBuffer } = await import('../../images/json.js');
        json = imageToJsonBuffer(decodeImage(buf, { name, maxEntrySize: o.maxEntrySize }), { pretty: o.pretty });
      }
      writeOutput(o.out, json, '\n');
    });
}
