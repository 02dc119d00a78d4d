// `cryo check -i FILE|DIR`: will this checkpoint restore here? Blockers with their fixes, then
// findings; exit 0 when a restore can work, 1 otherwise (schemas/check-input.schema.json).
import { paint, printJson, useColor } from './output.js';
import { escapeText as esc } from './render/escape.js';
import type { TargetReport } from '../pipeline/portable-check.js';

export async function checkInputAction(input: string, opts: { json: boolean; criu?: string }): Promise<void> {
  const [{ openCheckpoint }, { checkTarget }] = await Promise.all([import('../checkpoint/open.js'), import('../pipeline/portable-check.js')]);
  const opened = await openCheckpoint(input);
  let report: TargetReport;
  try {
    report = await checkTarget(opened, { criu: opts.criu });
  } finally {
    await opened.close();
  }
  process.exitCode = report.restorable ? 0 : 1;
  if (opts.json) return printJson(report);
  process.stdout.write(renderCheckInput(report, useColor()));
}

/** The verdict line, then each blocker with its fix, then the findings. */
function renderCheckInput(r: TargetReport, color: boolean): string {
  const out: string[] = [];
  const n = r.blockers.length;
  out.push(n ? `${paint('31', 'cannot restore here:', color)} ${esc(r.input)}: ${n} blocker${n === 1 ? '' : 's'}` : `${paint('32', 'can restore here:', color)} ${esc(r.input)}`);
  out.push(`criu: ${r.criu.here ?? 'none'} here, ${r.criu.dump ?? 'unknown'} at the dump; kernel: ${r.kernel.here} here, ${r.kernel.dump ?? 'unknown'} at the dump; cpu: ${r.cpu}`);
  if (n) {
    out.push('', 'blockers:');
    for (const b of r.blockers) out.push(`  ${b.area}: ${esc(b.message)}`, `    fix: ${esc(b.fix)}`);
  }
  if (r.findings.length) {
    out.push('', 'findings:');
    for (const f of r.findings) out.push(`  ${f.area}: ${esc(f.message)}`);
  }
  return `${out.join('\n')}\n`;
}
