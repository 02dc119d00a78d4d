// The one lazily loaded handle on libc for every koffi binding in src/kernel.
import koffi, { type LibraryHandle } from 'koffi';

let handle: LibraryHandle | undefined;

export function libc(): LibraryHandle {
  handle ??= koffi.load('libc.so.6');
  return handle;
}

export { koffi };
