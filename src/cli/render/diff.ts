// Text rendering of a checkpoint diff: + added, - gone, ~ changed.
import type { CheckpointDiff } from '../../inspect/diff.js';
import { escapeText as esc } from './escape.js';
import { columns, humanBytes } from './text.js';

export interface DiffRenderOptions {
  color: boolean;
  pages: boolean;
  paint: (code: string, text: string, on: boolean) => string;
}

export function renderDiff(d: CheckpointDiff, o: DiffRenderOptions): string {
  const add = (s: string) => o.paint('32', s, o.color);
  const del = (s: string) => o.paint('31', s, o.color);
  const chg = (s: string) => o.paint('33', s, o.color);
  const out: string[] = [`${o.paint('1', 'diff', o.color)} ${esc(d.a)} -> ${esc(d.b)}`];
  for (const p of d.processesAdded) out.push(add(`+ process ${p.pid} ${esc(p.comm)}`));
  for (const p of d.processesGone) out.push(del(`- process ${p.pid} ${esc(p.comm)}`));
  for (const p of d.processes) {
    const lines: string[] = [];
    for (const t of p.tidsAdded) lines.push(add(`+ thread ${t}`));
    for (const t of p.tidsGone) lines.push(del(`- thread ${t}`));
    for (const f of p.filesOpened) lines.push(add(`+ ${f.socket ? 'socket' : 'fd'} ${f.fd} ${esc(f.description)}`));
    for (const f of p.filesClosed) lines.push(del(`- ${f.socket ? 'socket' : 'fd'} ${f.fd} ${esc(f.description)}`));
    for (const m of p.mappingsAdded) lines.push(add(`+ mapping ${m.start}-${m.end} ${m.prot} ${esc(m.name)}`));
    for (const m of p.mappingsGone) lines.push(del(`- mapping ${m.start}-${m.end} ${m.prot} ${esc(m.name)}`));
    for (const c of p.mappingsChanged) lines.push(chg(`~ mapping ${c.before.start}-${c.before.end} ${c.before.prot} ${esc(c.before.name)} -> ${c.after.end} ${c.after.prot} ${esc(c.after.name)}`));
    if (p.memory.length) {
      lines.push(chg(`~ memory: ${p.changedPages} page${p.changedPages === 1 ? '' : 's'} changed (${humanBytes(p.changedBytes)})`));
      lines.push(...columns(p.memory.map((m) => [`${m.mapping.start.slice(2)}-${m.mapping.end.slice(2)}`, m.mapping.prot, `${m.changedPages} pg`, humanBytes(m.changedBytes), esc(m.mapping.name)]), ['left', 'left', 'right', 'right'], '    '));
      if (o.pages) for (const m of p.memory) lines.push(`    ${m.mapping.start}: ${m.pages.join(' ')}`);
    }
    if (lines.length) out.push(`process ${p.pid} ${esc(p.comm)}`, ...lines.map((l) => `  ${l}`));
  }
  if (d.same) out.push('no differences');
  return out.join('\n') + '\n';
}
