// cryo push CHECKPOINT REF: a checkpoint (archive, encrypted archive or directory) into a registry
// as an OCI artifact; chunks the registry has already are not sent again (docs/registry.md).
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { printJson } from '../output.js';
import { addKeyOptions, addRegistryOptions, decryptedInput, registryFromCli, secretFromCli, type RegistryCliOptions } from '../registry-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('push')
    .description('push a checkpoint to a container registry (OCI Distribution API); only chunks the registry lacks are uploaded')
    .argument('<checkpoint>', 'an archive written by `cryo dump -o` (encrypted ones need their key), or a checkpoint directory')
    .argument('<ref>', 'oci://HOST[:PORT]/REPOSITORY[:TAG]')
    .option('--json', 'print the result as one JSON object (schemas/push.schema.json)');
  addRegistryOptions(cmd);
  addKeyOptions(cmd, { encrypt: true });
  cmd.action(async (input: string, refText: string, o: RegistryCliOptions & { json?: boolean }) => {
    const { isOciTarget, parseOciRef } = await import('../../checkpoint/oci-ref.js');
    if (!isOciTarget(refText)) throw usageError(`expected a registry reference oci://HOST/REPO[:TAG], got '${refText}'`, `cryo push ${input} oci://localhost:5000/app:warm`);
    const secret = await secretFromCli({ ...o, encrypt: true }, false);
    const encrypted = await decryptedInput(input, secret);
    // a checkpoint encrypted at rest is never pushed in the clear
    const seal = o.encrypt || encrypted !== undefined ? secret : undefined;
    if (o.encrypt && !secret) throw usageError('--encrypt needs --key-file FILE or --passphrase-file FILE', 'head -c 32 /dev/urandom > key; then add --key-file key');
    const reg = await registryFromCli(refText, o, seal);
    const ref = parseOciRef(refText, o.insecure);
    const [{ openCheckpoint }, { pushCheckpoint }, { withTerminationSignals }, { progressLine }] = await Promise.all([
      import('../../checkpoint/open.js'), import('../../checkpoint/oci-push.js'), import('../signals.js'), import('../render/progress.js'),
    ]);
    const t0 = performance.now();
    const opened = await openCheckpoint(encrypted ?? input);
    const progress = progressLine('pushing the checkpoint');
    let r;
    try {
      if (!opened.meta) throw usageError(`${input} has no cryo.json: a bare CRIU dump cannot be pushed`, 'dump it with cryo dump, or push an archive');
      const meta = opened.meta;
      r = await withTerminationSignals((signal) => pushCheckpoint(opened.dir, meta, ref, { ...reg, signal, onProgress: progress.update }));
    } finally {
      progress.done();
      await opened.close();
    }
    const result = { ...r, wallMs: Math.round((performance.now() - t0) * 10) / 10 };
    if (o.json) printJson(result);
    else {
      const { humanBytes } = await import('../render/text.js');
      process.stderr.write(`pushed ${result.ref}: ${result.uploadedBlobs} of ${result.blobs} chunks uploaded (${humanBytes(result.uploadedBytes)} of ${humanBytes(result.blobBytes)})${result.encrypted ? ', encrypted' : ''} in ${result.wallMs.toFixed(0)} ms\n`);
      process.stdout.write(`${result.digest}\n`);
    }
  });
}
