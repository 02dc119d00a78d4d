// Plain-object shapes of CRIU's RPC messages (proto/rpc/rpc.proto), with rpc.proto's own field names.
// Enums travel as their names ('DUMP', 'NFTABLES'); 64-bit values do not occur in these messages.

export type CriuReqType =
  | 'EMPTY'
  | 'DUMP'
  | 'RESTORE'
  | 'CHECK'
  | 'PRE_DUMP'
  | 'PAGE_SERVER'
  | 'NOTIFY'
  | 'CPUINFO_DUMP'
  | 'CPUINFO_CHECK'
  | 'FEATURE_CHECK'
  | 'VERSION'
  | 'WAIT_PID'
  | 'PAGE_SERVER_CHLD'
  | 'SINGLE_PRE_DUMP';

export type CriuCgMode = 'IGNORE' | 'CG_NONE' | 'PROPS' | 'SOFT' | 'FULL' | 'STRICT' | 'DEFAULT';
export type CriuNetworkLockMethod = 'IPTABLES' | 'NFTABLES' | 'SKIP';
export type CriuPreDumpMode = 'SPLICE' | 'VM_READ';

/** criu_opts: the fields cryo uses are typed; any other rpc.proto field passes through as given. */
export interface CriuOpts {
  /** a directory fd open in THIS process (CRIU reopens /proc/<our pid>/fd/<n>); -1 = use images_dir */
  images_dir_fd?: number;
  images_dir?: string;
  /** root pid of the tree to dump */
  pid?: number;
  leave_running?: boolean;
  ext_unix_sk?: boolean;
  tcp_established?: boolean;
  evasive_devices?: boolean;
  shell_job?: boolean;
  file_locks?: boolean;
  /** 0..4, CRIU's -v level (default 2) */
  log_level?: number;
  /** a bare file name, relative to the work dir (default: the images dir) */
  log_file?: string;
  /** set by cryo when hooks are given */
  notify_scripts?: boolean;
  root?: string;
  /** parent images dir, relative to the images dir (pre-dump chains) */
  parent_img?: string;
  track_mem?: boolean;
  auto_dedup?: boolean;
  /** a directory fd open in this process for logs and stats */
  work_dir_fd?: number;
  link_remap?: boolean;
  manage_cgroups?: boolean;
  manage_cgroups_mode?: CriuCgMode;
  /** restore: make the restored root a child of the client (which must then reap it) */
  rst_sibling?: boolean;
  inherit_fd?: Array<{ key: string; fd: number }>;
  ext_mnt?: Array<{ key: string; val: string }>;
  ghost_limit?: number;
  external?: string[];
  empty_ns?: number;
  timeout?: number;
  tcp_skip_in_flight?: boolean;
  tcp_close?: boolean;
  weak_sysctls?: boolean;
  lazy_pages?: boolean;
  status_fd?: number;
  orphan_pts_master?: boolean;
  config_file?: string;
  pre_dump_mode?: CriuPreDumpMode;
  network_lock?: CriuNetworkLockMethod;
  leave_stopped?: boolean;
  display_stats?: boolean;
  log_to_stderr?: boolean;
  [field: string]: unknown;
}

export interface CriuFeatures {
  mem_track?: boolean;
  lazy_pages?: boolean;
  pidfd_store?: boolean;
}

export interface CriuRequest {
  type: CriuReqType;
  opts?: CriuOpts;
  notify_success?: boolean;
  /** keep CRIU's service loop running for another request on the same connection */
  keep_open?: boolean;
  features?: CriuFeatures;
  pid?: number;
}

export interface CriuVersionInfo {
  major_number: number;
  minor_number: number;
  gitid?: string;
  sublevel?: number;
  extra?: number;
  name?: string;
}

export interface CriuResponse {
  type: CriuReqType;
  success: boolean;
  dump?: { restored?: boolean };
  restore?: { pid: number };
  notify?: { script?: string; pid?: number };
  ps?: { address?: string; port?: number; pid?: number; fd?: number };
  cr_errno?: number;
  features?: CriuFeatures;
  cr_errmsg?: string;
  version?: CriuVersionInfo;
  status?: number;
}

/** Script names CRIU announces by NOTIFY (the --action-script actions). */
export type CriuNotifyScript =
  | 'pre-dump'
  | 'post-dump'
  | 'pre-restore'
  | 'post-restore'
  | 'network-lock'
  | 'network-unlock'
  | 'setup-namespaces'
  | 'post-setup-namespaces'
  | 'pre-resume'
  | 'post-resume'
  | 'orphan-pts-master'
  | 'status-ready'
  | 'query-ext-files'
  | 'pre-stream';

/** What a NOTIFY carried besides the script name. */
export interface CriuNotifyInfo {
  /** e.g. the restored root pid for post-restore / setup-namespaces */
  pid?: number;
  /**
   * an fd passed by SCM_RIGHTS (orphan-pts-master: the pty master). It is open in this process only while
   * the hooks run: cryo closes it afterwards, so dup it (e.g. open /proc/self/fd/<fd>) to keep it.
   */
  fd?: number;
}

export type CriuHook = (info: CriuNotifyInfo) => void | Promise<void>;

/**
 * NOTIFY hooks. `onNotify` sees every notification; the named hooks see theirs. A hook that throws
 * (or rejects) makes cryo answer notify_success=false, so CRIU aborts, and the request fails with the
 * hook's error as cause.
 */
export interface CriuHooks {
  onNotify?: (script: CriuNotifyScript | string, info: CriuNotifyInfo) => void | Promise<void>;
  preDump?: CriuHook;
  postDump?: CriuHook;
  preRestore?: CriuHook;
  postRestore?: CriuHook;
  networkLock?: CriuHook;
  networkUnlock?: CriuHook;
  setupNamespaces?: CriuHook;
  postSetupNamespaces?: CriuHook;
  preResume?: CriuHook;
  postResume?: CriuHook;
  orphanPtsMaster?: CriuHook;
  statusReady?: CriuHook;
}
