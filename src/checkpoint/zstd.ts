// zstd streaming through libzstd (koffi). Every libzstd call runs on koffi's worker threads
// (`.async`), so compressing a gigabyte never blocks the event loop; libzstd's own workers
// (ZSTD_c_nbWorkers) spread compression over the cores.
import { spawn } from 'node:child_process';
import { CryoError } from '../errors.js';

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
  isError: (code: number) => number;
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
    isError: z.func('unsigned int ZSTD_isError(size_t code)') as ZstdLib['isError'],
    errorName: z.func('const char *ZSTD_getErrorName(size_t code)') as ZstdLib['errorName'],
    version: z.func('unsigned int ZSTD_versionNumber()') as ZstdLib['version'],
  };
  return lib;
}

function callAsync(fn: AsyncFn, args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => fn.async(...args, (err: unknown, res: number) => (err ? reject(err) : resolve(res))));
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
