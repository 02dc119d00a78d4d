// `cryo report` as one self-contained HTML page: inline CSS and SVG, no script, nothing loaded.
import type { ReportModel } from '../../../inspect/report.js';
import { isCryoInitArgv, renderComm } from '../cmdline.js';
import { humanBytes } from '../text.js';
import { renderDiff } from './diff.js';
import { renderFiles } from './files.js';
import { renderGraph } from './graph.js';
import { h } from './html-escape.js';
import { renderMemory } from './memory.js';
import { STYLE } from './style.js';
import { renderTimeline } from './timeline.js';
import { renderTree } from './tree.js';

function fact(value: string | number, label: string): string {
  return `<div class="fact"><b>${h(value)}</b><span>${h(label)}</span></div>`;
}

function containerBox(r: ReportModel): string {
  const c = r.container;
  if (!c) return '';
  const parts: Array<[string, string | undefined]> = [
    ['container', c.name], ['image', c.image], ['runtime', c.runtime], ['engine', c.engine], ['pod', c.pod ? `${c.namespace ? `${c.namespace}/` : ''}${c.pod}` : undefined],
    ['id', c.id?.slice(0, 12)], ['created', c.createdAt], ['checkpointed', c.checkpointedAt], ['archive', c.compression],
  ];
  const rootfs = c.artifacts?.find((a) => a.name === 'rootfs-diff.tar');
  if (rootfs) parts.push(['rootfs diff', humanBytes(rootfs.bytes)]);
  return `<div class="container" id="container">${parts.filter(([, v]) => v).map(([k, v]) => `<span class="mute">${k}</span> <b>${h(v)}</b>`).join(' &nbsp; ')}</div>`;
}

export function renderReportHtml(r: ReportModel): string {
  const ps = r.inspect.processes;
  const threads = ps.reduce((n, p) => n + p.threads, 0);
  const mapped = ps.reduce((n, p) => n + p.memory.mappedBytes, 0);
  const dumped = ps.reduce((n, p) => n + p.memory.dumpedBytes, 0);
  const maps = ps.reduce((n, p) => n + p.mappings.length, 0);
  const frozen = r.stats?.dump?.frozen_time;
  // name the tree by the user's command, not by cryo's namespace init above it
  const main = ps.find((p) => !isCryoInitArgv(p.cmdline)) ?? ps[0];
  const title = `cryo report: ${r.container?.name ?? (main ? renderComm(main.comm, main.cmdline) : 'checkpoint')}`;
  const sub = [r.createdAt && `taken ${r.createdAt}`, r.host && `on ${r.host}`, r.criu && `CRIU ${r.criu}`].filter(Boolean).join(' \u00b7 ');
  const nav = [['tree', 'Process tree'], ['connections', 'Connections'], ['memory', 'Memory'], ['stats', 'Dump timeline'], ['files', 'Files'], ...(r.diff ? [['diff', 'Changes']] : [])];
  const body = [
    `<header><h1>${h(title)}</h1><p class="sub"><code>${h(r.checkpoint)}</code>${sub ? ` \u00b7 ${h(sub)}` : ''}</p>${containerBox(r)}`,
    `<div class="facts">${fact(ps.length, 'processes')}${fact(threads, 'threads')}${fact(r.connections.length, 'connections')}${fact(maps.toLocaleString('en'), 'mappings')}${fact(humanBytes(mapped), 'mapped')}${fact(humanBytes(dumped), 'dumped')}${frozen !== undefined ? fact(`${(frozen / 1000).toFixed(1)} ms`, 'frozen') : ''}${r.diff ? fact(r.diff.processes.reduce((n, p) => n + p.changedPages, 0), 'pages changed') : ''}</div>`,
    `<nav>${nav.map(([id, t]) => `<a href="#${id}">${t}</a>`).join('')}</nav></header>`,
    r.diff ? renderDiff(r) : '',
    renderTree(r), renderGraph(r), renderMemory(r), renderTimeline(r), renderFiles(r),
    `<footer class="mute"><p>Written by cryo report from the same models as cryo inspect --json, cryo stats --json${r.diff ? ' and cryo diff --json' : ''}; cryo report --format json prints every fact shown here.</p></footer>`,
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`
    + `<title>${h(title)}</title><style>${STYLE}</style></head><body><main>${body.join('\n')}</main></body></html>\n`;
}
