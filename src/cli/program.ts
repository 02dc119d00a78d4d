// The program: commander set up with the commands argv needs, errors shown as cryo's two lines.
// main.ts (the modules) and snapshot.ts (the start-up snapshot) are its two entries.
import { Command, CommanderError } from 'commander';
import { CryoError, ExitCode } from '../errors.js';
import { commandsFor, type RegisterCommand } from './commands/index.js';
import { printError, printErrorJson } from './output.js';

/** A commander parse error, with the command it came from (for the hint). */
class UsageFromCommander extends CommanderError {
  constructor(e: CommanderError, readonly command: Command) {
    super(e.exitCode, e.code, e.message);
  }
}

function buildProgram(commands: RegisterCommand[]): Command {
  const program = new Command('cryo')
    .description('Checkpoint and restore Linux process trees with CRIU')
    .option('-V, --version', "print cryo's version and the CRIU it would use")
    .option('--debug', 'show stack traces and CRIU details on errors')
    .option('--criu <path>', 'the criu binary to use (default: $CRYO_CRIU, PATH, then the one `cryo setup` provisioned)');
  for (const register of commands) register(program);
  quietCommander(program);
  return program;
}

// the hint each command gave commander for after its errors, read before quietCommander drops it
const hints = new WeakMap<Command, string>();

/** commander prints nothing itself: its errors are thrown and shown as cryo's two lines. */
function quietCommander(c: Command): void {
  const hint = commandHint(c);
  if (hint) hints.set(c, hint);
  c.configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showHelpAfterError(false)
    .exitOverride((e) => {
      throw e.code.startsWith('commander.') && !QUIET_EXITS.has(e.code) ? new UsageFromCommander(e, c) : e;
    });
  for (const sub of c.commands) quietCommander(sub);
}

// not errors: help and version were asked for
const QUIET_EXITS = new Set(['commander.helpDisplayed', 'commander.version']);

/** `cryo dump --tcp` -> "unknown option '--tcp'" + "see 'cryo dump --help'" (or commander's suggestion). */
function usageFromCommander(e: CommanderError, command: Command, extraHint?: string, operands: string[] = []): CryoError {
  const path: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) path.unshift(c.name());
  const help = `see '${path.join(' ')} --help'`;
  // commander shows help for `cryo` alone and for `cryo help UNKNOWN`
  if (e.code === 'commander.help') {
    const unknown = operands[0] === 'help' ? operands[1] : undefined;
    return new CryoError('USAGE', unknown === undefined ? 'missing command' : `unknown command '${unknown}'`, { hint: help });
  }
  const [first = '', ...rest] = e.message.replace(/^error: /, '').split('\n');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(' '))?.[1];
  const hint = suggestion ? `did you mean ${suggestion}? ${help}` : extraHint ? `${extraHint}; ${help}` : help;
  return new CryoError('USAGE', first.trim(), { hint, details: { commander: e.code } });
}

/** The hint a command gave commander for after its errors ("hint: ..." strings only). */
function commandHint(c: Command): string | undefined {
  // commander keeps no public getter for it; run.ts sets one to explain `--`
  const h = (c as unknown as { _showHelpAfterError?: unknown })._showHelpAfterError;
  return typeof h === 'string' && h.startsWith('hint: ') ? h.slice(6) : undefined;
}

/** --criu PATH or --criu=PATH, wherever it is (`cryo -V --criu X`: parsing stopped at -V). */
function criuArg(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] === '--criu') return argv[i + 1];
    if (argv[i]!.startsWith('--criu=')) return argv[i]!.slice(7);
  }
  return undefined;
}

/** The words of argv (process.argv form) that are not options, up to `--` (the --criu value skipped). */
function operandsOf(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] === '--criu') i++;
    else if (!argv[i]!.startsWith('-')) out.push(argv[i]!);
  }
  return out;
}

/** Whether the user asked for JSON: the running command's --json, else the word before any `--`. */
function wantsJson(argv: string[], running: Command | undefined): boolean {
  if (running) return Boolean(running.opts().json);
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.slice(0, argv.indexOf('--') === -1 ? undefined : argv.indexOf('--')).includes('--debug');
  let program: Command;
  try {
    program = buildProgram(await commandsFor(argv));
  } catch (e) {
    printError(e, debug);
    return ExitCode.FAILED;
  }
  let running: Command | undefined;
  program.hook('preAction', (_top, action) => {
    running = action;
  });
  program.on('option:version', () => {
    throw new CommanderError(0, 'cryo.version', 'version');
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError && e.code === 'cryo.version') {
      const { renderVersion } = await import('./version.js');
      process.stdout.write(await renderVersion(program.opts().criu as string | undefined ?? criuArg(argv)));
      return 0;
    }
    let err: unknown = e;
    if (e instanceof CommanderError) {
      if (QUIET_EXITS.has(e.code) || (e.code === 'commander.help' && e.exitCode === 0)) return 0;
      const from = e instanceof UsageFromCommander ? e.command : program;
      err = usageFromCommander(e, from, hints.get(from), operandsOf(argv));
    }
    printError(err, debug);
    // a command whose stdout carries data (-o -: an archive, raw memory) gives its error object on stderr
    if (wantsJson(argv, running)) printErrorJson(err, running?.opts().output === '-' ? process.stderr : process.stdout);
    return err instanceof CryoError ? err.exitCode : ExitCode.FAILED;
  }
}

/**
 * Ends the process with `code` now when nothing but stdout and stderr is left (no timer, child,
 * socket, pending write or request): what Node's own exit would do, without tearing the heap down
 * first (about 10 ms of every command). Otherwise Node ends it when the rest is done.
 */
export function exitWhenIdle(code: number): void {
  process.exitCode = code;
  const p = process as unknown as { _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] };
  if (!p._getActiveHandles || !p._getActiveRequests) return;
  if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return;
  if (p._getActiveRequests().length > 0) return;
  if (!p._getActiveHandles().every((h) => h === process.stdout || h === process.stderr)) return;
  if (process.getActiveResourcesInfo().some((r) => r !== 'PipeWrap' && r !== 'TTYWrap')) return;
  process.exit(code);
}
