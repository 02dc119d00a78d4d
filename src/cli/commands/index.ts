// Every command registers itself; keep this list sorted. Command modules must not import
// heavy modules (koffi, the image schemas) at top level: load them inside the action.
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
