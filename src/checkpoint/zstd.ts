// zstd streaming through libzstd (koffi). Every libzstd call runs on koffi's worker threads
// (`.async`), so compressing a gigabyte never blocks the event loop; libzstd's own workers
// (ZSTD_c_nbWorkers) spread compression over the cores.
import { spawn } from 'node:child_process';
import { CryoError } from '../errors.js';
import { cutFrames } from './zstd-frames.js';

// ZSTD_cParameter / ZSTD_EndDirective values from zstd.h (stable API)
const ZSTD_c_compressionLevel = 100;
const ZSTD_c_checksumFlag = 201;
const ZSTD_c_nbWorkers = 400;
const ZSTD_e_continue = 0;
const ZSTD_e_end = 2;

type AsyncFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

interface ZstdLib {
  createCCtx: () => unknown;
  freeCCtx: (c: unknown) => number;
  createDCtx: () => unknown;
  freeDCtx: (c: unknown) => number;
  setParameter: (c: unknown, p: number, v: number) => number;
  compress: AsyncFn;
  decompress: AsyncFn;
  decompressDCtx: AsyncFn;
  compress2: AsyncFn;
  compressBound: (n: number) => number;
  isError: (code: number | bigint) => number;
  errorName: (code: number) => string;
  version: () => number;
}

let lib: ZstdLib | undefined;

async function loadZstd(): Promise<ZstdLib> {
  if (lib) return lib;
  const { default: koffi } = await import('koffi');
  let z;
  try {
    z = koffi.load('libzstd.so.1');
  } catch (e) {
    throw new CryoError('ENVIRONMENT', 'libzstd.so.1 is not available', {
      hint: 'install the zstd library (Debian: apt-get install libzstd1)',
      cause: e,
    });
  }
  lib = {
    createCCtx: z.func('void *ZSTD_createCCtx()') as ZstdLib['createCCtx'],
    freeCCtx: z.func('size_t ZSTD_freeCCtx(void *cctx)') as ZstdLib['freeCCtx'],
    createDCtx: z.func('void *ZSTD_createDCtx()') as ZstdLib['createDCtx'],
    freeDCtx: z.func('size_t ZSTD_freeDCtx(void *dctx)') as ZstdLib['freeDCtx'],
    setParameter: z.func('size_t ZSTD_CCtx_setParameter(void *cctx, int param, int value)') as ZstdLib['setParameter'],
    compress: z.func(
      'size_t ZSTD_compressStream2_simpleArgs(void *cctx, void *dst, size_t dstCapacity, _Inout_ size_t *dstPos, const void *src, size_t srcSize, _Inout_ size_t *srcPos, int endOp)',
    ) as unknown as AsyncFn,
    decompress: z.func(
      'size_t ZSTD_decompressStream_simpleArgs(void *dctx, void *dst, size_t dstCapacity, _Inout_ size_t *dstPos, const void *src, size_t srcSize, _Inout_ size_t *srcPos)',
    ) as unknown as AsyncFn,
    compress2: z.func('size_t ZSTD_compress2(void *cctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize)') as unknown as AsyncFn,
    compressBound: z.func('size_t ZSTD_compressBound(size_t srcSize)') as ZstdLib['compressBound'],
    decompressDCtx: z.func('size_t ZSTD_decompressDCtx(void *dctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize)') as unknown as AsyncFn,
    isError: z.func('unsigned int ZSTD_isError(size_t code)') as ZstdLib['isError'],
    errorName: z.func('const char *ZSTD_getErrorName(size_t code)') as ZstdLib['errorName'],
    version: z.func('unsigned int ZSTD_versionNumber()') as ZstdLib['version'],
  };
  return lib;
}

/** An async libzstd call; the callback holds `args` so no buffer is collected while native code uses it. */
function callAsync(fn: AsyncFn, args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => fn.async(...args, (err: unknown, res: number) => {
    args.length = 0;
    if (err) reject(err);
    else resolve(res);
  }));
}

