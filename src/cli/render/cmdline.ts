// How a process's command line is shown: cryo's own namespace init as one short line, not its script.
import { INIT_NAME } from '../../kernel/run.js';
import { escapeText, shellCommand } from './escape.js';

/** The init `cryo run` starts: `bash -c SCRIPT cryo-init PREFIX CMD ARGS...`. */
export function isCryoInitArgv(argv: readonly string[] | undefined): boolean {
  return argv !== undefined && argv.length >= 4 && /(^|\/)bash$/.test(argv[0]!) && argv[1] === '-c' && argv[3] === INIT_NAME;
}

/** What `inspect`, `x ps` and the like print for a process whose argv is cryo's init. */
export const CRYO_INIT_LABEL = `${INIT_NAME} (namespace init of cryo run)`;

/** A command line to print: shell-quoted and escaped, or the one-line label of cryo's init. */
export function renderCmdline(argv: readonly string[]): string {
  return isCryoInitArgv(argv) ? CRYO_INIT_LABEL : shellCommand(argv);
}

/** A process name to print (comm, or cryo's init label when its argv is known to be the init). */
export function renderComm(comm: string, argv?: readonly string[]): string {
  return isCryoInitArgv(argv) ? CRYO_INIT_LABEL : escapeText(comm);
}
