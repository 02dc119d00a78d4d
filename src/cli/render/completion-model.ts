// What shell completion needs to know, read from the commander program itself: commands, their
// options (which take a value, which value is a path or one of some choices) and their arguments.
import type { Argument, Command, Option } from 'commander';

export interface CompletionOption {
  /** every spelling: ["-D", "--images-dir"] */
  flags: string[];
  description: string;
  /** 'none': a switch; 'required': `<value>`; 'optional': `[value]` */
  value: 'none' | 'required' | 'optional';
  valueName?: string;
  /** the value is a file or directory */
  path: boolean;
  choices?: string[];
}

export interface CompletionArgument {
  name: string;
  description: string;
  path: boolean;
  choices?: string[];
  variadic: boolean;
  /** a command to run (`cryo run -- CMD`) */
  command: boolean;
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  arguments: CompletionArgument[];
}

export interface CompletionModel {
  name: string;
  options: CompletionOption[];
  commands: CompletionCommand[];
}

// value names that are paths; positional arguments also by their description ("checkpoint directory")
const PATH_NAME = /dir|file|path|archive/i;
const PATH_TEXT = /director|archive|\bfile\b|checkpoint/i;
// "ps|fds|mems|rss": a description that lists the choices
const CHOICE_LIST = /^[\w-]+(\|[\w-]+)+$/;

function readOption(o: Option): CompletionOption {
  const valueName = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '');
  const value = o.required ? 'required' : o.optional ? 'optional' : 'none';
  return {
    flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
    description: o.description,
    value,
    valueName,
    path: value !== 'none' && valueName !== undefined && PATH_NAME.test(valueName),
    choices: o.argChoices?.slice(),
  };
}

function readArgument(a: Argument, commandName: string): CompletionArgument {
  const name = a.name();
  const listed = CHOICE_LIST.test(a.description) ? a.description.split('|') : undefined;
  const command = commandName === 'run';
  return {
    name, description: a.description, variadic: a.variadic, command: command && name === 'cmd',
    choices: a.argChoices?.slice() ?? listed,
    path: !listed && !a.argChoices && (PATH_NAME.test(name) || PATH_TEXT.test(a.description) || (command && name !== 'cmd')),
  };
}

const HELP: CompletionOption = { flags: ['-h', '--help'], description: 'display help for command', value: 'none', path: false };

export function readCompletionModel(program: Command): CompletionModel {
  const commands: CompletionCommand[] = program.commands
    .map((c) => ({
      name: c.name(),
      description: c.description(),
      options: [...c.options.filter((o) => !o.hidden).map(readOption), HELP],
      arguments: c.registeredArguments.map((a) => readArgument(a, c.name())),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  // commander's implicit `help [command]`
  if (!commands.some((c) => c.name === 'help')) {
    commands.push({
      name: 'help', description: 'display help for command', options: [],
      arguments: [{ name: 'command', description: 'a command', path: false, variadic: false, command: false, choices: commands.map((c) => c.name) }],
    });
  }
  return { name: program.name(), options: [...program.options.filter((o) => !o.hidden).map(readOption), HELP], commands };
}