export interface ZstdOptions {
  /** compression level, 1..19; default 3 */
  level?: number;
  /** libzstd worker threads; default: the number of cores (at most 4); 0 = compress on one thread */
  threads?: number;
  /** 'lib' (libzstd via koffi, default) or 'program' (the zstd executable) */
  backend?: 'lib' | 'program';
}

const OUT_CHUNK = 1 << 20;

function defaultThreads(): number {
  return 2;
}

/** Compresses a stream of chunks into one zstd frame (with content checksum). */
export async function* zstdCompress(source: AsyncIterable<Uint8Array>, opts: ZstdOptions = {}): AsyncGenerator<Buffer> {
  if (opts.backend === 'program') {
    yield* runProgram(['-q', '-c', `-${opts.level ?? 3}`, `-T${opts.threads ?? defaultThreads()}`], source, 'compress');
    return;
  }
  const z = await loadZstd();
  const cctx = z.createCCtx();
  if (!cctx) throw new CryoError('FAILED', 'ZSTD_createCCtx failed');
  try {
    check(z, z.setParameter(cctx, ZSTD_c_compressionLevel, opts.level ?? 3), 'set level');
    check(z, z.setParameter(cctx, ZSTD_c_checksumFlag, 1), 'set checksum');
    const threads = opts.threads ?? defaultThreads();
    if (threads > 0) check(z, z.setParameter(cctx, ZSTD_c_nbWorkers, threads), 'set workers');
    let out = Buffer.allocUnsafe(OUT_CHUNK);
    let outPos = 0;
    const step = async (src: Uint8Array, mode: number): Promise<Buffer[]> => {
      const ready: Buffer[] = [];
      const srcPos = [0];
      for (;;) {
        const dstPos = [outPos];
        const r = await callAsync(z.compress, [cctx, out, out.length, dstPos, src, src.length, srcPos, mode]);
        check(z, r, 'compress');
        outPos = dstPos[0];
        if (outPos === out.length) {
          ready.push(out);
          out = Buffer.allocUnsafe(OUT_CHUNK);
          outPos = 0;
        }
        const inputDone = srcPos[0] >= src.length;
        if (mode === ZSTD_e_end ? r === 0 : inputDone) break;
      }
      return ready;
    };
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      for (const b of await step(chunk, ZSTD_e_continue)) yield b;
    }
    for (const b of await step(new Uint8Array(0), ZSTD_e_end)) yield b;
    if (outPos > 0) yield out.subarray(0, outPos);
  } finally {
    z.freeCCtx(cctx);
  }
}

/**
 * Decompresses a zstd stream (one or more frames). Throws BAD_ARCHIVE when the data is not
 * zstd, is corrupted (checksum) or ends inside a frame.
 */
export async function* zstdDecompress(source: AsyncIterable<Uint8Array>, opts: ZstdOptions = {}): AsyncGenerator<Buffer> {
  if (opts.backend === 'program') {
    yield* runProgram(['-q', '-d', '-c'], source, 'decompress');
    return;
  }
  const z = await loadZstd();
  const dctx = z.createDCtx();
  if (!dctx) throw new CryoError('FAILED', 'ZSTD_createDCtx failed');
  try {
    let last = 0; // 0: at a frame boundary
    let sawInput = false;
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      sawInput = true;
      const srcPos = [0];
      for (;;) {
        const out = Buffer.allocUnsafe(OUT_CHUNK);
        const dstPos = [0];
        const r = await callAsync(z.decompress, [dctx, out, out.length, dstPos, chunk, chunk.length, srcPos]);
        if (z.isError(r)) {
          throw new CryoError('BAD_ARCHIVE', `archive data is corrupted (zstd: ${z.errorName(r)})`, {
            hint: 'the archive was damaged in storage or transfer; use another copy',
          });
        }
        last = r;
        if (dstPos[0] > 0) yield out.subarray(0, dstPos[0]);
        // a full output buffer may hide more pending output even when the input is consumed; r 0 is a
        // finished frame (another call without input would ask for the next frame's header)
        if (srcPos[0] >= chunk.length && (dstPos[0] < out.length || r === 0)) break;
      }
    }
    if (!sawInput || last !== 0) {
      throw new CryoError('BAD_ARCHIVE', 'archive is truncated (the compressed data ends inside a frame)', {
        hint: 'the archive was not completely written or copied; use a complete copy',
      });
    }
  } finally {
    z.freeDCtx(dctx);
  }
}

