// Verification of a checkpoint without restoring it: an archive is read completely (every record
// and sha256); a directory is checked complete by CRIU's rules and against its cryo.json (sizes,
// and sha256s when the dump recorded them).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { verifyArchive, type ArchiveInput } from '../checkpoint/archive-read.js';
import { assertComplete } from '../checkpoint/complete.js';
import { checkDirFiles } from '../checkpoint/dir-hashes.js';
import { readMeta } from '../checkpoint/meta-file.js';
import type { CheckpointMeta } from '../checkpoint/meta.js';
import { openDir } from '../checkpoint/source-dir.js';
import { isArchiveFile } from '../checkpoint/source-archive.js';
import { isContainerTar, openContainerTar } from '../checkpoint/source-container-tar.js';

export type VerifyResult = {
  ok: true;
  /** the checkpoint's description; null for a bare CRIU dump */
  meta: CheckpointMeta | null;
  files: number;
  imageBytes: number;
} & ({ dir: string } | { archive: string; bytes: number });

/** Verifies a checkpoint directory or archive (a path, or `{stream, name}`); throws BAD_IMAGE / BAD_ARCHIVE (exit 4). */
export async function verify(input: string | { stream: ArchiveInput; name?: string }, opts: { signal?: AbortSignal; onProgress?: (bytes: number, total: number) => void } = {}): Promise<VerifyResult> {
  if (typeof input !== 'string' || isArchiveFile(input)) {
    const r = await verifyArchive(typeof input === 'string' ? input : input.stream, opts);
    const name = typeof input === 'string' ? input : input.name ?? '-';
    return { ok: true, meta: r.meta, files: r.files, imageBytes: r.imageBytes, archive: name, bytes: r.bytes };
  }
  // a container checkpoint tar is read through completely, then checked as a directory
  if (await isContainerTar(input)) return verifyContainerTar(input, opts);
  const opened = openDir(input);
  assertComplete(opened.dir);
  const meta = readMeta(opened.dir);
  if (meta) await checkDirFiles(opened.dir, meta, { signal: opts.signal });
  const files = meta?.files.length ?? 0;
  const bytes = meta?.totalBytes ?? 0;
  return { ok: true, meta: meta ?? null, files, imageBytes: bytes, dir: opened.dir };
}

async function verifyContainerTar(input: string, opts: { signal?: AbortSignal }): Promise<VerifyResult> {
  const opened = await openContainerTar(input, opts);
  try {
    assertComplete(opened.dir);
    const images = readdirSync(opened.dir).filter((n) => n.endsWith('.img') || n.startsWith('pages-'));
    const imageBytes = images.reduce((n, f) => n + lstatSync(join(opened.dir, f)).size, 0);
    return { ok: true, meta: null, files: images.length, imageBytes, archive: opened.path, bytes: opened.bytes ?? 0 };
  } finally {
    await opened.close();
  }
}
