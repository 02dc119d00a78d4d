// CRIU's statistics as a timeline: the dump's freezing, frozen (with memdump and memwrite inside
// it), and the restore's forking and restore times, on one scale.
import type { ReportModel } from '../../../inspect/report.js';
import { groupDigits, humanBytes, humanMicros } from '../text.js';
import { h } from './html-escape.js';

interface Segment { name: string; at: number; us: number; cls: string }

export function renderTimeline(r: ReportModel): string {
  const s = r.stats;
  if (!s) return `<section id="stats"><h2>Dump timeline</h2><p class="mute">The checkpoint holds no CRIU statistics (stats-dump).</p></section>`;
  const rows: Array<{ label: string; segs: Segment[] }> = [];
  const d = s.dump;
  if (d) {
    const f = d.freezing_time ?? 0;
    const md = d.memdump_time ?? 0;
    rows.push({ label: 'dump: freezing', segs: [{ name: 'freezing_time', at: 0, us: f, cls: 'm-stack' }] });
    rows.push({ label: 'dump: frozen', segs: [{ name: 'frozen_time', at: f, us: d.frozen_time ?? 0, cls: 'm-heap' }] });
    rows.push({ label: '  memdump', segs: [{ name: 'memdump_time', at: f, us: md, cls: 'm-anon' }] });
    rows.push({ label: '  memwrite', segs: [{ name: 'memwrite_time', at: f + md, us: d.memwrite_time ?? 0, cls: 'm-file' }] });
  }
  const rs = s.restore;
  if (rs) {
    rows.push({ label: 'restore: forking', segs: [{ name: 'forking_time', at: 0, us: rs.forking_time ?? 0, cls: 'm-shared' }] });
    rows.push({ label: 'restore: total', segs: [{ name: 'restore_time', at: 0, us: rs.restore_time ?? 0, cls: 'm-vdso' }] });
  }
  const end = Math.max(1, ...rows.flatMap((x) => x.segs.map((g) => g.at + g.us)));
  const W = 640;
  const left = 130;
  const scale = W / end;
  const parts = rows.map((row, i) => {
    const y = i * 24 + 4;
    return `<text x="0" y="${y + 13}" class="phase">${h(row.label.trim())}</text>` + row.segs.map((g) => `<rect class="seg ${g.cls}" data-stat="${g.name}" data-us="${g.us}" x="${(left + g.at * scale).toFixed(2)}" y="${y}" width="${Math.max(0.5, g.us * scale).toFixed(2)}" height="16" rx="2"><title>${g.name} ${humanMicros(g.us)}</title></rect>`
      + `<text class="mute" x="${(left + (g.at + g.us) * scale + 6).toFixed(2)}" y="${y + 13}">${humanMicros(g.us)}</text>`).join('');
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => `<text class="mute" x="${left + t * W}" y="${rows.length * 24 + 18}" text-anchor="middle">${humanMicros(end * t)}</text>`);
  const svg = `<svg class="timeline" viewBox="0 0 ${left + W + 90} ${rows.length * 24 + 24}" width="${left + W + 90}" height="${rows.length * 24 + 24}">${parts.join('')}${ticks.join('')}</svg>`;
  const counts: string[] = [];
  if (d) for (const k of ['pages_scanned', 'pages_skipped_parent', 'pages_written', 'pages_lazy']) if (d[k] !== undefined) counts.push(`<tr><td>${k.replace(/_/g, ' ')}</td><td class="num">${groupDigits(d[k]!)}</td><td class="num">${humanBytes(d[k]! * 4096)}</td></tr>`);
  if (rs) for (const k of ['pages_compared', 'pages_skipped_cow', 'pages_restored']) if (rs[k] !== undefined) counts.push(`<tr><td>${k.replace(/_/g, ' ')}</td><td class="num">${groupDigits(rs[k]!)}</td><td class="num">${humanBytes(rs[k]! * 4096)}</td></tr>`);
  const note = '<p class="mute">CRIU reports the phases as durations: memdump and memwrite happen while the tree is frozen and are drawn inside it, in that order.</p>';
  return `<section id="stats"><h2>Dump timeline</h2>${svg}${note}${counts.length ? `<table class="counts" style="max-width:520px"><tbody>${counts.join('')}</tbody></table>` : ''}</section>`;
}
