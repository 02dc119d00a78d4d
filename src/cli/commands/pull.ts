// cryo pull REF -o FILE: a checkpoint from a registry, every blob and file checked, written as one
// archive (encrypted with --encrypt) that restore, verify and inspect read.
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';
import { addKeyOptions, addRegistryOptions, registryFromCli, secretFromCli, type RegistryCliOptions } from '../registry-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('pull')
    .description('pull a checkpoint from a container registry into an archive file (every digest and hash checked)')
    .argument('<ref>', 'oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]')
    .option('-o, --output <file>', 'the archive to write')
    .option('--force', 'replace an existing FILE')
    .option('--json', 'print the result as one JSON object (schemas/pull.schema.json)');
  addRegistryOptions(cmd);
  addKeyOptions(cmd, { encrypt: true });
  cmd.action(async (refText: string, o: RegistryCliOptions & { output?: string; force?: boolean; json?: boolean }) => {
    const { isOciTarget, parseOciRef } = await import('../../checkpoint/oci-ref.js');
    if (!isOciTarget(refText)) throw usageError(`expected a registry reference oci://HOST/REPO[:TAG], got '${refText}'`, 'cryo pull oci://localhost:5000/app:warm -o app.ckpt');
    if (o.output === undefined || o.output === '-') throw usageError('missing -o FILE: the archive to write', `cryo pull ${refText} -o app.ckpt`);
    // the pulled archive is encrypted only when asked; the key also opens an encrypted artifact
    const secret = await secretFromCli({ ...o, encrypt: true }, false);
    if (o.encrypt && !secret) throw usageError('--encrypt needs --key-file FILE or --passphrase-file FILE', 'head -c 32 /dev/urandom > key; then add --key-file key');
    const reg = await registryFromCli(refText, o, secret);
    const ref = parseOciRef(refText, o.insecure);
    const [{ existsSync }, { resolve }] = await Promise.all([import('node:fs'), import('node:path')]);
    const path = resolve(o.output);
    if (existsSync(path) && !o.force) throw usageError(`${path} already exists`, 'pass --force to replace it, or write to another file');
    const [{ pullCheckpoint }, { createStaging, stagingRoot }, { writeArchiveFile }, { writeEncryptedArchive }, { withTerminationSignals }, { progressLine }] = await Promise.all([
      import('../../checkpoint/oci-pull.js'), import('../../checkpoint/staging.js'), import('../../checkpoint/sink-archive.js'),
      import('../../checkpoint/crypto-sink.js'), import('../signals.js'), import('../render/progress.js'),
    ]);
    const t0 = performance.now();
    const staging = await createStaging('open', stagingRoot());
    const progress = progressLine('pulling the checkpoint');
    let pulled;
    let bytes;
    try {
      pulled = await withTerminationSignals((signal) => pullCheckpoint(ref, staging.dir, { ...reg, signal, onProgress: progress.update }));
      const meta = { ...pulled.meta, compression: pulled.meta.compression ?? { algorithm: 'zstd' as const, level: 3 } };
      bytes = o.encrypt
        ? await writeEncryptedArchive(staging.dir, meta, path, secret!, { level: meta.compression.level })
        : await writeArchiveFile(staging.dir, meta, path, { level: meta.compression.level });
    } finally {
      progress.done();
      await staging.remove();
    }
    const result = {
      ref: pulled.ref, digest: pulled.digest, archive: path, bytes, blobBytes: pulled.bytes, imageBytes: pulled.imageBytes,
      files: pulled.meta.files.length, encrypted: Boolean(o.encrypt), wallMs: Math.round((performance.now() - t0) * 10) / 10,
    };
    if (o.json) printJson(result);
    else process.stderr.write(`pulled ${result.ref} (${result.digest}) into ${path}\n`);
  });
}
