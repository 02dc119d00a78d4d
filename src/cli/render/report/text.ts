// `cryo report --format text`: the report's facts as plain text, for a terminal or a log.
import type { ReportModel } from '../../../inspect/report.js';
import { renderComm } from '../cmdline.js';
import { escapeText as esc } from '../escape.js';
import { columns, humanBytes, humanMicros } from '../text.js';
import { treeOrder } from './graph.js';

export function renderReportText(r: ReportModel): string {
  const out: string[] = [`report ${esc(r.checkpoint)}${r.against ? ` (changes since ${esc(r.against)})` : ''}`];
  const c = r.container;
  if (c) out.push(`container ${esc(c.name ?? '?')}  image ${esc(c.image ?? '?')}  runtime ${esc(c.runtime ?? '?')}${c.engine ? `  engine ${c.engine}` : ''}`);
  out.push('', 'processes');
  out.push(...columns(treeOrder(r.inspect.processes).map(({ p, depth }) => [
    `${'  '.repeat(depth + 1)}${p.pid}`, esc(renderComm(p.comm, p.cmdline)), `${p.threads} thr`, p.creds ? `uid ${p.creds.uid}` : '', `${p.mappings.length} maps`,
    humanBytes(p.memory.mappedBytes), `${humanBytes(p.memory.dumpedBytes)} dumped`,
  ]), ['left', 'left', 'right', 'left', 'right', 'right', 'right'], ''));
  out.push('', 'connections');
  if (!r.connections.length) out.push('  none');
  const ext = new Map(r.external.map((x) => [x.id, x.label]));
  for (const k of r.connections) out.push(`  ${k.kind.padEnd(5)} ${esc(k.label)}  ${k.ends.map((e) => (e.external ? `outside: ${esc(ext.get(e.external) ?? '')}` : `${e.pid}${e.fd !== undefined ? `:${e.fd}` : ''}`)).join(', ')}`);
  out.push('', 'memory by kind (mapped / dumped)');
  for (const m of r.memory) out.push(`  ${m.pid}  ${m.kinds.map((k) => `${k.kind} ${humanBytes(k.mappedBytes)}/${humanBytes(k.dumpedBytes)}`).join('  ')}`);
  const d = r.stats?.dump;
  if (d) out.push('', `dump: freezing ${humanMicros(d.freezing_time)}, frozen ${humanMicros(d.frozen_time)} (memdump ${humanMicros(d.memdump_time)}, memwrite ${humanMicros(d.memwrite_time)}), ${d.pages_written} pages written`);
  const rs = r.stats?.restore;
  if (rs) out.push(`restore: forking ${humanMicros(rs.forking_time)}, restore ${humanMicros(rs.restore_time)}`);
  out.push('', `files the checkpoint depends on (${r.files.length})`);
  for (const f of r.files) out.push(`  ${esc(f.path)}  ${f.uses.map((u) => `${u.pid} ${u.as}${u.fd !== undefined ? ` ${u.fd}` : ''}`).join(', ')}`);
  if (r.diff) {
    out.push('', 'changes');
    for (const p of r.diff.processesAdded) out.push(`  + process ${p.pid} ${esc(p.comm)}`);
    for (const p of r.diff.processesGone) out.push(`  - process ${p.pid} ${esc(p.comm)}`);
    for (const p of r.diff.processes) {
      for (const f of p.filesOpened) out.push(`  + ${p.pid} fd ${f.fd} ${esc(f.description)}`);
      for (const f of p.filesClosed) out.push(`  - ${p.pid} fd ${f.fd} ${esc(f.description)}`);
      if (p.changedPages) out.push(`  ~ ${p.pid} ${p.changedPages} pages changed in ${p.memory.length} mappings`);
    }
    if (r.diff.same) out.push('  no differences');
  }
  return out.join('\n') + '\n';
}
