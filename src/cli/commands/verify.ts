// cryo verify FILE: check an archive completely (every image's sha256, the end record) without restoring.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('verify')
    .description('check a checkpoint archive completely (manifest, every image hash, completeness); exit 4 when bad')
    .argument('<archive>', "archive file written by `cryo dump -o`, or - for stdin")
    .option('--json', 'print the report as JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const { verifyArchive } = await import('../../archive/read.js');
      const { renderVerify } = await import('../../archive/report.js');
      // a failure's --json object is printed centrally (main.ts), from the error
      const report = await verifyArchive(file);
      if (o.json) {
        const { printJson } = await import('../output.js');
        printJson({ ok: true, archive: file, files: report.files, rawBytes: report.rawBytes, bytes: report.bytes, manifest: report.manifest });
      } else process.stdout.write(renderVerify(file, report));
      process.exitCode = 0;
    });
}
