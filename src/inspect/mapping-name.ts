// A human name for one mapping: its file, [heap], [stack], [vdso], shared memory, or anonymous.
import type { FileTable } from './files.js';
import type { Entry } from './images.js';
import {
  VMA_ANON_SHARED, VMA_AREA_SOCKET, VMA_AREA_STACK, VMA_AREA_SYSVIPC, VMA_AREA_VDSO, VMA_AREA_VSYSCALL, VMA_AREA_VVAR,
  VMA_AREA_MEMFD, VMA_FILE_PRIVATE, VMA_FILE_SHARED,
} from './memory.js';

export function mappingName(v: Entry, mm: Entry | undefined, files: FileTable): string {
  const st = Number(v.status);
  if (st & VMA_AREA_SYSVIPC) return `[sysv shm ${v.shmid}]`;
  if (st & VMA_ANON_SHARED) return `[shared memory ${v.shmid}]`;
  if (st & VMA_AREA_SOCKET) return '[packet ring]';
  if (st & VMA_AREA_MEMFD) {
    const name = files.memfdName(Number(v.shmid));
    // kernels 6.x back MAP_SHARED|MAP_ANONYMOUS with an internal memfd named /dev/zero
    return name === undefined || name === '/dev/zero' ? '[shared memory]' : `memfd:${name}`;
  }
  if (st & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) return files.info('REG', Number(v.shmid)).text;
  if (st & VMA_AREA_VDSO) return '[vdso]';
  if (st & VMA_AREA_VVAR) return '[vvar]';
  if (st & VMA_AREA_VSYSCALL) return '[vsyscall]';
  if (st & VMA_AREA_STACK || Number(v.flags) & 0x0100) return '[stack]';
  if (mm && BigInt(v.start) <= BigInt(mm.mm_brk ?? 0) && BigInt(v.end) >= BigInt(mm.mm_start_brk ?? 0) && BigInt(mm.mm_brk ?? 0) > BigInt(mm.mm_start_brk ?? 0)) return '[heap]';
  return '[anon]';
}
