// Memory per process: mapped and dumped bytes by kind as bars (widths proportional to bytes), and
// the mappings folded into groups of the same name, so that 20,000 mappings stay readable.
import type { MappingModel, ProcessModel } from '../../../inspect/model.js';
import { mappingKind, type ReportModel } from '../../../inspect/report.js';
import { renderComm } from '../cmdline.js';
import { humanBytes } from '../text.js';
import { h } from './html-escape.js';

const BAR_W = 480;
const KIND_LABEL: Record<string, string> = { heap: 'heap', stack: 'stack', anon: 'anonymous', shared: 'shared', file: 'file', vdso: 'vdso/vvar' };
/** groups shown per process; the next ones are folded, the rest summed in one line */
const SHOWN_GROUPS = 10;
const MAX_GROUPS = 60;
/** mappings listed inside one group's fold */
const MAX_LISTED = 40;

interface Group { name: string; kind: string; maps: MappingModel[]; bytes: number; dumped: number }

function groups(p: ProcessModel): Group[] {
  const by = new Map<string, Group>();
  for (const m of p.mappings) {
    const kind = mappingKind(m);
    const key = `${kind}\0${m.name}`;
    let g = by.get(key);
    if (!g) by.set(key, (g = { name: m.name, kind, maps: [], bytes: 0, dumped: 0 }));
    g.maps.push(m);
    g.bytes += m.size;
    g.dumped += m.dumpedPages * 4096;
  }
  return [...by.values()].sort((a, b) => b.bytes - a.bytes);
}

function bars(r: ReportModel, p: ProcessModel): string {
  const kinds = r.memory.find((x) => x.pid === p.pid)?.kinds ?? [];
  if (!kinds.length) return '<p class="mute">no memory (a zombie)</p>';
  const max = Math.max(...kinds.map((k) => k.mappedBytes));
  const scale = BAR_W / max;
  const rowH = 22;
  const left = 92;
  const rows = kinds.map((k, i) => {
    const y = i * rowH + 4;
    return `<g class="kind" data-kind="${k.kind}"><text x="0" y="${y + 13}">${KIND_LABEL[k.kind]}</text>`
      + `<rect class="track" x="${left}" y="${y}" width="${BAR_W}" height="16" rx="2"/>`
      + `<rect class="bar mapped m-${k.kind}" data-bytes="${k.mappedBytes}" x="${left}" y="${y}" width="${(k.mappedBytes * scale).toFixed(3)}" height="16"><title>${humanBytes(k.mappedBytes)} mapped</title></rect>`
      + `<rect class="bar dumped m-${k.kind}" data-bytes="${k.dumpedBytes}" x="${left}" y="${y + 3}" width="${(k.dumpedBytes * scale).toFixed(3)}" height="10"><title>${humanBytes(k.dumpedBytes)} dumped</title></rect>`
      + `<text class="mute" x="${left + BAR_W + 8}" y="${y + 13}">${humanBytes(k.mappedBytes)} mapped \u00b7 ${humanBytes(k.dumpedBytes)} dumped \u00b7 ${k.mappings.toLocaleString('en')} map${k.mappings === 1 ? '' : 's'}</text></g>`;
  });
  const w = left + BAR_W + 380;
  return `<svg class="mem" data-pid="${p.pid}" data-scale="${scale}" viewBox="0 0 ${w} ${kinds.length * rowH + 6}" width="${w}" height="${kinds.length * rowH + 6}">${rows.join('')}</svg>`;
}

function mappingRow(m: MappingModel): string {
  return `<tr><td class="addr">${m.start}-${m.end.slice(2)}</td><td class="mono">${m.prot}${m.shared ? 's' : 'p'}</td><td class="num">${humanBytes(m.size)}</td><td class="num">${m.dumpedPages}</td></tr>`;
}

function groupTable(p: ProcessModel): string {
  const gs = groups(p);
  const shown = gs.slice(0, MAX_GROUPS);
  const rest = gs.slice(MAX_GROUPS);
  const row = (g: Group) => {
    const listed = g.maps.slice(0, MAX_LISTED).map(mappingRow).join('');
    const more = g.maps.length > MAX_LISTED ? `<tr><td colspan="4" class="mute">${g.maps.length - MAX_LISTED} more in cryo inspect --json</td></tr>` : '';
    const fold = `<details><summary>${g.maps.length.toLocaleString('en')} mapping${g.maps.length === 1 ? '' : 's'}</summary><table><tbody>${listed}${more}</tbody></table></details>`;
    return `<tr class="group" data-kind="${g.kind}" data-mappings="${g.maps.length}"><td><i class="sw m-${g.kind}"></i>${h(g.name)}</td><td>${KIND_LABEL[g.kind]}</td>`
      + `<td class="num">${humanBytes(g.bytes)}</td><td class="num">${humanBytes(g.dumped)}</td><td>${fold}</td></tr>`;
  };
  const head = '<thead><tr><th>mapped as</th><th>kind</th><th class="num">mapped</th><th class="num">dumped</th><th>mappings</th></tr></thead>';
  const folded = shown.slice(SHOWN_GROUPS);
  const body = shown.slice(0, SHOWN_GROUPS).map(row).join('');
  const restRow = rest.length
    ? `<tr class="rest"><td colspan="2" class="mute">${rest.length} smaller groups (${rest.reduce((n, g) => n + g.maps.length, 0)} mappings)</td><td class="num">${humanBytes(rest.reduce((n, g) => n + g.bytes, 0))}</td><td class="num">${humanBytes(rest.reduce((n, g) => n + g.dumped, 0))}</td><td></td></tr>`
    : '';
  const more = folded.length ? `<details class="more"><summary>${folded.length} more groups (${folded.reduce((n, g) => n + g.maps.length, 0)} mappings)</summary><table class="groups">${head}<tbody>${folded.map(row).join('')}</tbody></table></details>` : '';
  return `<table class="groups">${head}<tbody>${body}${restRow}</tbody></table>${more}`;
}

export function renderMemory(r: ReportModel): string {
  const legend = `<div class="legend">${Object.entries(KIND_LABEL).map(([k, v]) => `<span><i class="m-${k}"></i>${v}</span>`).join('')}<span>light bar: mapped, solid bar: dumped (same scale within a process)</span></div>`;
  const procs = r.inspect.processes.map((p) => `<div class="memproc" data-pid="${p.pid}"><h3>${h(renderComm(p.comm, p.cmdline))} <span class="mute">pid ${p.pid} \u00b7 ${p.mappings.length.toLocaleString('en')} mappings \u00b7 ${humanBytes(p.memory.mappedBytes)} mapped \u00b7 ${humanBytes(p.memory.dumpedBytes)} dumped</span></h3>${bars(r, p)}${p.mappings.length ? groupTable(p) : ''}</div>`);
  return `<section id="memory"><h2>Memory</h2>${legend}${procs.join('')}</section>`;
}
