// CRIU's lazy page server tees pages through pipes of ~3.2 MiB; at a lower fs.pipe-max-size it fails
// ("page-pipe: tee: ... Operation not permitted") and the lazy restore then hangs (DESIGN: verified).
import { readFileSync } from 'node:fs';
import { CryoError } from '../errors.js';

/** What lazy migration needs of fs.pipe-max-size. */
export const LAZY_PIPE_MAX_SIZE = 4 * 1024 * 1024;

/** This host's fs.pipe-max-size, or undefined when unreadable. */
export function readPipeMaxSize(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Throws an ENVIRONMENT error, before anything is touched, when lazy pages cannot work here. */
export function assertLazyPipeSize(host: 'source' | 'destination'): void {
  const size = readPipeMaxSize();
  if (size !== undefined && size < LAZY_PIPE_MAX_SIZE) {
    throw new CryoError('ENVIRONMENT', `lazy migration needs fs.pipe-max-size of at least ${LAZY_PIPE_MAX_SIZE} on the ${host}; it is ${size}`, {
      hint: `raise it: sysctl -w fs.pipe-max-size=${LAZY_PIPE_MAX_SIZE} (or migrate with --no-lazy)`,
      details: { pipeMaxSize: size, need: LAZY_PIPE_MAX_SIZE, host },
    });
  }
}
