import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { paint, printJson, useColor } from '../output.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('check this machine for checkpoint/restore (exit 0 ready, 3 not), or with --pid whether a live tree can be dumped (exit 0 as it is, 5 with the options printed, 6 blocked, 1 no such process)')
    .option('--pid <pid>', 'check the live process tree rooted at PID instead (what a dump would need)')
    .option('-i, --input <checkpoint>', 'check whether this checkpoint (archive or directory) can be restored here, without restoring it (exit 0 yes, 1 with each blocker and its fix)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: { pid?: string; input?: string; json?: boolean }) => {
      const criu = program.opts().criu as string | undefined;
      if (opts.input !== undefined) {
        if (opts.pid !== undefined) throw usageError('--pid and -i exclude each other', 'cryo check -i app.ckpt');
        const { checkInputAction } = await import('../check-input.js');
        await checkInputAction(opts.input, { json: Boolean(opts.json), criu });
        return;
      }
      if (opts.pid !== undefined) {
        if (!/^[1-9]\d*$/.test(opts.pid)) throw usageError(`expected a positive integer pid, got '${opts.pid}'`, 'for example: cryo check --pid 1234');
        // loaded only when asked for: it pulls in koffi
        const { preflightAction } = await import('../preflight.js');
        await preflightAction(Number(opts.pid), { json: Boolean(opts.json), criu });
        return;
      }
      const { checkEnvironment } = await import('../../criu/environment.js');
      const report = checkEnvironment({ criu });
      process.exitCode = report.ok ? 0 : 3;
      if (opts.json) return printJson(report);
      const c = useColor();
      const yes = (b: boolean) => (b ? paint('32', 'yes', c) : paint('33', 'no', c));
      const lines: string[] = [];
      if ('error' in report.criu) lines.push(`criu:          ${paint('31', report.criu.error, c)}${report.criu.hint ? ` (${report.criu.hint})` : ''}`);
      else {
        lines.push(`criu:          ${report.criu.version} at ${report.criu.path} (${report.criu.source})`);
        lines.push(`criu check:    ${report.criu.check.split('\n').pop()}`);
      }
      lines.push(`kernel:        ${report.kernel}`);
      lines.push(`root:          ${yes(report.root)}${report.missingCapabilities.length ? `, missing ${report.missingCapabilities.join(', ')}` : ''}`);
      lines.push(`memory tracking (soft-dirty, incremental pre-dump): ${yes(report.features.memoryTracking)}`);
      lines.push(`lazy pages (userfaultfd):                           ${yes(report.features.lazyPages)}`);
      lines.push(`network lock: iptables ${yes(report.networkLock.iptables)}, nftables ${yes(report.networkLock.nftables)}; cryo uses ${report.networkLock.default}`);
      for (const l of report.limits) lines.push(`limit:         ${paint('33', l, c)}`);
      lines.push(
        !report.ok
          ? paint('31', `not ready: ${report.problems.join('; ')}`, c)
          : report.limits.length
            ? paint('33', `dump and restore can work here, within the ${report.limits.length === 1 ? 'limit' : 'limits'} above`, c)
            : paint('32', 'dump and restore can work here', c),
      );
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
