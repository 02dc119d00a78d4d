import type { Command } from 'commander';
import { parseEnvPair } from '../../criu/options.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('start CMD detached, ready to be checkpointed (own session and PID namespace, stdio on /dev/null or --log); prints its pid')
    .usage('[options] -- CMD [ARGS...]')
    .argument('<cmd>', 'the command to start')
    .argument('[args...]', 'its arguments')
    .option('--log <file>', "append the command's stdout and stderr to FILE (default: /dev/null)")
    .option('--cwd <dir>', 'working directory of the command')
    .option('--env <K=V>', 'set an environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-pidns', 'do not start the tree in its own PID namespace (restores then need its original pids free)')
    .option('--ipc', 'start the tree in its own IPC namespace too (CRIU then saves its SysV IPC)')
    .option('--uts', 'start the tree in its own UTS namespace too (its own hostname)')
    .option('--own-proc', "give the tree a mount namespace with its own /proc, so /proc/<its pid> is itself (restore then needs --root /; see docs/pid-namespaces.md)")
    .option('--json', 'print {pid, rootPid, pidns} as JSON instead of the bare pid')
    .showHelpAfterError('hint: put the command after --: cryo run [options] -- CMD [ARGS...]')
    .action(async (cmd: string, args: string[], opts: { log?: string; cwd?: string; env: string[]; pidns: boolean; ipc?: boolean; uts?: boolean; ownProc?: boolean; json?: boolean }) => {
      const env = Object.fromEntries(opts.env.map(parseEnvPair));
      const { run } = await import('../../kernel/run.js');
      const namespaces = (['ipc', 'uts'] as const).filter((k) => opts[k]);
      const r = await run(cmd, args, { log: opts.log, cwd: opts.cwd, env, pidns: opts.pidns, namespaces, ownProc: opts.ownProc });
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${r.pid}\n`);
    });
}
