// Archives of arbitrary image directories for tests: a checkpoint description built from the files.
import type { Writable } from 'node:stream';
import { listImages } from '../../src/checkpoint/images-list.js';
import type { CheckpointFile, CheckpointMeta } from '../../src/checkpoint/meta.js';
import { writeArchiveFile } from '../../src/checkpoint/sink-archive.js';
import { writeArchiveStream } from '../../src/checkpoint/sink-stream.js';

export async function testMeta(dir: string, over: { criuVersion?: string; dumpOptions?: Record<string, unknown>; files?: CheckpointFile[] } = {}): Promise<CheckpointMeta> {
  const files = over.files ?? await listImages(dir, { hash: true });
  return {
    format: 'cryo-checkpoint',
    version: 2,
    createdAt: new Date().toISOString(),
    cryo: { version: 'test' },
    criu: { version: over.criuVersion ?? '4.2.1' },
    host: { hostname: 'test', kernel: '6.0', arch: 'x64' },
    tree: { pid: 1, rootPid: 1, pidns: false, netns: false, processes: [{ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: 1 }] },
    restoreOptions: {},
    dumpOptions: over.dumpOptions ?? {},
    compression: { algorithm: 'zstd', level: 3 },
    files,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
  };
}

/** Writes `dir` as an archive to a path or a stream, as `cryo dump -o` would. */
export async function writeTestArchive(
  dir: string, out: string | Writable, over: { criuVersion?: string; dumpOptions?: Record<string, unknown>; signal?: AbortSignal } = {},
): Promise<{ meta: CheckpointMeta; bytes: number; imageBytes: number }> {
  const meta = await testMeta(dir, over);
  const bytes = typeof out === 'string'
    ? await writeArchiveFile(dir, meta, out, { signal: over.signal })
    : await writeArchiveStream(dir, meta, out, { signal: over.signal });
  return { meta, bytes, imageBytes: meta.totalBytes };
}
