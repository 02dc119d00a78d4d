// Text rendering of the inspect model: a drawn process tree with aligned sections.
import type { CheckpointModel, ProcessModel } from '../../inspect/model.js';
import { isCryoInitArgv, renderCmdline, renderComm } from './cmdline.js';
import { escapeText as esc } from './escape.js';
import { columns, humanBytes } from './text.js';
import { renderTree, type TreeNode } from './tree.js';

export interface InspectRenderOptions {
  color: boolean;
  maps: boolean;
  paint: (code: string, text: string, on: boolean) => string;
}

function credsLine(p: ProcessModel): string | undefined {
  const c = p.creds;
  if (!c) return undefined;
  const ids = c.uid === c.euid && c.uid === c.suid && c.gid === c.egid && c.gid === c.sgid ? `uid ${c.uid} gid ${c.gid}` : `uid ${c.uid}/${c.euid}/${c.suid} gid ${c.gid}/${c.egid}/${c.sgid}`;
  const groups = c.groups.length ? ` groups ${c.groups.join(',')}` : '';
  const caps = c.capEff ? ` caps ${c.capEff}` : '';
  return `${ids}${groups}${caps}${c.noNewPrivs ? ' no_new_privs' : ''}`;
}

function processNode(p: ProcessModel, byPid: Map<number, ProcessModel>, o: InspectRenderOptions): TreeNode {
  const b = (s: string) => o.paint('1', s, o.color);
  const dim = (s: string) => o.paint('2', s, o.color);
  const body: string[] = [];
  const kv: string[][] = [];
  // cryo's init: the label says it all, its script is noise
  if (p.cmdline && !isCryoInitArgv(p.cmdline)) kv.push(['cmdline', renderCmdline(p.cmdline)]);
  if (p.exe) kv.push(['exe', esc(p.exe)]);
  if (p.cwd !== undefined) kv.push(['cwd', `${esc(p.cwd)}${p.root !== undefined ? `   root ${esc(p.root)}` : ''}${p.umask !== undefined ? `   umask ${p.umask.toString(8).padStart(4, '0')}` : ''}`]);
  const cl = credsLine(p);
  if (cl) kv.push(['creds', cl]);
  kv.push(['threads', String(p.threads)]);
  const ns = Object.entries(p.namespaces).map(([k, v]) => `${k}:${v}`).join(' ');
  if (ns) kv.push(['ns', ns]);
  if (p.state !== 'zombie' || p.mappings.length) kv.push(['memory', `${p.mappings.length} mappings, ${humanBytes(p.memory.mappedBytes)} mapped, ${humanBytes(p.memory.dumpedBytes)} dumped (${p.memory.dumpedPages} pages)`]);
  body.push(...columns(kv.map(([k, v]) => [dim(k!), v!])));
  if (p.environ) {
    body.push(dim('environment'));
    for (const e of p.environ) body.push(`  ${esc(e)}`);
  }
  if (p.fds.length) {
    body.push(dim('files'));
    const peerText = (f: ProcessModel['fds'][number]) => {
      if (!f.peers?.length) return '';
      const shown = f.peers.slice(0, 4).map((x) => (x.pid === p.pid ? `fd ${x.fd}` : `${x.pid}:${x.fd}`));
      return `  -> ${shown.join(', ')}${f.peers.length > 4 ? ` +${f.peers.length - 4}` : ''}`;
    };
    body.push(...columns(p.fds.map((f) => [String(f.fd), f.type, esc(f.description) + peerText(f)]), ['right'], '  '));
  }
  const maps = o.maps ? p.mappings : p.mappings.filter((m) => m.dumpedPages > 0);
  if (maps.length) {
    body.push(dim(o.maps ? 'mappings' : 'mappings with dumped pages (all: --maps)'));
    body.push(...columns(maps.map((m) => [
      `${m.start.slice(2)}-${m.end.slice(2)}`, m.prot + (m.shared ? 's' : 'p'), humanBytes(m.size), m.dumpedPages ? `${m.dumpedPages} pg` : '-',
      esc(m.name) + (m.fileOffset ? ` +0x${m.fileOffset.toString(16)}` : ''),
    ]), ['left', 'left', 'right', 'right'], '  '));
  }
  const children = p.children.map((c) => byPid.get(c)).filter((c): c is ProcessModel => c !== undefined).map((c) => processNode(c, byPid, o));
  return { label: `${b(renderComm(p.comm, p.cmdline))} ${o.paint('36', `pid ${p.pid}`, o.color)}${dim(`  ppid ${p.ppid} pgid ${p.pgid} sid ${p.sid}${p.state !== 'alive' ? `  ${p.state}` : ''}`)}`, body, children };
}

export function renderInspect(m: CheckpointModel, o: InspectRenderOptions): string {
  const byPid = new Map(m.processes.map((p) => [p.pid, p]));
  const roots = m.processes.filter((p) => !byPid.has(p.ppid));
  const out: string[] = [];
  out.push(`${o.paint('1', 'checkpoint', o.color)} ${esc(m.dir)}  (${m.processes.length} process${m.processes.length === 1 ? '' : 'es'}${m.imageVersion !== undefined ? `, image v${m.imageVersion}` : ''}${m.parent ? `, parent ${m.parent}` : ''})`);
  const c = m.container;
  if (c) out.push(`${o.paint('1', 'container', o.color)} ${esc(c.name ?? '?')}  image ${esc(c.image ?? '?')}  runtime ${esc(c.runtime ?? '?')}${c.engine ? `  engine ${c.engine}` : ''}${c.pod ? `  pod ${esc(c.namespace ? `${c.namespace}/` : '')}${esc(c.pod)}` : ''}`);
  out.push(...renderTree(roots.map((r) => processNode(r, byPid, o))));
  if (m.mounts?.length) {
    out.push(o.paint('1', 'mounts', o.color));
    out.push(...columns(m.mounts.map((x) => [String(x.id), String(x.parent), esc(x.mountpoint), esc(x.fstype ?? ''), esc(x.source ?? ''), esc(x.options ?? '')]), ['right', 'right'], '  '));
  }
  return out.join('\n') + '\n';
}
