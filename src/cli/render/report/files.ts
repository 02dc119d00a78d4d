// The files the checkpoint depends on: executables, working directories, open files and mapped
// files, each with who uses it and how (a restore needs every one of them at the same path).
import type { ReportModel } from '../../../inspect/report.js';
import { h } from './html-escape.js';

/** paths listed before the rest are folded */
const MAX_SHOWN = 200;

export function renderFiles(r: ReportModel): string {
  if (!r.files.length) return '<section id="files"><h2>Files the checkpoint depends on</h2><p class="mute">none</p></section>';
  const row = (f: ReportModel['files'][number]) => {
    const uses = f.uses.map((u) => `${u.pid} ${u.as}${u.fd !== undefined ? ` ${u.fd}` : ''}${u.mappings && u.mappings > 1 ? ` \u00d7${u.mappings}` : ''}`);
    return `<tr data-path="${h(f.path)}"><td><code>${h(f.path)}</code></td><td class="mono">${h(uses.join(', '))}</td></tr>`;
  };
  const head = '<thead><tr><th>path</th><th>used by (pid how)</th></tr></thead>';
  const shown = r.files.slice(0, MAX_SHOWN).map(row).join('');
  const rest = r.files.length > MAX_SHOWN ? `<details><summary>${r.files.length - MAX_SHOWN} more files</summary><table>${head}<tbody>${r.files.slice(MAX_SHOWN).map(row).join('')}</tbody></table></details>` : '';
  return `<section id="files"><h2>Files the checkpoint depends on</h2><table class="files">${head}<tbody>${shown}</tbody></table>${rest}</section>`;
}