/** Frames of at most this many bytes are decoded whole, in parallel; larger ones stream. */
const MAX_PARALLEL_FRAME = 16 << 20;

export interface FramedZstdOptions extends ZstdOptions {
  /** decoded bytes per frame, at least (a frame ends at the first input chunk that reaches it); default 2 MiB */
  frameBytes?: number;
}

/**
 * Compresses a stream of chunks into independent zstd frames of about `frameBytes` each, every one
 * with its content size and checksum, up to `threads` frames at a time on koffi's threads: together
 * still one standard zstd stream, and a reader can decode the frames in parallel. Small frames keep
 * each one in the CPU's caches from decoding to hashing and writing.
 */
export async function* zstdCompressFrames(source: AsyncIterable<Uint8Array>, opts: FramedZstdOptions = {}): AsyncGenerator<Buffer> {
  const frameBytes = opts.frameBytes ?? 2 << 20;
  const slots = Math.max(1, opts.threads ?? defaultThreads());
  const z = await loadZstd();
  const cctxs: unknown[] = [];
  const queue: Array<Promise<Buffer>> = [];
  let frames = 0;
  const start = (pieces: Uint8Array[]): void => {
    const slot = frames++ % slots;
    if (cctxs[slot] === undefined) {
      const c = z.createCCtx();
      if (!c) throw new CryoError('FAILED', 'ZSTD_createCCtx failed');
      cctxs[slot] = c;
      check(z, z.setParameter(c, ZSTD_c_compressionLevel, opts.level ?? 3), 'set level');
      check(z, z.setParameter(c, ZSTD_c_checksumFlag, 1), 'set checksum');
    }
    const src = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    const job = (async () => {
      const dst = Buffer.allocUnsafe(z.compressBound(src.length));
      const r = await callAsync(z.compress2, [cctxs[slot], dst, dst.length, src, src.length]);
      check(z, r, 'compress');
      return dst.subarray(0, r);
    })();
    job.catch(() => {}); // observed in order
    queue.push(job);
  };
  try {
    let frame: Uint8Array[] = [];
    let inFrame = 0;
    for await (let chunk of source) {
      while (chunk.length > 0) {
        // a chunk much larger than a frame is cut; smaller ones are gathered
        const take = Math.min(chunk.length, 2 * frameBytes);
        frame.push(chunk.subarray(0, take));
        inFrame += take;
        chunk = chunk.subarray(take);
        if (inFrame >= frameBytes) {
          // a context is reused only once the frame before it on that context was awaited
          if (queue.length >= slots) yield await queue.shift()!;
          start(frame);
          frame = [];
          inFrame = 0;
        }
      }
    }
    if (inFrame > 0 || frames === 0) {
      if (queue.length >= slots) yield await queue.shift()!;
      start(frame.length > 0 ? frame : [new Uint8Array(0)]);
    }
    while (queue.length > 0) yield await queue.shift()!;
  } finally {
    await Promise.allSettled(queue);
    for (const c of cctxs) if (c !== undefined) z.freeCCtx(c);
  }
}

function corrupted(z: ZstdLib, r: number | bigint): CryoError {
  return new CryoError('BAD_ARCHIVE', `archive data is corrupted (zstd: ${z.isError(r) ? z.errorName(r as number) : 'a frame does not match its header'})`, {
    hint: 'the archive was damaged in storage or transfer; use another copy',
  });
}

