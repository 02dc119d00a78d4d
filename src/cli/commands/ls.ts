// cryo ls DIR | ARCHIVE...: the checkpoints there, newest first (schemas/ls.schema.json with --json).
import type { Command } from 'commander';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('ls')
    .description('list the checkpoints in a directory (or the archives given), newest first: time, size, command, frozen time, complete and verifiable')
    .argument('<paths...>', 'one directory (cryo job --checkpoint-dir), or archive files')
    .option('--no-verify', 'read only each manifest, not every record and hash')
    .option('--json', 'print {dir, checkpoints} as JSON (schemas/ls.schema.json)')
    .action(async (paths: string[], o: { verify: boolean; json?: boolean }) => {
      const [{ listCheckpoints }, { humanBytes }, { escapeText }] = await Promise.all([
        import('../../job/ls.js'), import('../render/text.js'), import('../render/escape.js'),
      ]);
      const r = await listCheckpoints(paths, { verify: o.verify });
      if (o.json) return printJson(r);
      if (r.checkpoints.length === 0) {
        process.stdout.write(`no checkpoints${r.dir ? ` in ${escapeText(r.dir)}` : ''}\n`);
        return;
      }
      const rows = r.checkpoints.map((c) => [
        c.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        humanBytes(c.bytes),
        c.frozenMs === null ? '-' : `${c.frozenMs.toFixed(1)} ms`,
        !c.complete ? 'INCOMPLETE' : !o.verify ? 'complete' : c.verifiable ? 'verified' : 'DAMAGED',
        c.name,
        c.command ? c.command.join(' ') : '-',
      ].map((s) => escapeText(s)));
      const head = ['CREATED', 'SIZE', 'FROZEN', 'STATE', 'NAME', 'COMMAND'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
      for (const row of [head, ...rows]) process.stdout.write(`${row.map((s, i) => (i === row.length - 1 ? s : s.padEnd(widths[i]!))).join('  ')}\n`);
    });
}
