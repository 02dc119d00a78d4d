// Input/output helpers shared by the decode/encode/info/show commands (stdin/stdout when no path).
import { readFileSync, writeFileSync } from 'node:fs';
import { CryoError } from '../errors.js';

export async function readInput(path: string | undefined): Promise<Buffer> {
  if (path !== undefined && path !== '-') {
    try {
      return readFileSync(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot read ${path}: ${err.code ?? err.message}`, {
        hint: err.code === 'ENOENT' ? 'check the path' : 'check the file permissions', cause: e,
      });
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function writeOutput(path: string | undefined, data: string | Uint8Array, stdoutSuffix = ''): void {
  if (path !== undefined && path !== '-') {
    try {
      writeFileSync(path, data);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CryoError('FAILED', `cannot write ${path}: ${err.code ?? err.message}`, { hint: 'check the directory exists and is writable', cause: e });
    }
    return;
  }
  process.stdout.write(data);
  if (stdoutSuffix) process.stdout.write(stdoutSuffix);
}

/** crit's human_readable() for `show --nopl`: '4KB', '1.5MB'. */
export function humanSize(num: number): string {
  for (const unit of ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z']) {
    if (num < 1024) return Number.isInteger(num) ? `${num}${unit}B` : `${num.toFixed(1)}${unit}B`;
    num /= 1024;
  }
  return `${num.toFixed(1)}YB`;
}