/**
 * Decodes one whole frame (its compressed pieces) of `size` decoded bytes into a new buffer, in one
 * call on koffi's threads: the main thread may then hash for a while without stalling the decoders.
 */
async function decodeFrame(z: ZstdLib, dctx: unknown, pieces: Buffer[], size: number): Promise<Buffer> {
  const src = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
  const out = Buffer.allocUnsafe(size);
  const r = await callAsync(z.decompressDCtx, [dctx, out, out.length, src, src.length]);
  if (z.isError(r)) throw corrupted(z, r);
  // more than one frame, or fewer bytes than the header declared
  if (r !== size) throw corrupted(z, 0);
  return out;
}

/**
 * Decompresses a zstd stream, decoding up to `parallel` frames at a time on koffi's threads when the
 * stream is made of frames with their sizes (zstdCompressFrames), else (from the first frame that is
 * not) sequentially as zstdDecompress does. Output is in order. Throws BAD_ARCHIVE as zstdDecompress
 * does, and when the frames declare more than `maxBytes` in total.
 */
export async function* zstdDecompressFrames(source: AsyncIterable<Uint8Array>, opts: { maxBytes: number; parallel?: number }): AsyncGenerator<Buffer> {
  const z = await loadZstd();
  const parallel = Math.max(1, opts.parallel ?? 2);
  const dctxs: unknown[] = [];
  const queue: Array<Promise<Buffer>> = [];
  let total = 0;
  let frames = 0;
  try {
    for await (const cut of cutFrames(source, MAX_PARALLEL_FRAME)) {
      if ('rest' in cut) {
        while (queue.length > 0) yield await queue.shift()!;
        yield* zstdDecompress(cut.rest);
        return;
      }
      total += cut.contentSize;
      if (total > opts.maxBytes) {
        throw new CryoError('BAD_ARCHIVE', 'the archive holds more data than its manifest declares', {
          hint: 'the archive is damaged, truncated or not a cryo archive; use a complete copy',
        });
      }
      // a frame's context is reused only once the frame before it on that context was awaited
      if (queue.length >= parallel) yield await queue.shift()!;
      const slot = frames++ % parallel;
      if (dctxs[slot] === undefined) {
        const d = z.createDCtx();
        if (!d) throw new CryoError('FAILED', 'ZSTD_createDCtx failed');
        dctxs[slot] = d;
      }
      const job = decodeFrame(z, dctxs[slot], cut.pieces, cut.contentSize);
      job.catch(() => {}); // observed in order
      queue.push(job);
    }
    while (queue.length > 0) yield await queue.shift()!;
    if (frames === 0) {
      throw new CryoError('BAD_ARCHIVE', 'archive is truncated (the compressed data ends inside a frame)', {
        hint: 'the archive was not completely written or copied; use a complete copy',
      });
    }
  } finally {
    // native calls still running write into their buffers with their contexts: let them end first
    await Promise.allSettled(queue);
    for (const d of dctxs) if (d !== undefined) z.freeDCtx(d);
  }
}

function check(z: ZstdLib, r: number, what: string): void {
  if (z.isError(r)) throw new CryoError('FAILED', `zstd ${what} failed: ${z.errorName(r)}`);
}

/** The zstd executable as a filter (used by the benchmark to compare with libzstd). */
async function* runProgram(args: string[], source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Buffer> {
  const child = spawn('zstd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (e) => reject(new CryoError('ENVIRONMENT', `cannot run zstd: ${e.message}`, { hint: 'install zstd', cause: e })));
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => {});
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
      }
    } finally {
      child.stdin.end();
    }
  })();
  feeding.catch(() => child.kill('SIGKILL'));
  for await (const chunk of child.stdout) yield chunk as Buffer;
  await feeding;
  const code = await exited;
  if (code !== 0) {
    throw new CryoError(what === 'decompress' ? 'BAD_ARCHIVE' : 'FAILED', `zstd ${what} failed: ${stderr.trim() || `exit ${code}`}`);
  }
}
