// cryo x DIR ps|fds|mems|rss: crit's explore views, same content, read natively.
import type { Command } from 'commander';
import { usageError } from '../../errors.js';

const VIEWS = ['ps', 'fds', 'mems', 'rss'] as const;

export function register(program: Command): void {
  program
    .command('x')
    .description("explore a checkpoint as crit's `x` views do: ps, fds, mems or rss")
    .argument('<dir>', 'checkpoint images directory (or archive)')
    .argument('<view>', VIEWS.join('|'))
    .option('-p, --pid <pid>', 'only this process (ps: its subtree); the host pid `cryo run` printed works too', (v: string) => {
      if (!/^\d+$/.test(v)) throw usageError(`--pid: expected a process id, got "${v}"`, 'e.g. --pid 1234');
      return Number(v);
    })
    .action(async (dir: string, view: string, o: { pid?: number }) => {
      if (!(VIEWS as readonly string[]).includes(view)) {
        const { shellWord } = await import('../render/escape.js');
        throw usageError(`expected a view (${VIEWS.join(', ')}), got "${view}"`, `cryo x ${shellWord(dir)} ps`);
      }
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const ex = await import('../../inspect/explore.js');
      const r = await import('../render/explore.js');
      const { img, close } = await openImages(dir);
      try {
        // without --pid, nothing to resolve: the search modules behind it stay unloaded
        const pid = o.pid === undefined ? undefined : (await import('../checkpoint-pid.js')).resolvePidOption(img, o.pid);
        const only = <T extends { pid: number }>(rows: T[]) => (pid === undefined ? rows : rows.filter((x) => x.pid === pid));
        let text: string;
        if (view === 'ps') {
          let rows = ex.explorePs(img);
          if (pid !== undefined) {
            // the subtree under pid, indented from it
            const at = rows.findIndex((x) => x.pid === pid);
            let end = at + 1;
            while (end < rows.length && rows[end]!.depth > rows[at]!.depth) end++;
            rows = rows.slice(at, end).map((x) => ({ ...x, depth: x.depth - rows[at]!.depth }));
          }
          text = r.renderPs(rows, await initLabels(img, rows));
        } else if (view === 'fds') text = r.renderFds(only(ex.exploreFds(img)));
        else if (view === 'mems') text = r.renderMems(only(ex.exploreMems(img)));
        else text = r.renderRss(only(ex.exploreRss(img)));
        process.stdout.write(text);
      } finally {
        await close();
      }
    });
}

/** cryo's init shown by its label: argv is read only for processes whose comm is bash's. */
async function initLabels(img: import('../../inspect/images.js').ImageDir, rows: Array<{ pid: number; comm: string }>): Promise<Map<number, string>> {
  const labels = new Map<number, string>();
  const candidates = rows.filter((x) => x.comm === 'bash');
  if (!candidates.length) return labels;
  const { readProcessCmdline } = await import('../../inspect/model.js');
  const { isCryoInitArgv, CRYO_INIT_LABEL } = await import('../render/cmdline.js');
  for (const x of candidates) if (isCryoInitArgv(readProcessCmdline(img, x.pid))) labels.set(x.pid, CRYO_INIT_LABEL);
  return labels;
}
