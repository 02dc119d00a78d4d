// The differences of `cryo report A B`: processes, threads and files that came and went, changed
// mappings, and per mapping a heat strip of where its changed pages lie.
import type { CheckpointDiff } from '../../../inspect/diff.js';
import type { HeatStrip, ReportModel } from '../../../inspect/report.js';
import { humanBytes } from '../text.js';
import { h } from './html-escape.js';

/** changed mappings drawn as strips; the rest are summed */
const MAX_STRIPS = 120;

function strip(s: HeatStrip): string {
  const W = 560;
  const n = s.cells.length;
  const cw = W / n;
  const per = Math.max(1, Math.ceil(s.pages / n));
  const cells = s.cells.map((c, i) => {
    const fill = c === 0 ? 'var(--cold)' : `color-mix(in srgb, var(--hot) ${Math.round(35 + 65 * Math.min(1, c / per))}%, var(--cold))`;
    return `<rect class="cell" data-changed="${c}" x="${(i * cw).toFixed(2)}" y="0" width="${cw.toFixed(2)}" height="14" style="fill:${fill}"/>`;
  }).join('');
  return `<tr class="heat" data-pid="${s.pid}" data-start="${s.start}" data-changed="${s.changedPages}"><td class="addr">${s.start}</td><td>${h(s.name)}</td>`
    + `<td class="num">${s.changedPages} / ${s.pages} pg</td><td><svg viewBox="0 0 ${W} 14" width="${W}" height="14">${cells}</svg></td></tr>`;
}

function processChanges(p: CheckpointDiff['processes'][number]): string {
  const li: string[] = [];
  for (const t of p.tidsAdded) li.push(`<li class="add">+ thread ${t}</li>`);
  for (const t of p.tidsGone) li.push(`<li class="del">\u2212 thread ${t}</li>`);
  for (const f of p.filesOpened) li.push(`<li class="add">+ ${f.socket ? 'socket' : 'fd'} ${f.fd} <code>${h(f.description)}</code></li>`);
  for (const f of p.filesClosed) li.push(`<li class="del">\u2212 ${f.socket ? 'socket' : 'fd'} ${f.fd} <code>${h(f.description)}</code></li>`);
  const maps = (l: typeof p.mappingsAdded, cls: string, sign: string) => {
    for (const m of l.slice(0, 50)) li.push(`<li class="${cls}">${sign} mapping <span class="addr">${m.start}-${m.end.slice(2)}</span> ${m.prot} ${h(m.name)}</li>`);
    if (l.length > 50) li.push(`<li class="${cls}">${sign} ${l.length - 50} more mappings (cryo diff)</li>`);
  };
  maps(p.mappingsAdded, 'add', '+');
  maps(p.mappingsGone, 'del', '\u2212');
  for (const c of p.mappingsChanged.slice(0, 50)) li.push(`<li class="chg">~ mapping <span class="addr">${c.before.start}</span> ${c.before.prot} \u2192 ${c.after.prot}, ends ${c.after.end}</li>`);
  if (p.memory.length) li.push(`<li class="chg">~ memory: ${p.changedPages} page${p.changedPages === 1 ? '' : 's'} changed (${humanBytes(p.changedBytes)}) in ${p.memory.length} mapping${p.memory.length === 1 ? '' : 's'}</li>`);
  return li.length ? `<h3>${h(p.comm)} <span class="mute">pid ${p.pid}</span></h3><ul class="changes" data-pid="${p.pid}">${li.join('')}</ul>` : '';
}

export function renderDiff(r: ReportModel): string {
  const d = r.diff;
  if (!d) return '';
  const out: string[] = [`<p class="sub">from <code>${h(d.a)}</code> to <code>${h(d.b)}</code>${d.same ? ': <b>no differences</b>' : ''}</p>`];
  if (d.processesAdded.length || d.processesGone.length) {
    out.push(`<ul class="procs-changed">${d.processesAdded.map((p) => `<li class="add" data-pid="${p.pid}">+ process ${p.pid} ${h(p.comm)}</li>`).join('')}${d.processesGone.map((p) => `<li class="del" data-pid="${p.pid}">\u2212 process ${p.pid} ${h(p.comm)}</li>`).join('')}</ul>`);
  }
  out.push(...d.processes.map(processChanges));
  const heat = [...(r.heat ?? [])].sort((a, b) => b.changedPages - a.changedPages);
  if (heat.length) {
    const rest = heat.slice(MAX_STRIPS);
    out.push(`<h3>Changed pages by mapping</h3><div class="legend"><span><i style="background:var(--cold)"></i>unchanged</span><span><i style="background:var(--hot)"></i>changed (each cell a slice of the mapping; darker: more of its pages changed)</span></div>`
      + `<table class="heats"><thead><tr><th>start</th><th>mapping</th><th class="num">changed</th><th>where in the mapping</th></tr></thead><tbody>${heat.slice(0, MAX_STRIPS).map(strip).join('')}`
      + (rest.length ? `<tr><td colspan="4" class="mute">${rest.length} more changed mappings with ${rest.reduce((n, s) => n + s.changedPages, 0)} changed pages (cryo diff lists them)</td></tr>` : '')
      + '</tbody></table>');
  }
  return `<section id="diff"><h2>Changes</h2>${out.join('')}</section>`;
}
