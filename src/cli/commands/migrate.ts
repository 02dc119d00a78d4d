// cryo migrate PID --to IP:PORT: move a live tree to a `cryo receive` on another host (docs/migration.md).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parsePid } from '../../criu/options.js';
import { addCriuOptions, criuOptionsFromCli } from '../criu-options.js';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';

interface MigrateCliOptions {
  to?: string;
  lazy?: boolean;
  tokenFile?: string;
  cert?: string;
  key?: string;
  ca?: string;
  json?: boolean;
}

/** --token-file / --cert / --key / --ca as the library's MigrationAuth (files read here). */
export async function authFromCli(o: { tokenFile?: string; cert?: string; key?: string; ca?: string }): Promise<{ token?: string; cert?: string; key?: string; ca?: string }> {
  const { readTokenFile } = await import('../../migrate/auth.js');
  const read = (p: string | undefined, what: string) => {
    if (p === undefined) return undefined;
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      throw usageError(`cannot read ${what} ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `check the path given to ${what}`);
    }
  };
  return { token: o.tokenFile === undefined ? undefined : readTokenFile(o.tokenFile), cert: read(o.cert, '--cert'), key: read(o.key, '--key'), ca: read(o.ca, '--ca') };
}

export function register(program: Command): void {
  const cmd = program
    .command('migrate')
    .description('move the live tree of PID to `cryo receive` on another host (TLS, authenticated); exactly one copy runs afterwards')
    .argument('<pid>', 'the tree (for trees started by `cryo run`, the pid it printed)')
    .option('--to <ip:port>', 'where `cryo receive --listen` waits')
    .option('--lazy', 'post-copy: the tree restarts at once there and its pages follow (default where userfaultfd and fs.pipe-max-size allow it)')
    .option('--no-lazy', 'pages first, through CRIU\'s page server; the tree restarts when the last page arrived')
    .option('--token-file <file>', 'a pre-shared token (the same file on both hosts, mode 0600)')
    .option('--cert <file>', "this host's certificate (PEM), with --key and --ca")
    .option('--key <file>', "this host's private key (PEM)")
    .option('--ca <file>', "the CA the destination's certificate must chain to (PEM)")
    .option('-v, --log-level <n>', "CRIU's log level 0-4 (default 4)")
    .option('--json', 'print the result as one JSON object (schemas/migrate.schema.json)');
  addCriuOptions(cmd, 'dump');
  cmd.action(async (pidArg: string, o: MigrateCliOptions) => {
    const pid = parsePid(pidArg);
    if (o.to === undefined) throw usageError('missing --to IP:PORT: where `cryo receive` listens', `cryo migrate ${pid} --to 169.254.10.2:7070 --token-file token`);
    const auth = await authFromCli(o);
    const opts = { ...criuOptionsFromCli(o as unknown as Record<string, unknown>, 'dump'), ...auth, criu: program.opts().criu as string | undefined, lazy: o.lazy };
    const [{ migrate }, { withTerminationSignals }] = await Promise.all([import('../../migrate/migrate.js'), import('../signals.js')]);
    const r = await withTerminationSignals((signal) => migrate(pid, o.to!, { ...opts, signal }));
    if (o.json) printJson(r);
    else {
      const pages = r.pages ? `, pages ${r.pages.onDemand} on demand / ${r.pages.background} ahead` : '';
      process.stderr.write(`migrated ${r.pid} to ${r.to} (${r.mode}${r.modeReason ? `: ${r.modeReason}` : ''}): down ${r.downtimeMs.toFixed(0)} ms, total ${r.totalMs.toFixed(0)} ms, ${r.bytesSent} bytes sent${pages}; it runs there as ${r.destination.pid}\n`);
    }
  });
}
