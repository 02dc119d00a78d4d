// cryo diff A B: processes, threads, files, sockets, mappings and memory pages that changed.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { paint, printJson, useColor } from '../output.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('what changed between two checkpoints: processes, threads, files, sockets, mappings, memory pages (exit 0 the same, 1 different)')
    .argument('<a>', 'the earlier checkpoint (directory or archive)')
    .argument('<b>', 'the later checkpoint')
    .option('--no-memory', 'do not compare memory contents')
    .option('--pages', 'list the address of every changed page')
    .option('--json', 'JSON output')
    .action(async (a: string, b: string, o: { memory: boolean; pages?: boolean; json?: boolean }) => {
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { diffCheckpoints } = await import('../../inspect/diff.js');
      const A = await openImages(a);
      try {
        const B = await openImages(b);
        try {
          const d = diffCheckpoints(A.img, B.img, { memory: o.memory });
          // name what the user gave (an archive is read from a temporary extraction)
          d.a = resolve(a);
          d.b = resolve(b);
          // as diff(1): 0 the same, 1 different (errors keep their own codes)
          process.exitCode = d.same ? 0 : 1;
          if (o.json) return printJson(d);
          const { renderDiff } = await import('../render/diff.js');
          process.stdout.write(renderDiff(d, { color: useColor(), pages: Boolean(o.pages), paint }));
        } finally {
          await B.close();
        }
      } finally {
        await A.close();
      }
    });
}
