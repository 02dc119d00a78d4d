// Shared CLI rendering helpers: errors, JSON, colour.
import { CryoError } from '../errors.js';
import { escapeText } from './render/escape.js';

/** Colour only on a terminal, and never when NO_COLOR is set. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function paint(code: string, text: string, on: boolean): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** One line saying what is wrong, one hint line; the stack only with --debug. */
export function printError(e: unknown, debug: boolean): void {
  const color = useColor(process.stderr);
  if (e instanceof CryoError) {
    // messages quote names from checkpoints and live trees: one line each, no control characters
    process.stderr.write(`${paint('31', 'cryo: error:', color)} ${escapeText(e.message)}\n`);
    if (e.hint) process.stderr.write(`${paint('2', 'hint:', color)} ${escapeText(e.hint)}\n`);
    if (debug) {
      if (Object.keys(e.details).length) process.stderr.write(`details: ${JSON.stringify(e.details, jsonReplacer, 2)}\n`);
      process.stderr.write(`${e.stack}\n`);
      if (e.cause) process.stderr.write(`cause: ${e.cause instanceof Error ? e.cause.stack : String(e.cause)}\n`);
    }
    return;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${paint('31', 'cryo: internal error:', color)} ${escapeText(msg.split('\n')[0]!)}\n`);
  process.stderr.write(`${paint('2', 'hint:', color)} this is a bug in cryo; run again with --debug and report the output\n`);
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
}

/** JSON.stringify replacer: bigints as exact numbers are not representable, so as strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** `--json` of a failing command: one object on stdout, `{"error": {code, message, hint, exitCode, ...details}}`. */
export function printErrorJson(e: unknown, stream: NodeJS.WriteStream = process.stdout): void {
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const value = e instanceof CryoError ? e.toJSON() : { error: { code: 'INTERNAL', message, hint: 'this is a bug in cryo; run again with --debug and report the output', exitCode: 1 } };
  // a reader that went away (the usual reason a stream command fails) must not turn into a crash
  stream.on('error', () => {});
  stream.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}
