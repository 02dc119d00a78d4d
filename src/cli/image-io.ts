// Input/output helpers shared by the decode/encode/info/show commands (stdin/stdout when no path).
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
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
      // a regular file in one read: a stream's chunks and ticks cost more than the decoding of most images
      if (st.isFile()) return readFileBounded(path, max, tooBig);
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

/** A regular file whole, refused once it holds more than `max` bytes (it may grow after the stat). */
function readFileBounded(path: string, max: number, tooBig: () => CryoError): Buffer {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.min(max, fstatSync(fd).size) + 1);
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        if (len > max) throw tooBig();
        const bigger = Buffer.allocUnsafe(Math.min(max + 1, len * 2));
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > max) throw tooBig();
    return buf.subarray(0, len);
  } finally {
    closeSync(fd);
  }
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
