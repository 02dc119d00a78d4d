// cryo verify CKPT: check a checkpoint completely without restoring it; exit 4 when it is bad.
import type { Command } from 'commander';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('check a checkpoint completely without restoring it: an archive\'s every record and hash, a directory\'s image set; exit 4 when bad')
    .argument('<checkpoint>', 'an archive written by `cryo dump -o` (- for stdin), or a checkpoint directory')
    .option('--json', 'print the report as JSON (schemas/verify.schema.json)')
    .action(async (input: string, o: { json?: boolean }) => {
      const { verify } = await import('../../pipeline/verify.js');
      const r = await verify(input === '-' ? { stream: process.stdin, name: '-' } : input);
      if (o.json) printJson(r);
      else {
        const { renderVerify } = await import('../render/verify.js');
        process.stdout.write(renderVerify(r));
      }
    });
}
