// A checkpoint root restores must be one nobody else can swap: CRIU runs its tree as whatever uid
// the images say, so a directory another user can rename or rewrite (an ancestor writable by
// others without the sticky bit, or anything on the way owned by another user) is refused.
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CryoError } from '../errors.js';

function unsafe(dir: string, what: string): CryoError {
  return new CryoError('BAD_IMAGE', `refusing the checkpoint at ${dir}: ${what}`, {
    hint: 'another user could swap it between the checks and the restore; move it into a directory only you can write (mkdir -m 700)',
    details: { dir },
  });
}

/** Throws unless `dir`, its files and every ancestor are safe from other users (only enforced for root). */
export function assertNotSwappable(dir: string): void {
  const me = process.geteuid?.() ?? 0;
  if (me !== 0) return;
  const real = realpathSync(dir);
  const own = (uid: number) => uid === 0 || uid === me;
  const top = lstatSync(real);
  if (!own(top.uid)) throw unsafe(dir, `it is owned by uid ${top.uid}`);
  if (top.mode & 0o022) throw unsafe(dir, 'it is writable by others');
  for (const n of readdirSync(real)) {
    const st = lstatSync(join(real, n));
    if (!own(st.uid)) throw unsafe(dir, `${n} is owned by uid ${st.uid}`);
  }
  for (let p = dirname(real); ; p = dirname(p)) {
    const st = lstatSync(p);
    if (!own(st.uid)) throw unsafe(dir, `${p} is owned by uid ${st.uid}`);
    if (st.mode & 0o002 && !(st.mode & 0o1000)) throw unsafe(dir, `${p} is writable by everyone`);
    if (p === '/') break;
  }
}
