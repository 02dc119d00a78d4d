// The one description of a checkpoint: written as cryo.json into a checkpoint directory and as the
// manifest of an archive (the same object; an archive adds its compression). Every reader of a
// checkpoint's facts (restore, verify, inspect, ls, check -i) reads this shape, nothing else.

/** CRIU's dump statistics (stats-dump), CRIU's field names and units: times in µs, counts in pages. */
export interface DumpStats {
  freezing_time: number;
  frozen_time: number;
  memdump_time: number;
  memwrite_time: number;
  pages_scanned: number;
  pages_skipped_parent: number;
  pages_written: number;
  pages_lazy: number;
  [field: string]: number;
}

/** CRIU's restore statistics (stats-restore), CRIU's names and units. */
export interface RestoreStats {
  pages_compared: number;
  pages_skipped_cow: number;
  forking_time: number;
  restore_time: number;
  pages_restored?: number;
  [field: string]: number | undefined;
}

/** One dumped process (pstree.img), pids as the tree's own pid namespace sees them. */
export interface CheckpointProcess {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** number of threads */
  threads: number;
  /** argv read from /proc while the tree was stopped; absent when unknown */
  cmdline?: string[];
}

/** One image file of the checkpoint. */
export interface CheckpointFile {
  /** base name inside the images directory */
  name: string;
  size: number;
  /** hex sha256 of the bytes (always in archives) */
  sha256?: string;
}

/** One file or directory the tree depends on (open, mapped, its executable, cwd or root), seen while it was stopped. */
export interface CheckpointDependency {
  /** absolute path as the tree sees it */
  path: string;
  kind: 'file' | 'dir';
  /** why the tree needs it: an open fd, a file-backed mapping, the executable, the cwd or the root */
  uses: Array<'fd' | 'map' | 'exe' | 'cwd' | 'root'>;
  size: number;
  /** ms since the epoch */
  mtimeMs: number;
  /** permission bits (st_mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  /** hex sha256 of the contents (files; omitted for system ELF files, which carry buildId) */
  sha256?: string;
  /** hex ELF build-id (NT_GNU_BUILD_ID), for executables and shared libraries */
  buildId?: string;
  /** some process had it open for writing or mapped it shared-writable: it may change after the dump */
  writable: boolean;
  /** part of the installed system (docs/portable.md: system prefixes or owned by a Debian package) */
  system: boolean;
  /** its contents travel in the checkpoint (cryo-files.tar) */
  included: boolean;
}

export interface CheckpointMeta {
  format: 'cryo-checkpoint';
  version: 2;
  /** ISO time the checkpoint was committed */
  createdAt: string;
  cryo: { version: string };
  criu: { version: string };
  host: { hostname: string; kernel: string; arch: string; cpu?: string; cpuFlags?: string[] };
  tree: {
    /** host pid of the process the user named (the command, for trees started by `cryo run`) */
    pid: number;
    /** host pid of the root CRIU dumped (cryo's namespace init for trees started by `cryo run`) */
    rootPid: number;
    /** the root is cryo's PID-namespace init */
    pidns: boolean;
    /** the user's command, as its PID namespace sees it (pidns only) */
    nsPid?: number;
    /** the tree has a network namespace of its own */
    netns: boolean;
    /** pstree.img, root first */
    processes: CheckpointProcess[];
  };
  /** options a restore must repeat (library names, camelCase of CRIU's), merged under the user's own */
  restoreOptions: Record<string, unknown>;
  /** every dump option as given (library names) */
  dumpOptions: Record<string, unknown>;
  /** CRIU's stats-dump, when CRIU wrote it */
  stats?: DumpStats;
  /** archives only: how the body is compressed */
  compression?: { algorithm: 'zstd'; level: number };
  /** every file the tree depends on, included or not (absent in checkpoints of older cryo versions) */
  dependencies?: CheckpointDependency[];
  /**
   * every file carries its sha256 (archives always; a directory once the dump had released the
   * tree and rewrote cryo.json with them); absent or false: sizes only
   */
  hashes?: boolean;
  /** the image files, sorted by name (cryo.json itself excluded) */
  files: CheckpointFile[];
  /** sum of files[].size */
  totalBytes: number;
}

/** What the tree is after a dump. */
export type TreeState = 'ended' | 'running' | 'stopped';
