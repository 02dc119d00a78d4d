// cryo resume PID: resumes a tree a dump left stopped (--leave-stopped), cryo's init included.
import type { Command } from 'commander';
import { parsePid } from '../../criu/options.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('resume')
    .description('resume a tree that `cryo dump --leave-stopped` left stopped (every process, cryo\'s init included)')
    .argument('<pid>', 'the pid `cryo dump` named (its root, or the command `cryo run` printed)')
    .option('--json', 'print {pid, rootPid, pids} as JSON')
    .action(async (pidArg: string, o: { json?: boolean }) => {
      const pid = parsePid(pidArg);
      (await import('../../criu/find.js')).requireRoot('cryo resume');
      const { resume } = await import('../../pipeline/resume.js');
      const r = resume(pid);
      if (o.json) printJson(r);
      else process.stderr.write(`resumed ${r.pids.length} process${r.pids.length === 1 ? '' : 'es'} of the tree of ${r.rootPid}\n`);
    });
}
