// Input/output helpers shared by the decode/encode/info/show commands (stdin/stdout when no path).
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { CryoError } from '../errors.js';

/** Default bound on what decode/info/show read whole (images); encode's JSON has its own, smaller one. */
const MAX_INPUT = 1 << 30;

/** The whole of a file (or stdin), refused once it grows past `max` bytes: nothing unbounded is held. */
export async function readInput(path: string | undefined, max = MAX_INPUT, option?: string): Promise<Buffer> {
  const name = path !== undefined && path !== '-' ? path : '<stdin>';
  const tooBig = () => new CryoError('BAD_IMAGE', `${name} is larger than the ${max} bytes this command reads`, {
    hint: option ? `pass ${option} to raise the limit, if the input is what you meant` : 'the input is not an image of a size CRIU writes', details: { file: name, limit: max },
  });
  let source: AsyncIterable<Buffer> = process.stdin as AsyncIterable<Buffer>;
  if (path !== undefined && path !== '-') {
    try {
      const st = statSync(path);
      if (st.isFile() && st.size > max) throw tooBig();
      if (st.isDirectory()) throw new CryoError('USAGE', `${path} is a directory`, { hint: 'pass one image file' });
      source = createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    } catch (e) {
      if (e instanceof CryoError) throw e;
      throw unreadable(path, e);
    }
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const c of source) {
      total += c.length;
      if (total > max) throw tooBig();
      chunks.push(c);
    }
  } catch (e) {
    if (e instanceof CryoError) throw e;
    throw unreadable(name, e);
  }
  return Buffer.concat(chunks);
}

function unreadable(path: string, e: unknown): CryoError {
  const err = e as NodeJS.ErrnoException;
  return new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot read ${path}: ${err.code ?? err.message}`, {
    hint: err.code === 'ENOENT' ? 'check the path' : 'check the file permissions', cause: e,
  });
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
