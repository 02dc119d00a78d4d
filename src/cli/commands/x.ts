// cryo x DIR ps|fds|mems|rss: crit's explore views, same content, read natively.
import type { Command } from 'commander';
import { usageError } from '../../errors.js';

const VIEWS = ['ps', 'fds', 'mems', 'rss'] as const;

export function register(program: Command): void {
  program
    .command('x')
    .description("explore a checkpoint as crit's `x` views do: ps, fds, mems or rss")
    .argument('<dir>', 'checkpoint images directory')
    .argument('<view>', VIEWS.join('|'))
    .action(async (dir: string, view: string) => {
      if (!(VIEWS as readonly string[]).includes(view)) throw usageError(`expected a view (${VIEWS.join(', ')}), got "${view}"`, 'e.g. cryo x ./ckpt ps');
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const ex = await import('../../inspect/explore.js');
      const r = await import('../render/explore.js');
      const { img, close } = await openImages(dir);
      try {
        let text: string;
        if (view === 'ps') text = r.renderPs(ex.explorePs(img));
        else if (view === 'fds') text = r.renderFds(ex.exploreFds(img));
        else if (view === 'mems') text = r.renderMems(ex.exploreMems(img));
        else text = r.renderRss(ex.exploreRss(img));
        process.stdout.write(text);
      } finally {
        await close();
      }
    });
}
