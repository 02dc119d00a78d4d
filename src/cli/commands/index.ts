// Every command registers itself; keep this list sorted. Command modules must not import
// heavy modules (koffi, the image schemas) at top level: load them inside the action.
import type { Command } from 'commander';
import { register as check } from './check.js';
import { register as decode } from './decode.js';
import { register as diff } from './diff.js';
import { register as dump } from './dump.js';
import { register as encode } from './encode.js';
import { register as info } from './info.js';
import { register as inspect } from './inspect.js';
import { register as mem } from './mem.js';
import { register as restore } from './restore.js';
import { register as run } from './run.js';
import { register as setup } from './setup.js';
import { register as show } from './show.js';
import { register as stats } from './stats.js';
import { register as verify } from './verify.js';
import { register as x } from './x.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  check,
  decode,
  diff,
  dump,
  encode,
  info,
  inspect,
  mem,
  restore,
  run,
  setup,
  show,
  stats,
  verify,
  x,
];
