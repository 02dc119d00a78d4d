// cryo inspect DIR: the process tree of a checkpoint with files, sockets, memory and mounts.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { paint, printJson, useColor } from '../output.js';
import { addKeyOptions, decryptedInput, secretFromCli, type RegistryCliOptions } from '../registry-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('show what a checkpoint holds: processes, credentials, namespaces, files, sockets, memory, mounts')
    .argument('<dir>', 'checkpoint images directory (or archive)')
    .option('-p, --pid <pid>', 'only this process (and its ancestors); the host pid `cryo run` printed works too', (v: string) => {
      if (!/^\d+$/.test(v)) throw usageError(`--pid: expected a process id, got "${v}"`, 'pass a pid of the checkpoint (cryo inspect DIR lists them)');
      return Number(v);
    })
    .option('--env', "include each process's environment")
    .option('--maps', 'list every memory mapping (text output; JSON always has them)')
    .option('--json', 'JSON output');
  addKeyOptions(cmd, { encrypt: false });
  cmd.action(async (dir: string, o: RegistryCliOptions & { pid?: number; env?: boolean; maps?: boolean; json?: boolean }) => {
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const { inspectCheckpoint } = await import('../../inspect/model.js');
      const { resolvePidOption } = await import('../checkpoint-pid.js');
      const { img, close } = await openImages((await decryptedInput(dir, await secretFromCli(o, false))) ?? dir);
      try {
        const pid = resolvePidOption(img, o.pid);
        const model = inspectCheckpoint(img, { env: o.env, pid });
        model.dir = resolve(dir);
        if (o.json) printJson(model);
        else {
          const { renderInspect } = await import('../render/inspect.js');
          process.stdout.write(renderInspect(model, { color: useColor(), maps: Boolean(o.maps), paint }));
        }
      } finally {
        await close();
      }
    });
}
