#!/usr/bin/env node
// The only module that touches `process` for exit status and argv.
import { Command, CommanderError } from 'commander';
import { CryoError, ExitCode } from '../errors.js';
import { commandsFor, type RegisterCommand } from './commands/index.js';
import { printError } from './output.js';

export function buildProgram(commands: RegisterCommand[]): Command {
  const program = new Command('cryo')
    .description('Checkpoint and restore Linux process trees with CRIU')
    .version(VERSION, '-V, --version')
    .option('--debug', 'show stack traces and CRIU details on errors')
    .option('--criu <path>', 'the criu binary to use (default: $CRYO_CRIU, PATH, then the one `cryo setup` provisioned)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<number> {
  let program: Command;
  try {
    program = buildProgram(await commandsFor(argv));
  } catch (e) {
    printError(e, argv.includes('--debug'));
    return ExitCode.FAILED;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; commander already printed its message
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return ExitCode.USAGE;
    }
    const debug = argv.includes('--debug');
    printError(e, debug);
    return e instanceof CryoError ? e.exitCode : ExitCode.FAILED;
  }
}

const code = await main(process.argv);
process.exitCode = code;
