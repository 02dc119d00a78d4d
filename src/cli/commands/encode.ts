// cryo encode: crit's (or cryo's) JSON back to the binary image (as `crit encode`).
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('encode')
    .description('convert a CRIU image from JSON to binary (as crit encode)')
    .option('-i, --in <file>', 'JSON to encode (stdin by default)')
    .option('-o, --out <file>', 'where to write the image (stdout by default)')
    .option('--max-input-size <bytes>', 'refuse JSON larger than this (default 64M, at most 512M; K, M, G suffixes)')
    .action(async (o: { in?: string; out?: string; maxInputSize?: string }) => {
      const { readInput, writeOutput } = await import('../image-io.js');
      const { encodeImage } = await import('../../images/image-encode.js');
      const { imageFromJson } = await import('../../images/json-to-image.js');
      const { CryoError } = await import('../../errors.js');
      const { parseSize } = await import('../../criu/options.js');
      const { constants: { MAX_STRING_LENGTH } } = await import('node:buffer');
      // the JSON is parsed whole (and a JS string has at most 512 MiB): bounded, and said so
      const max = Math.min(o.maxInputSize === undefined ? 64 << 20 : parseSize(o.maxInputSize, '--max-input-size'), MAX_STRING_LENGTH);
      const buf = await readInput(o.in, max, '--max-input-size');
      const name = o.in ?? '<stdin>';
      if (buf.length >= 4 && buf[0] !== 0x7b && buf.subarray(0, 64).some((b) => b < 9)) {
        throw new CryoError('BAD_IMAGE', `${name}: not JSON (it looks like a binary image)`, {
          hint: 'encode expects JSON; use `cryo decode` to turn an image into JSON',
        });
      }
      writeOutput(o.out, encodeImage(imageFromJson(buf.toString('utf8'), name)));
    });
}
