// Text rendering of archive reports (verify, dump -o).
import { humanBytes } from './progress.js';
import type { ArchiveReport } from './read.js';

export function renderVerify(file: string, r: ArchiveReport): string {
  const m = r.manifest;
  const ratio = r.rawBytes > 0 ? ` (${((100 * r.bytes) / r.rawBytes).toFixed(1)}%)` : '';
  const lines = [
    `ok: ${file}: ${r.files} image files, ${humanBytes(r.rawBytes)} in ${humanBytes(r.bytes)}${ratio}, every sha256 verified`,
    `created ${m.createdAt} by cryo ${m.cryo.version}, CRIU ${m.criu.version ?? 'unknown'}, kernel ${m.host.kernel} ${m.host.arch}`,
  ];
  if (m.stats?.frozenTimeUs !== undefined) lines.push(`frozen for ${(m.stats.frozenTimeUs / 1000).toFixed(1)} ms during the dump`);
  for (const p of m.tree) {
    const cmd = p.cmdline?.length ? p.cmdline.join(' ') : '?';
    lines.push(`  pid ${p.pid} (parent ${p.ppid}): ${cmd.length > 100 ? `${cmd.slice(0, 97)}...` : cmd}`);
  }
  return `${lines.join('\n')}\n`;
}
