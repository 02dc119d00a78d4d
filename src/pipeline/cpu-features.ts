// Names the x86 capability bits a checkpoint's cpuinfo.img has and this CPU lacks: CRIU's own
// CPUINFO_CHECK only says "do not match". Words and bits follow Linux's cpufeatures.h (which CRIU copies).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { callCriu } from '../criu/call.js';
import type { CriuBinary } from '../criu/find.js';
import { readImage } from '../images/read-image.js';

const NAMES: Record<number, string[]> = {
  0: ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', '', 'sep', 'mtrr', 'pge', 'mca', 'cmov', 'pat', 'pse36', 'pn', 'clflush', '', 'dts', 'acpi', 'mmx', 'fxsr', 'sse', 'sse2', 'ss', 'ht', 'tm', 'ia64', 'pbe'],
  4: ['pni', 'pclmulqdq', 'dtes64', 'monitor', 'ds_cpl', 'vmx', 'smx', 'est', 'tm2', 'ssse3', 'cid', 'sdbg', 'fma', 'cx16', 'xtpr', 'pdcm', '', 'pcid', 'dca', 'sse4_1', 'sse4_2', 'x2apic', 'movbe', 'popcnt', 'tsc_deadline_timer', 'aes', 'xsave', 'osxsave', 'avx', 'f16c', 'rdrand', 'hypervisor'],
  9: ['fsgsbase', 'tsc_adjust', 'sgx', 'bmi1', 'hle', 'avx2', 'fdp_excptn_only', 'smep', 'bmi2', 'erms', 'invpcid', 'rtm', 'cqm', 'zero_fcs_fds', 'mpx', 'rdt_a', 'avx512f', 'avx512dq', 'rdseed', 'adx', 'smap', 'avx512ifma', '', 'clflushopt', 'clwb', 'intel_pt', 'avx512pf', 'avx512er', 'avx512cd', 'sha_ni', 'avx512bw', 'avx512vl'],
};

function capabilities(dir: string): number[] | undefined {
  const e = readImage(join(dir, 'cpuinfo.img')).entries[0] as { x86_entry?: Array<{ capability?: unknown[] }> } | undefined;
  return e?.x86_entry?.[0]?.capability?.map(Number);
}

/** Features the images' cpuinfo.img claims and this CPU (CRIU's own CPUINFO_DUMP here) lacks, by name. */
export async function missingCpuFeatures(criu: CriuBinary, dir: string): Promise<string[]> {
  const here = mkdtempSync(join(os.tmpdir(), 'cryo-cpuinfo-here-'));
  try {
    await callCriu(criu, { type: 'CPUINFO_DUMP', opts: { log_file: 'cpuinfo-dump.log' } }, { imagesDir: here });
    const want = capabilities(dir);
    const have = capabilities(here);
    if (!want || !have) return [];
    const out: string[] = [];
    want.forEach((w, word) => {
      const lacking = (w & ~(have[word] ?? 0)) >>> 0;
      for (let bit = 0; bit < 32; bit++) if (lacking & (1 << bit)) out.push(NAMES[word]?.[bit] || `feature ${word * 32 + bit} (word ${word} bit ${bit})`);
    });
    return out;
  } catch {
    return [];
  } finally {
    rmSync(here, { recursive: true, force: true });
  }
}
