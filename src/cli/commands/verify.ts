// cryo verify CKPT: check a checkpoint completely without restoring it; exit 4 when it is bad.
import type { Command } from 'commander';
import { printJson } from '../output.js';
import { addKeyOptions, addRegistryOptions, decryptedInput, registryFromCli, secretFromCli, type RegistryCliOptions } from '../registry-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .description('check a checkpoint completely without restoring it: an archive\'s every record and hash, a directory\'s image set; exit 4 when bad')
    .argument('<checkpoint>', 'an archive written by `cryo dump -o` (- for stdin, oci://HOST/REPO:TAG in a registry), or a checkpoint directory')
    .option('--json', 'print the report as JSON (schemas/verify.schema.json)');
  addRegistryOptions(addKeyOptions(cmd, { encrypt: false }));
  cmd.action(async (input: string, o: RegistryCliOptions & { json?: boolean }) => {
      const { verify } = await import('../../pipeline/verify.js');
      const secret = await secretFromCli(o, false);
      const r = input.startsWith('oci://') ? await verifyOci(input, await registryFromCli(input, o, secret))
        : await verify(input === '-' ? { stream: process.stdin, name: '-' } : (await decryptedInput(input, secret)) ?? input);
      if (o.json) printJson(r);
      else {
        const { renderVerify } = await import('../render/verify.js');
        process.stdout.write(renderVerify(r));
      }
    });
}

/** A registry checkpoint is verified by pulling it: every blob's digest and every file's sha256. */
async function verifyOci(ref: string, reg: import('../../checkpoint/sink-oci.js').OciSinkOptions) {
  const { openCheckpoint } = await import('../../checkpoint/open.js');
  const opened = await openCheckpoint({ oci: ref, ...reg });
  try {
    const meta = opened.meta!;
    return { ok: true as const, meta, files: meta.files.length, imageBytes: meta.totalBytes, archive: opened.path, bytes: opened.bytes ?? 0 };
  } finally {
    await opened.close();
  }
}
