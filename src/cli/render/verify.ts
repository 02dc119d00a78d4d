// Text rendering of `cryo verify`.
import type { VerifyResult } from '../../pipeline/verify.js';
import { humanBytes } from './text.js';

export function renderVerify(r: VerifyResult): string {
  const m = r.meta;
  const what = 'archive' in r
    ? `${r.archive}: ${r.files} image files, ${humanBytes(r.imageBytes)} in ${humanBytes(r.bytes)}, every sha256 verified`
    : `${r.dir}: ${m ? `${r.files} image files, ${humanBytes(r.imageBytes)}, ` : 'a bare CRIU dump, '}every image CRIU needs is there`;
  const lines = [`ok: ${what}`];
  if (m) {
    lines.push(`created ${m.createdAt} by cryo ${m.cryo.version}, CRIU ${m.criu.version}, on ${m.host.hostname} (kernel ${m.host.kernel} ${m.host.arch})`);
    if (m.stats?.frozen_time !== undefined) lines.push(`frozen for ${(m.stats.frozen_time / 1000).toFixed(1)} ms during the dump`);
    for (const p of m.tree.processes) {
      const cmd = p.cmdline?.length ? p.cmdline.join(' ') : '?';
      lines.push(`  pid ${p.pid} (parent ${p.ppid}, ${p.threads} thread${p.threads === 1 ? '' : 's'}): ${cmd.length > 100 ? `${cmd.slice(0, 97)}...` : cmd}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
