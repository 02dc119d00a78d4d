// Streaming decode: entries of an image read from a path or any byte source, without holding it whole.
import { CryoError } from '../errors.js';
import type { DecodeOptions } from './image.js';
import { Framer, options, parseImage } from './framing.js';
import type { Entry } from './wire.js';

/** A source of bytes for streaming: an async iterable of chunks (a Readable stream works). */
export type ByteSource = AsyncIterable<Uint8Array | string>;

class ChunkQueue {
  private chunks: Uint8Array[] = [];
  private have = 0;
  private done = false;
  private it: AsyncIterator<Uint8Array | string>;
  constructor(src: ByteSource) {
    this.it = src[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) { this.done = true; break; }
      const c = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      if (c.length) { this.chunks.push(c); this.have += c.length; }
    }
  }

  async take(n: number): Promise<Uint8Array> {
    await this.fill(n);
    const k = Math.min(n, this.have);
    if (this.chunks.length && this.chunks[0].length >= k) {
      const c = this.chunks[0];
      const out = c.subarray(0, k);
      if (c.length === k) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
      this.have -= k;
      return out;
    }
    const out = Buffer.allocUnsafe(k);
    let off = 0;
    while (off < k) {
      const c = this.chunks[0];
      const m = Math.min(c.length, k - off);
      out.set(c.subarray(0, m), off);
      off += m;
      if (m === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(m);
    }
    this.have -= k;
    return out;
  }

  async rest(): Promise<Uint8Array> {
    await this.fill(Infinity);
    return this.take(this.have);
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

/** What iterateEntries yields first, then one item per entry. */
export interface ImageHeader {
  magic: string;
  secondaryMagic: number | null;
}

/**
 * Stream the entries of an image without holding it in memory: a path or a byte source.
 * Yields the header first ({magic, secondaryMagic}), then entries.
 */
export async function* iterateImage(src: string | ByteSource, opts: DecodeOptions = {}): AsyncGenerator<{ header: ImageHeader } | { entry: Entry }> {
  let source: ByteSource;
  let name = opts.name;
  if (typeof src === 'string') {
    const { open } = await import('node:fs/promises');
    let fh;
    try {
      fh = await open(src, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot read ${src}: ${err.code ?? err.message}`, {
        hint: err.code === 'ENOENT' ? 'check the path to the image file' : 'check the file permissions', cause: e,
      });
    }
    source = fh.createReadStream({ highWaterMark: 1 << 20 });
    name ??= src;
  } else source = src;
  const fr = new Framer(name ?? '<input>', options(opts), opts);
  const q = new ChunkQueue(source);
  const gen = parseImage(fr, { ...opts, name });
  try {
    let input: Uint8Array | undefined;
    for (;;) {
      const r = gen.next(input!);
      if (r.done) break;
      const req = r.value;
      input = undefined;
      if (req.t === 'read') input = await q.take(req.n);
      else if (req.t === 'rest') input = await q.rest();
      else if (req.t === 'head') yield { header: { magic: req.magic, secondaryMagic: req.secondary } };
      else yield { entry: req.entry };
    }
  } finally {
    await q.close();
  }
}

/** Stream only the entries of an image (see iterateImage for the header). */
export async function* iterateEntries(src: string | ByteSource, opts: DecodeOptions = {}): AsyncGenerator<Entry> {
  for await (const item of iterateImage(src, opts)) if ('entry' in item) yield item.entry;
}
