// cryo stats DIR: CRIU's dump and restore statistics in human units (or as CRIU reports them, --json).
import type { Command } from 'commander';
import { printJson } from '../output.js';

const TIMES = new Set(['freezing_time', 'frozen_time', 'memdump_time', 'memwrite_time', 'forking_time', 'restore_time']);

export function register(program: Command): void {
  program
    .command('stats')
    .description("CRIU's dump and restore statistics of a checkpoint: freeze and write times, pages scanned/skipped/written")
    .argument('<dir>', 'checkpoint images directory (or archive)')
    .option('--json', 'the statistics as CRIU reports them (times in microseconds)')
    .action(async (dir: string, o: { json?: boolean }) => {
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { readCheckpointStats } = await import('../../inspect/stats.js');
      const { img, close } = await openImages(dir);
      try {
        const stats = readCheckpointStats(img);
        if (o.json) {
          printJson(stats);
          return;
        }
        const { columns, humanBytes, humanMicros, groupDigits } = await import('../render/text.js');
        const out: string[] = [];
        for (const [kind, rec] of Object.entries(stats) as Array<[string, Record<string, number>]>) {
          out.push(kind);
          out.push(...columns(Object.entries(rec).map(([k, v]) => {
            const label = k.replace(/_/g, ' ');
            if (TIMES.has(k)) return [label, humanMicros(v)];
            if (/pages|shpages/.test(k) && !/page_pipe/.test(k)) return [label, groupDigits(v), `(${humanBytes(v * 4096)})`];
            return [label, groupDigits(v)];
          }), ['left', 'right'], '  '));
        }
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        await close();
      }
    });
}
