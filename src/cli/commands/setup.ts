import type { Command } from 'commander';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('setup')
    .description('make a working CRIU (4.2+) available: use the one given or on PATH, else provision it from Debian packages')
    .option('--crit', 'also provision crit (CRIU\'s Python image tool), for comparing image decoding')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { crit?: boolean; json?: boolean }) => {
      const { findCriu } = await import('../../criu/find.js');
      const { provisionCriu } = await import('../../criu/provision.js');
      const log = (l: string) => process.stderr.write(`cryo setup: ${l}\n`);
      const given = program.opts().criu as string | undefined;
      let found: { path: string; version: string; source: string } | undefined;
      if (given || process.env.CRYO_CRIU) {
        found = findCriu({ criu: given }); // an explicit choice is used as it is, or fails
      } else {
        try {
          const f = findCriu();
          if (f.source === 'path') found = f;
        } catch {
          // provision below
        }
      }
      let crit: string | undefined;
      if (!found || opts.crit) {
        const r = provisionCriu({ crit: opts.crit, log });
        found ??= { path: r.criu, version: r.version, source: r.downloaded ? 'provisioned (now)' : 'provisioned' };
        crit = r.crit;
      }
      // commands start faster from a snapshot made by this Node (an installed package has none yet)
      const { ensureStartupSnapshot } = await import('../startup-snapshot.js');
      const snap = ensureStartupSnapshot();
      const snapshot = { state: snap.state, ...(snap.reason ? { reason: snap.reason } : {}) };
      if (opts.json) printJson({ criu: found.path, version: found.version, source: found.source, crit, snapshot });
      else {
        process.stdout.write(`criu ${found.version} at ${found.path} (${found.source})\n`);
        if (crit) process.stdout.write(`crit at ${crit}\n`);
        process.stdout.write(`start-up snapshot: ${snap.state === 'unavailable' ? `none (${snap.reason}); commands start from the modules` : `${snap.state} for node ${process.version}`}\n`);
      }
    });
}
