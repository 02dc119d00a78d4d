// cryo receive --listen IP:PORT: wait for one `cryo migrate`, restore its tree, print its pid (docs/migration.md).
import type { Command } from 'commander';
import { printError, printJson } from '../output.js';
import { authFromCli } from './migrate.js';

interface ReceiveCliOptions {
  listen?: string;
  once?: boolean;
  keepListening?: boolean;
  tokenFile?: string;
  cert?: string;
  key?: string;
  ca?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('receive')
    .description('wait on IP:PORT for one authenticated `cryo migrate`, restore its tree, print its pid')
    .option('--listen <ip:port>', 'the address to bind (only this one)')
    .option('--once', 'receive one migration, then exit (the default)')
    .option('--keep-listening', 'receive migrations until interrupted, printing each pid')
    .option('--token-file <file>', 'a pre-shared token (the same file on both hosts, mode 0600)')
    .option('--cert <file>', "this host's certificate (PEM), with --key and --ca")
    .option('--key <file>', "this host's private key (PEM)")
    .option('--ca <file>', "the CA the source's certificate must chain to (PEM)")
    .option('--json', 'print the result as one JSON object (schemas/receive.schema.json)')
    .action(async (o: ReceiveCliOptions) => {
      const { usageError } = await import('../../errors.js');
      if (o.listen === undefined) throw usageError('missing --listen IP:PORT: the address to wait on', 'cryo receive --listen 169.254.10.2:7070 --token-file token');
      if (o.once && o.keepListening) throw usageError('--once and --keep-listening exclude each other', 'cryo receive --listen 169.254.10.2:7070 --keep-listening');
      const auth = await authFromCli(o);
      const [{ receive }, { withTerminationSignals }] = await Promise.all([import('../../migrate/receive.js'), import('../signals.js')]);
      const debug = Boolean(program.opts().debug);
      await withTerminationSignals(async (signal) => {
        for (;;) {
          try {
            const r = await receive(o.listen!, { ...auth, criu: program.opts().criu as string | undefined, signal });
            if (o.json) printJson(r);
            else process.stdout.write(`${r.pid}\n`);
          } catch (e) {
            if (!o.keepListening || signal.aborted) throw e;
            printError(e, debug);
          }
          if (!o.keepListening || signal.aborted) return;
        }
      });
    });
}
