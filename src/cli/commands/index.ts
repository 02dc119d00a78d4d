// Every command lives in its own module, loaded only when it is the one being run (or for help): a
// command's start-up pays for no other. Keep this list sorted. Command modules must not import heavy
// modules (koffi, the image schemas) at top level: load them inside the action.
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

type Loader = () => Promise<{ register: RegisterCommand }>;

export const commandLoaders: Record<string, Loader> = {
  check: () => import('./check.js'),
  completion: () => import('./completion.js'),
  decode: () => import('./decode.js'),
  diff: () => import('./diff.js'),
  dump: () => import('./dump.js'),
  encode: () => import('./encode.js'),
  info: () => import('./info.js'),
  inspect: () => import('./inspect.js'),
  job: () => import('./job.js'),
  ls: () => import('./ls.js'),
  mem: () => import('./mem.js'),
  migrate: () => import('./migrate.js'),
  pull: () => import('./pull.js'),
  push: () => import('./push.js'),
  receive: () => import('./receive.js'),
  report: () => import('./report.js'),
  restore: () => import('./restore.js'),
  resume: () => import('./resume.js'),
  run: () => import('./run.js'),
  setup: () => import('./setup.js'),
  show: () => import('./show.js'),
  stats: () => import('./stats.js'),
  verify: () => import('./verify.js'),
  x: () => import('./x.js'),
};

/**
 * The register functions needed for `argv` (process.argv form): just the named command's when the
 * first word after the global options is one, none for a bare `--version`, else all of them (help,
 * unknown commands).
 */
export async function commandsFor(argv: string[]): Promise<RegisterCommand[]> {
  let name: string | undefined;
  let version = false;
  let help = false;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--criu') i++;
    else if (a === '-V' || a === '--version') version = true;
    else if (a === '-h' || a === '--help') help = true;
    else if (a === '--') break;
    else if (!a.startsWith('-')) {
      name = a;
      break;
    }
  }
  // `cryo --version` alone registers no command: the version handler throws while options are parsed
  if (name === undefined && version && !help) return [];
  const names = name !== undefined && Object.hasOwn(commandLoaders, name) ? [name] : Object.keys(commandLoaders);
  const mods = await Promise.all(names.map((n) => commandLoaders[n]()));
  return mods.map((m) => m.register);
}
