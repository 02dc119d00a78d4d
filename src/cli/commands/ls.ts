// cryo ls DIR | ARCHIVE... | oci://HOST/REPO[:TAG]: the checkpoints there, newest first (schemas/ls.schema.json with --json).
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';
import { addRegistryOptions, registryFromCli, type RegistryCliOptions } from '../registry-options.js';

interface LsCliOptions extends RegistryCliOptions {
  verify: boolean;
  json?: boolean;
}

interface Row {
  name: string;
  createdAt: string | null;
  bytes: number | null;
  frozenMs: number | null;
  complete: boolean;
  verifiable: boolean;
  command: string[] | null;
  problem: string | null;
}

export function register(program: Command): void {
  const command = program
    .command('ls')
    .description('list the checkpoints in a directory, the archives given, or a registry repository, newest first: time, size, command, frozen time, complete and verifiable')
    .argument('<paths...>', 'one directory (cryo job --checkpoint-dir), archive files, or one oci://HOST/REPO[:TAG]')
    .option('--no-verify', 'read only each manifest, not every record and hash')
    .option('--json', 'print {dir, checkpoints} (a registry: {repository, checkpoints}) as JSON (schemas/ls.schema.json)');
  addRegistryOptions(command)
    .action(async (paths: string[], o: LsCliOptions) => {
      const [{ humanBytes }, { escapeText }] = await Promise.all([import('../render/text.js'), import('../render/escape.js')]);
      const oci = paths.filter((p) => p.startsWith('oci://'));
      if (oci.length > 0 && paths.length > 1) throw usageError('cryo ls takes one oci://HOST/REPO, without other paths', 'cryo ls oci://localhost:5000/jobs/sim');
      if (oci.length === 0 && (o.creds !== undefined || o.insecure)) throw usageError('--creds and --insecure are for a registry (cryo ls oci://HOST/REPO)', 'drop them, or list oci://HOST/REPO');
      let rows: Row[];
      let where: string | null;
      if (oci.length > 0) {
        const { listRegistryCheckpoints } = await import('../../job/ls-oci.js');
        const r = await listRegistryCheckpoints(oci[0]!, { ...(await registryFromCli(oci[0]!, o, undefined)), verify: o.verify });
        if (o.json) return printJson(r);
        rows = r.checkpoints;
        where = r.repository;
      } else {
        const { listCheckpoints } = await import('../../job/ls.js');
        const r = await listCheckpoints(paths, { verify: o.verify });
        if (o.json) return printJson(r);
        rows = r.checkpoints;
        where = r.dir;
      }
      if (rows.length === 0) {
        process.stdout.write(`no checkpoints${where ? ` in ${escapeText(where)}` : ''}\n`);
        return;
      }
      const table = rows.map((c) => [
        c.createdAt === null ? '-' : c.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        c.bytes === null ? '-' : humanBytes(c.bytes),
        c.frozenMs === null ? '-' : `${c.frozenMs.toFixed(1)} ms`,
        !c.complete ? 'INCOMPLETE' : !o.verify ? 'complete' : c.verifiable ? 'verified' : c.problem?.startsWith('encrypted') ? 'encrypted' : 'DAMAGED',
        c.name,
        c.command ? c.command.join(' ') : '-',
      ].map((s) => escapeText(s)));
      const head = ['CREATED', 'SIZE', 'FROZEN', 'STATE', 'NAME', 'COMMAND'];
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
      for (const row of [head, ...table]) process.stdout.write(`${row.map((s, i) => (i === row.length - 1 ? s : s.padEnd(widths[i]!))).join('  ')}\n`);
    });
}
