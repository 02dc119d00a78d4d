// The process tree: one card per process (pid, command, threads, credentials, namespaces).
import type { ProcessModel } from '../../../inspect/model.js';
import type { ReportModel } from '../../../inspect/report.js';
import { isCryoInitArgv, renderCmdline, renderComm } from '../cmdline.js';
import { humanBytes } from '../text.js';
import { h } from './html-escape.js';

function card(p: ProcessModel): string {
  const rows: Array<[string, string]> = [];
  if (p.cmdline && !isCryoInitArgv(p.cmdline)) rows.push(['cmdline', `<code>${h(renderCmdline(p.cmdline))}</code>`]);
  if (p.exe) rows.push(['exe', h(p.exe)]);
  rows.push(['threads', `${p.threads}${p.tasks.length > 1 ? ` <span class="mute">(${p.tasks.slice(0, 8).map((t) => h(`${t.tid}${t.comm ? ` ${t.comm}` : ''}`)).join(', ')}${p.tasks.length > 8 ? ', ...' : ''})</span>` : ''}`]);
  const c = p.creds;
  if (c) {
    const ids = c.uid === c.euid && c.gid === c.egid ? `uid ${c.uid} gid ${c.gid}` : `uid ${c.uid}/${c.euid}/${c.suid} gid ${c.gid}/${c.egid}/${c.sgid}`;
    rows.push(['credentials', h(`${ids}${c.groups.length ? ` groups ${c.groups.join(',')}` : ''}${c.capEff ? ` caps ${c.capEff}` : ''}`)]);
  }
  if (p.cwd !== undefined) rows.push(['cwd', h(p.cwd)]);
  const ns = Object.entries(p.namespaces).map(([k, v]) => `${k}:${v}`).join(' ');
  if (ns) rows.push(['namespaces', `<code>${h(ns)}</code>`]);
  rows.push(['memory', `${p.mappings.length} mappings, ${humanBytes(p.memory.mappedBytes)} mapped, ${humanBytes(p.memory.dumpedBytes)} dumped`]);
  rows.push(['fds', String(p.fds.length)]);
  const state = p.state !== 'alive' ? `<span class="tag">${h(p.state)}</span>` : '';
  return `<div class="card"><span class="title">${h(renderComm(p.comm, p.cmdline))}</span> <span class="pid">pid ${p.pid}</span>${state}`
    + ` <span class="mute">ppid ${p.ppid} pgid ${p.pgid} sid ${p.sid}</span><dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl></div>`;
}

export function renderTree(r: ReportModel): string {
  const byPid = new Map(r.inspect.processes.map((p) => [p.pid, p]));
  const node = (p: ProcessModel): string => {
    const kids = p.children.map((c) => byPid.get(c)).filter((c): c is ProcessModel => c !== undefined);
    return `<li class="proc" data-pid="${p.pid}">${card(p)}${kids.length ? `<ul>${kids.map(node).join('')}</ul>` : ''}</li>`;
  };
  const roots = r.inspect.processes.filter((p) => !byPid.has(p.ppid));
  return `<section id="tree"><h2>Process tree</h2><ul class="tree">${roots.map(node).join('')}</ul></section>`;
}
