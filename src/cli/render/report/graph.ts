// Connections between processes as an arc diagram: one row per process (tree order), peers outside
// the tree below them, one lane per connection (lanes reused where spans do not overlap).
import type { ProcessModel } from '../../../inspect/model.js';
import type { Connection, ReportModel } from '../../../inspect/report.js';
import { renderComm } from '../cmdline.js';
import { h } from './html-escape.js';

const ROW = 30;
const LABEL_W = 300;
const LANE = 18;
/** more connections than this are listed in the table only (the drawing would be a blur) */
const MAX_DRAWN = 300;

const KIND_NAMES: Record<string, string> = { pipe: 'pipe', unix: 'unix socket', tcp: 'TCP', udp: 'UDP', file: 'shared open file', shm: 'shared memory' };

/** Processes root first, each followed by its subtree, with their depth. */
export function treeOrder(ps: ProcessModel[]): Array<{ p: ProcessModel; depth: number }> {
  const by = new Map(ps.map((p) => [p.pid, p]));
  const out: Array<{ p: ProcessModel; depth: number }> = [];
  const walk = (p: ProcessModel, depth: number) => {
    out.push({ p, depth });
    for (const c of p.children) if (by.has(c)) walk(by.get(c)!, depth + 1);
  };
  for (const p of ps) if (!by.has(p.ppid)) walk(p, 0);
  return out;
}

function endKey(e: Connection['ends'][number]): string {
  return e.external ?? `p${e.pid}`;
}

function describeEnds(c: Connection): string {
  return c.ends.map((e) => (e.external ? `<span class="mute">outside</span>` : `${e.pid}${e.fd !== undefined ? `:${e.fd}` : ''}`)).join(', ');
}

export function renderGraph(r: ReportModel): string {
  const procs = treeOrder(r.inspect.processes);
  const rowOf = new Map<string, number>();
  procs.forEach(({ p }, i) => rowOf.set(`p${p.pid}`, i));
  r.external.forEach((x, i) => rowOf.set(x.id, procs.length + i + 1));
  const rows = procs.length + (r.external.length ? r.external.length + 1 : 0);
  const drawn = r.connections.slice(0, MAX_DRAWN);
  // greedy lanes: a connection takes the first lane free over its row span
  const laneEnds: number[] = [];
  const placed = drawn.map((c) => {
    const ys = [...new Set(c.ends.map((e) => rowOf.get(endKey(e))!))].sort((a, b) => a - b);
    const lo = ys[0]!;
    const hi = ys[ys.length - 1]!;
    let lane = laneEnds.findIndex((end) => end < lo);
    if (lane < 0) lane = laneEnds.push(hi) - 1;
    else laneEnds[lane] = hi;
    return { c, ys, lo, hi, lane };
  });
  const width = LABEL_W + 24 + Math.max(1, laneEnds.length) * LANE + 20;
  const height = rows * ROW + 10;
  const y = (row: number) => row * ROW + ROW / 2 + 5;
  const parts: string[] = [];
  const lanesX = LABEL_W + 24;
  const right = lanesX + Math.max(1, laneEnds.length) * LANE;
  for (let i = 0; i < rows; i++) if (i !== procs.length || !r.external.length) parts.push(`<line class="guide" x1="${LABEL_W}" y1="${y(i)}" x2="${right}" y2="${y(i)}"/>`);
  procs.forEach(({ p, depth }, i) => {
    const x = 4 + depth * 14;
    parts.push(`<g class="node" data-pid="${p.pid}"><rect x="${x}" y="${y(i) - 11}" width="${LABEL_W - x}" height="22" rx="4"/>`
      + `<text x="${x + 8}" y="${y(i) + 4}">${h(renderComm(p.comm, p.cmdline).slice(0, 36 - depth * 2))}</text><text class="mute" x="${LABEL_W - 8}" y="${y(i) + 4}" text-anchor="end">${p.pid}</text></g>`);
  });
  if (r.external.length) parts.push(`<text class="mute" x="4" y="${y(procs.length) + 4}">outside the tree</text>`);
  r.external.forEach((x, i) => {
    const row = procs.length + i + 1;
    parts.push(`<g class="node ext" data-external="${x.id}"><rect x="4" y="${y(row) - 11}" width="${LABEL_W - 4}" height="22" rx="4"/><text x="12" y="${y(row) + 4}">${h(x.label)}</text></g>`);
  });
  // one vertical line per connection in its lane, a dot on each row it joins
  for (const { c, ys, lo, hi, lane } of placed) {
    const lx = lanesX + lane * LANE + LANE / 2;
    const pids = [...new Set(c.ends.filter((e) => e.pid !== undefined).map((e) => e.pid))].join(',');
    const ext = c.ends.filter((e) => e.external).map((e) => e.external).join(',');
    const d = lo === hi ? `M${lx} ${y(lo) - 8}V${y(lo) + 8}` : `M${lx} ${y(lo)}V${y(hi)}`;
    parts.push(`<g class="conn k-${c.kind}" data-id="${h(c.id)}" data-kind="${c.kind}" data-pids="${pids}"${ext ? ` data-external="${ext}"` : ''}><title>${h(c.label)}</title><path d="${d}"/>`
      + ys.map((row) => `<circle cx="${lx}" cy="${y(row)}" r="4"/>`).join('') + `</g>`);
  }
  const kinds = [...new Set(r.connections.map((c) => c.kind))];
  const legend = `<div class="legend">${kinds.map((k) => `<span><i class="line k-${k}" style="background:var(--${k === 'file' ? 'file-c' : k})"></i>${KIND_NAMES[k]}</span>`).join('')}</div>`;
  const svg = `<svg class="graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="connections between processes">${parts.join('')}</svg>`;
  const more = r.connections.length > MAX_DRAWN ? `<p class="mute">${r.connections.length - MAX_DRAWN} more connections are listed in the table below, not drawn.</p>` : '';
  const table = r.connections.length
    ? `<table class="conns"><thead><tr><th>kind</th><th>what</th><th>ends (pid:fd)</th></tr></thead><tbody>${r.connections.map((c) => `<tr data-id="${h(c.id)}"><td>${KIND_NAMES[c.kind]}</td><td><code>${h(c.label)}</code></td><td class="mono">${describeEnds(c)}</td></tr>`).join('')}</tbody></table>`
    : '<p class="mute">No pipes, connected sockets, shared files or shared memory between processes.</p>';
  return `<section id="connections"><h2>Connections</h2>${legend}${svg}${more}${table}</section>`;
}
