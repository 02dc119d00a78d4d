// The one table of CRIU's dump and restore options, under CRIU's own names, and the one place where
// they become criu_opts fields (rpc.proto's names). Facts from CRIU 4.2's config.c, cr-service.c and
// criu.txt: what RPC honours, which action reads what, what a restore must repeat.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { detectNetworkLock, type NetworkLock } from './environment.js';

export { detectNetworkLock, type NetworkLock };

/** CRIU's cgroup modes (criu_cg_mode); `true` means CRIU's default mode (soft). */
export type CgroupMode = 'none' | 'props' | 'soft' | 'full' | 'strict' | 'ignore' | 'default';

/** The CRIU commands an option applies to. */
type CriuAction = 'dump' | 'pre-dump' | 'restore';

/**
 * Who consumes an option: `rpc` goes into criu_opts (toRpcOpts); `pipeline` is cryo's dump/restore
 * pipeline's own business (directories, pids, log, notify, page server), never passed raw; `cryo` is
 * done by cryo because RPC lacks it (restore --pidfile); `config` has no criu_opts field at all and
 * reaches CRIU only through a --config file.
 */
type CriuOptionHandler = 'rpc' | 'pipeline' | 'cryo' | 'config';

/** How a value is read and mapped onto its criu_opts field. */
type CriuOptionKind =
  | 'bool' // true/false -> bool field
  | 'uint' // non-negative integer -> uint32
  | 'size' // bytes with K/M/G -> uint32
  | 'logLevel' // 0..4 -> int32
  | 'string' // -> string
  | 'path' // a file or directory CRIU opens: made absolute (CRIU chdirs to its work dir first)
  | 'strings' // repeatable -> repeated string
  | 'networkLock' // iptables|nftables|skip -> criu_network_lock_method
  | 'manageCgroups' // [MODE] -> manage_cgroups + manage_cgroups_mode
  | 'preDumpMode' // splice|read -> criu_pre_dump_mode
  | 'cpuCap' // [CAP[,CAP]] -> uint32 bit set
  | 'emptyNs' // net -> CLONE_NEWNET bit set
  | 'extUnixSk' // [INO[,INO]] -> ext_unix_sk + unix_sk_ino[]
  | 'inheritFd' // fd[N]:RES -> inherit_fd{key, fd}
  | 'extMountMap' // KEY:VAL | auto -> ext_mnt{key, val} | auto_ext_mnt
  | 'cgroupRoot' // [CTRL:]PATH -> cg_root{ctrl, path}
  | 'joinNs' // NS:PATH[,EXTRA] -> join_ns{ns, ns_file, extra_opt}
  | 'vethPair'; // IN=OUT -> veths{if_in, if_out}

export interface CriuOptionSpec {
  /** library name: camelCase of CRIU's long flag */
  name: string;
  /** CRIU's long flag; absent for criu_opts fields that CRIU's command line lacks */
  flag?: string;
  /** CRIU's short flag, where it does not clash with cryo's own (-D, -o, -i, -v, -R) */
  short?: string;
  /** the value's placeholder on the command line; absent for switches */
  arg?: string;
  /** the value may be left out (CRIU's optional_argument) */
  optionalArg?: boolean;
  /** criu_opts field (rpc.proto) */
  field?: string;
  kind: CriuOptionKind;
  actions: readonly CriuAction[];
  /** a restore of a dump that used it needs it again (recorded in the checkpoint) */
  repeatOnRestore?: boolean;
  handledBy: CriuOptionHandler;
  /** addCriuOptions offers it (false: the command has its own flag, or cryo does not drive it yet) */
  cli: boolean;
  help: string;
  /** CRIU's documented default (or cryo's, where cryo picks one) */
  default: string;
}

const D = ['dump', 'pre-dump'] as const;
const R = ['restore'] as const;
const DR = ['dump', 'pre-dump', 'restore'] as const;

/** Every criu_opts field of CRIU 4.2's rpc.proto, and CRIU's command-line options that RPC lacks. */
export const CRIU_OPTIONS: readonly CriuOptionSpec[] = [
  // ---- the pipeline's own (never passed raw)
  { name: 'imagesDir', flag: '--images-dir', field: 'images_dir_fd', kind: 'path', actions: DR, handledBy: 'pipeline', cli: false, help: 'the images directory; the pipeline passes its own private directory as images_dir_fd', default: 'cryo: -D / -o / -i' },
  { name: 'tree', flag: '--tree', field: 'pid', kind: 'uint', actions: D, handledBy: 'pipeline', cli: false, help: "the tree's root pid (the command's PID argument)", default: 'required' },
  { name: 'leaveRunning', flag: '--leave-running', field: 'leave_running', kind: 'bool', actions: D, handledBy: 'pipeline', cli: false, help: 'leave the tree running after the dump (the command has -R)', default: 'false: the tree ends' },
  { name: 'leaveStopped', flag: '--leave-stopped', field: 'leave_stopped', kind: 'bool', actions: D, handledBy: 'pipeline', cli: false, help: 'leave the tree stopped after the dump (the command has --leave-stopped)', default: 'false' },
  { name: 'workDir', flag: '--work-dir', short: '-W', arg: 'dir', field: 'work_dir_fd', kind: 'path', actions: DR, handledBy: 'pipeline', cli: true, help: "directory for CRIU's log and stats files", default: 'the images directory' },
  { name: 'logFile', flag: '--log-file', arg: 'name', field: 'log_file', kind: 'string', actions: DR, handledBy: 'pipeline', cli: true, help: "name of CRIU's log file in the work dir (no -o: that is cryo's --output)", default: 'dump.log / restore.log' },
  { name: 'logLevel', flag: '--verbosity', field: 'log_level', kind: 'logLevel', actions: DR, handledBy: 'rpc', cli: false, help: "CRIU's log level 0-4 (the commands' -v/--log-level)", default: "4 (cryo's; CRIU's is 2)" },
  { name: 'logToStderr', field: 'log_to_stderr', kind: 'bool', actions: DR, handledBy: 'pipeline', cli: false, help: "CRIU logs to its stderr instead of a file (cryo reads the log file)", default: 'false' },
  { name: 'actionScript', flag: '--action-script', field: 'notify_scripts', kind: 'bool', actions: DR, handledBy: 'pipeline', cli: false, help: 'CRIU stops at each stage and notifies the client (the pipeline hooks)', default: 'set when a hook is given' },
  { name: 'statusFd', flag: '--status-fd', field: 'status_fd', kind: 'uint', actions: DR, handledBy: 'pipeline', cli: false, help: 'obsolete over RPC; the status-ready notification replaces it', default: 'unset' },
  { name: 'pageServer', flag: '--page-server', field: 'ps', kind: 'bool', actions: D, handledBy: 'pipeline', cli: false, help: 'send pages to a page server (with --address, --port, --ps-socket: migration, later)', default: 'false' },
  { name: 'restoreSibling', flag: '--restore-sibling', field: 'rst_sibling', kind: 'bool', actions: R, handledBy: 'pipeline', cli: false, help: 'the restored root becomes a child of the client, which must reap it', default: 'false' },
  { name: 'prevImagesDir', flag: '--prev-images-dir', field: 'parent_img', kind: 'string', actions: D, handledBy: 'pipeline', cli: false, help: 'the parent (pre-dump) images, relative to the images dir', default: 'none' },
  { name: 'pidfdStoreSk', field: 'pidfd_store_sk', kind: 'uint', actions: D, handledBy: 'pipeline', cli: false, help: "a socket keeping pidfds across pre-dumps (pid reuse detection)", default: 'unset' },
  { name: 'lazyPages', flag: '--lazy-pages', field: 'lazy_pages', kind: 'bool', actions: DR, handledBy: 'pipeline', cli: false, help: 'post-copy: serve pages on demand (needs a lazy-pages daemon; migration, later)', default: 'false' },
  { name: 'execCmd', flag: '--exec-cmd', field: 'exec_cmd', kind: 'strings', actions: R, handledBy: 'pipeline', cli: false, help: "CRIU's swrk process execs this command after answering (the client must not wait for CRIU)", default: 'none' },
  { name: 'orphanPtsMaster', flag: '--orphan-pts-master', field: 'orphan_pts_master', kind: 'bool', actions: R, handledBy: 'pipeline', cli: false, help: "CRIU hands the master of an orphaned pty to the client (needs the orphan-pts-master hook)", default: 'false' },
  { name: 'pidfile', flag: '--pidfile', arg: 'file', kind: 'path', actions: R, handledBy: 'cryo', cli: true, help: "write the restored root's pid into FILE (created anew, 0600; RPC has no pidfile field)", default: 'none' },

  // ---- passed to CRIU
  { name: 'tcpEstablished', flag: '--tcp-established', field: 'tcp_established', kind: 'bool', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: 'dump: checkpoint established TCP connections; restore: restore established TCP connections', default: 'false' },
  { name: 'tcpClose', flag: '--tcp-close', field: 'tcp_close', kind: 'bool', actions: DR, handledBy: 'rpc', cli: true, help: "dump: don't dump or block established TCP connections; restore: restore connected TCP sockets closed", default: 'false' },
  { name: 'skipInFlight', flag: '--skip-in-flight', field: 'tcp_skip_in_flight', kind: 'bool', actions: D, handledBy: 'rpc', cli: true, help: 'ignore TCP connections not yet fully established instead of failing', default: 'false' },
  { name: 'extUnixSk', flag: '--ext-unix-sk', short: '-x', arg: 'ino,...', optionalArg: true, field: 'ext_unix_sk', kind: 'extUnixSk', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: 'dump: allow unix sockets connected outside the tree (only these with --ext-unix-sk=INO,INO); restore: restore unix sockets connected outside the tree', default: 'false' },
  { name: 'shellJob', flag: '--shell-job', short: '-j', field: 'shell_job', kind: 'bool', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: "the tree belongs to the caller's session or terminal", default: 'false' },
  { name: 'fileLocks', flag: '--file-locks', short: '-l', field: 'file_locks', kind: 'bool', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: 'dump: checkpoint file locks (safe only when no process outside the tree holds them); restore: restore file locks', default: 'false' },
  { name: 'external', flag: '--external', arg: 'type[id]:value', field: 'external', kind: 'strings', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: 'dump: a resource outside the tree, unix[INO], tty[RDEV:DEV], file[MNT:INO], mnt[PATH]:NAME, mnt[], dev[M/m]:NAME, net[INO]:NAME (repeatable); restore: a resource outside the tree, mnt[NAME]:PATH, mnt[], dev[NAME]:PATH, veth[IN]:OUT, macvlan[IN]:OUT (repeatable)', default: 'none' },
  { name: 'manageCgroups', flag: '--manage-cgroups', arg: 'mode', optionalArg: true, field: 'manage_cgroups', kind: 'manageCgroups', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: 'dump: checkpoint cgroups; restore: restore cgroups, mode none, props, soft, full, strict or ignore', default: 'off; without a mode: soft' },
  { name: 'emptyNs', flag: '--empty-ns', arg: 'net', field: 'empty_ns', kind: 'emptyNs', actions: DR, repeatOnRestore: true, handledBy: 'rpc', cli: true, help: "dump: net: don't dump the network namespace's contents; restore: net: create the network namespace empty (action scripts set it up)", default: 'none' },
  { name: 'networkLock', flag: '--network-lock', arg: 'method', field: 'network_lock', kind: 'networkLock', actions: D, handledBy: 'rpc', cli: true, help: 'iptables, nftables or skip; a restore uses the method the dump recorded', default: 'where a lock is needed: iptables if iptables-restore exists, else nftables' },
  { name: 'evasiveDevices', flag: '--evasive-devices', field: 'evasive_devices', kind: 'bool', actions: D, handledBy: 'rpc', cli: true, help: 'use any path to a device file if the original one is inaccessible', default: 'false' },
  { name: 'linkRemap', flag: '--link-remap', field: 'link_remap', kind: 'bool', actions: D, handledBy: 'rpc', cli: true, help: 'allow open files that were unlinked (linked back on restore, modifying the filesystem)', default: 'false' },
  { name: 'ghostLimit', flag: '--ghost-limit', arg: 'size', field: 'ghost_limit', kind: 'size', actions: D, handledBy: 'rpc', cli: true, help: 'largest deleted file kept in the images (bytes, K, M, G)', default: '1M' },
  { name: 'forceIrmap', flag: '--force-irmap', field: 'force_irmap', kind: 'bool', actions: D, handledBy: 'rpc', cli: true, help: 'force resolving names of inotify/fsnotify watches', default: 'false' },
  { name: 'irmapScanPath', flag: '--irmap-scan-path', arg: 'path', field: 'irmap_scan_paths', kind: 'strings', actions: D, handledBy: 'rpc', cli: true, help: 'where to look for the files of inotify watches (repeatable)', default: "CRIU's built-in list" },
  { name: 'timeout', flag: '--timeout', arg: 'seconds', field: 'timeout', kind: 'uint', actions: D, handledBy: 'rpc', cli: true, help: 'time limit in seconds for collecting (freezing) the tasks', default: '10' },
  { name: 'freezeCgroup', flag: '--freeze-cgroup', arg: 'path', field: 'freeze_cgroup', kind: 'string', actions: D, handledBy: 'rpc', cli: true, help: 'freeze the tree with this cgroup freezer instead of ptrace', default: 'none' },
  { name: 'trackMem', flag: '--track-mem', field: 'track_mem', kind: 'bool', actions: D, handledBy: 'rpc', cli: true, help: 'track memory changes for a later incremental dump (needs soft-dirty)', default: 'false' },
  { name: 'autoDedup', flag: '--auto-dedup', field: 'auto_dedup', kind: 'bool', actions: DR, handledBy: 'rpc', cli: true, help: "dump: drop the parent images' copies of pages dumped again; restore: punch restored pages out of the images", default: 'false' },
  { name: 'preDumpMode', flag: '--pre-dump-mode', arg: 'mode', field: 'pre_dump_mode', kind: 'preDumpMode', actions: ['pre-dump'], handledBy: 'rpc', cli: false, help: 'splice or read: how a pre-dump collects pages', default: 'splice' },
  { name: 'cpuCap', flag: '--cpu-cap', arg: 'cap,...', optionalArg: true, field: 'cpu_cap', kind: 'cpuCap', actions: DR, handledBy: 'rpc', cli: true, help: 'dump: CPU capabilities to record, fpu, cpu, ins, all, none (^ inverts), alone all; restore: CPU capabilities to check, fpu, cpu, ins, all, none (^ inverts), alone all', default: 'fpu,ins' },
  { name: 'extMountMap', flag: '--ext-mount-map', short: '-M', arg: 'key:val', field: 'ext_mnt', kind: 'extMountMap', actions: DR, handledBy: 'rpc', cli: true, help: 'dump: an external mount as PATH:KEY; restore: KEY:PATH; auto: detect them (repeatable)', default: 'none' },
  { name: 'enableExternalSharing', flag: '--enable-external-sharing', field: 'ext_sharing', kind: 'bool', actions: DR, handledBy: 'rpc', cli: true, help: 'allow external mounts shared with mounts outside the tree', default: 'false' },
  { name: 'enableExternalMasters', flag: '--enable-external-masters', field: 'ext_masters', kind: 'bool', actions: DR, handledBy: 'rpc', cli: true, help: 'allow mounts that are slaves of external mounts', default: 'false' },
  { name: 'skipMnt', flag: '--skip-mnt', arg: 'path', field: 'skip_mnt', kind: 'strings', actions: D, handledBy: 'rpc', cli: true, help: 'leave this mount point out of the dump (repeatable)', default: 'none' },
  { name: 'enableFs', flag: '--enable-fs', arg: 'fs,...', field: 'enable_fs', kind: 'strings', actions: D, handledBy: 'rpc', cli: true, help: 'filesystems whose mounts CRIU may auto-detect, or all (unsafe; repeatable)', default: 'none' },
  { name: 'cgroupRoot', flag: '--cgroup-root', arg: '[ctrl:]path', field: 'cg_root', kind: 'cgroupRoot', actions: DR, handledBy: 'rpc', cli: true, help: 'dump: the root cgroup of a controller (repeatable); restore: where to put a controller\'s cgroups (repeatable)', default: 'where the tasks live' },
  { name: 'cgroupProps', flag: '--cgroup-props', arg: 'spec', field: 'cgroup_props', kind: 'string', actions: D, handledBy: 'rpc', cli: true, help: 'controllers and properties to dump, as YAML text', default: "CRIU's built-in" },
  { name: 'cgroupPropsFile', flag: '--cgroup-props-file', arg: 'file', field: 'cgroup_props_file', kind: 'path', actions: D, handledBy: 'rpc', cli: true, help: 'as --cgroup-props, read from FILE', default: 'none' },
  { name: 'cgroupDumpController', flag: '--cgroup-dump-controller', arg: 'name', field: 'cgroup_dump_controller', kind: 'strings', actions: D, handledBy: 'rpc', cli: true, help: 'dump only this controller (repeatable)', default: 'every controller found' },
  { name: 'cgroupYard', flag: '--cgroup-yard', arg: 'path', field: 'cgroup_yard', kind: 'path', actions: DR, handledBy: 'rpc', cli: true, help: 'a directory of cgroup mounts prepared for CRIU (it then mounts none itself)', default: 'CRIU mounts its own' },
  { name: 'root', flag: '--root', short: '-r', arg: 'path', field: 'root', kind: 'path', actions: R, handledBy: 'rpc', cli: true, help: 'restore with this directory as the root filesystem', default: "the caller's /" },
  { name: 'inheritFd', flag: '--inherit-fd', arg: 'fd[N]:res', field: 'inherit_fd', kind: 'inheritFd', actions: R, handledBy: 'rpc', cli: true, help: "give the tree cryo's fd N in place of resource RES (repeatable)", default: 'none' },
  { name: 'joinNs', flag: '--join-ns', short: '-J', arg: 'ns:path[,extra]', field: 'join_ns', kind: 'joinNs', actions: R, handledBy: 'rpc', cli: true, help: 'restore into an existing namespace: ipc, mnt, net, time, user, uts by PID or file; user takes ,UID,GID (repeatable)', default: 'new namespaces as dumped' },
  { name: 'vethPair', flag: '--veth-pair', arg: 'in=out', field: 'veths', kind: 'vethPair', actions: R, handledBy: 'rpc', cli: true, help: 'name of the outer end of veth IN (repeatable)', default: 'as dumped' },
  { name: 'weakSysctls', flag: '--weak-sysctls', field: 'weak_sysctls', kind: 'bool', actions: R, handledBy: 'rpc', cli: true, help: 'skip sysctls this kernel lacks', default: 'false' },
  { name: 'lsmProfile', flag: '--lsm-profile', arg: 'type:name', field: 'lsm_profile', kind: 'string', actions: R, handledBy: 'rpc', cli: true, help: 'LSM profile for the restored tree: apparmor:NAME, selinux:LABEL, or none: for none', default: 'as dumped' },
  { name: 'lsmMountContext', flag: '--lsm-mount-context', arg: 'context', field: 'lsm_mount_context', kind: 'string', actions: R, handledBy: 'rpc', cli: true, help: 'replace the SELinux context= of restored mounts', default: 'as dumped' },
  { name: 'mntnsCompatMode', flag: '--mntns-compat-mode', field: 'mntns_compat_mode', kind: 'bool', actions: R, handledBy: 'rpc', cli: true, help: "restore mounts with CRIU's older mount engine", default: 'false (CRIU falls back by itself)' },
  { name: 'skipFileRwxCheck', flag: '--skip-file-rwx-check', field: 'skip_file_rwx_check', kind: 'bool', actions: R, handledBy: 'rpc', cli: true, help: "skip checking files' r/w/x permissions on restore", default: 'false' },
  { name: 'unprivileged', flag: '--unprivileged', field: 'unprivileged', kind: 'bool', actions: DR, handledBy: 'rpc', cli: true, help: "accept non-root's limits (CRIU with CAP_CHECKPOINT_RESTORE only)", default: 'false' },
  { name: 'displayStats', flag: '--display-stats', field: 'display_stats', kind: 'bool', actions: DR, handledBy: 'rpc', cli: true, help: "CRIU prints its statistics at the end (on its stdout; cryo reports stats anyway)", default: 'false' },
  { name: 'config', flag: '--config', arg: 'file', field: 'config_file', kind: 'path', actions: DR, handledBy: 'rpc', cli: true, help: "a CRIU configuration file read after the RPC options: it overrides cryo's (docs/criu-options.md)", default: 'none' },
  { name: 'tls', flag: '--tls', field: 'tls', kind: 'bool', actions: D, handledBy: 'rpc', cli: false, help: 'TLS for page-server transfers', default: 'false' },
  { name: 'tlsCacert', flag: '--tls-cacert', arg: 'file', field: 'tls_cacert', kind: 'path', actions: D, handledBy: 'rpc', cli: false, help: 'CA certificate for page-server TLS', default: '/etc/pki/CA/cacert.pem' },
  { name: 'tlsCacrl', flag: '--tls-cacrl', arg: 'file', field: 'tls_cacrl', kind: 'path', actions: D, handledBy: 'rpc', cli: false, help: 'certificate revocation list for page-server TLS', default: '/etc/pki/CA/cacrl.pem' },
  { name: 'tlsCert', flag: '--tls-cert', arg: 'file', field: 'tls_cert', kind: 'path', actions: D, handledBy: 'rpc', cli: false, help: 'certificate for page-server TLS', default: '/etc/pki/criu/cert.pem' },
  { name: 'tlsKey', flag: '--tls-key', arg: 'file', field: 'tls_key', kind: 'path', actions: D, handledBy: 'rpc', cli: false, help: 'private key for page-server TLS', default: '/etc/pki/criu/private/key.pem' },
  { name: 'tlsNoCnVerify', flag: '--tls-no-cn-verify', field: 'tls_no_cn_verify', kind: 'bool', actions: D, handledBy: 'rpc', cli: false, help: "don't check the peer certificate's name against --address", default: 'false' },

  // ---- CRIU's command line only: no criu_opts field in 4.2 (a --config file can carry them)
  { name: 'ghostFiemap', flag: '--ghost-fiemap', kind: 'bool', actions: D, handledBy: 'config', cli: false, help: 'fiemap for sparse ghost files (no-ghost-fiemap in a --config file turns it off)', default: 'true' },
  { name: 'fileValidation', flag: '--file-validation', arg: 'mode', kind: 'string', actions: DR, handledBy: 'config', cli: false, help: 'filesize or buildid', default: 'buildid' },
  { name: 'allowUprobes', flag: '--allow-uprobes', kind: 'bool', actions: DR, handledBy: 'config', cli: false, help: 'dump a tree with a uprobes mapping; the restore needs it too', default: 'false' },
  { name: 'logPid', flag: '--log-pid', kind: 'bool', actions: R, handledBy: 'config', cli: false, help: 'one log file per restored process', default: 'false' },
  { name: 'libdir', flag: '--libdir', kind: 'string', actions: DR, handledBy: 'config', cli: false, help: "CRIU's plugin directory", default: "CRIU's built-in" },
];

/** Options CRIU's dump reads (library names, camelCase of CRIU's flags). */
export interface CriuDumpOptions {
  /** -W/--work-dir: directory for CRIU's log and stats files; default the images directory (pipeline) */
  workDir?: string;
  /** --log-file: name of CRIU's log file in the work dir; default dump.log (pipeline) */
  logFile?: string;
  /** -v/--log-level 0..4; default 4 (CRIU's own default is 2) */
  logLevel?: number;
  /** --tcp-established: checkpoint established TCP connections; default false */
  tcpEstablished?: boolean;
  /** --tcp-close: don't dump or block established TCP connections; default false */
  tcpClose?: boolean;
  /** --skip-in-flight: ignore half-open TCP connections instead of failing; default false */
  skipInFlight?: boolean;
  /** -x/--ext-unix-sk[=INO,...]: allow unix sockets connected outside the tree (true), or only these inodes; default false */
  extUnixSk?: boolean | number[];
  /** -j/--shell-job: the tree belongs to the caller's session or terminal; default false */
  shellJob?: boolean;
  /** -l/--file-locks: dump file locks; default false */
  fileLocks?: boolean;
  /** --external RES (repeatable), CRIU's syntax ("unix[1234]", "mnt[/path]:name"); default none */
  external?: string[];
  /** --manage-cgroups[=MODE]: dump cgroups; true = CRIU's default mode (soft); default off */
  manageCgroups?: boolean | CgroupMode;
  /** --empty-ns net: leave the network namespace's contents to action scripts; default none */
  emptyNs?: 'net' | Array<'net'>;
  /** --network-lock: default, where a lock is needed, detectNetworkLock() (iptables if iptables-restore exists, else nftables) */
  networkLock?: NetworkLock;
  /** --evasive-devices: any path to a device file if the original is inaccessible; default false */
  evasiveDevices?: boolean;
  /** --link-remap: allow open files that were unlinked; default false */
  linkRemap?: boolean;
  /** --ghost-limit: largest deleted file kept in the images, bytes or "4M"; default 1M */
  ghostLimit?: number | string;
  /** --force-irmap: force resolving names of inotify/fsnotify watches; default false */
  forceIrmap?: boolean;
  /** --irmap-scan-path PATH (repeatable): where to look for watched files; default CRIU's list */
  irmapScanPath?: string[];
  /** --timeout: seconds to collect the tasks; default 10 */
  timeout?: number;
  /** --freeze-cgroup PATH: freeze with this cgroup freezer; default none (ptrace) */
  freezeCgroup?: string;
  /** --track-mem: track memory changes for incremental dumps (needs soft-dirty); default false */
  trackMem?: boolean;
  /** --auto-dedup: drop the parent images' copies of pages dumped again; default false */
  autoDedup?: boolean;
  /** --pre-dump-mode splice|read (pre-dump only); default splice */
  preDumpMode?: 'splice' | 'read';
  /** --cpu-cap[=CAP,...]: fpu, cpu, ins, all, none, ^ inverts; true = all; default fpu,ins */
  cpuCap?: true | string;
  /** -M/--ext-mount-map PATH:KEY or auto (repeatable); default none */
  extMountMap?: Array<string | { key: string; val: string }>;
  /** --enable-external-sharing; default false */
  enableExternalSharing?: boolean;
  /** --enable-external-masters; default false */
  enableExternalMasters?: boolean;
  /** --skip-mnt PATH (repeatable): leave a mount out; default none */
  skipMnt?: string[];
  /** --enable-fs FS[,FS] or all (repeatable): mounts CRIU may auto-detect; default none */
  enableFs?: string[];
  /** --cgroup-root [CTRL:]PATH (repeatable): a controller's root cgroup; default where the tasks live */
  cgroupRoot?: Array<string | { ctrl?: string; path: string }>;
  /** --cgroup-props SPEC (YAML text); default CRIU's built-in */
  cgroupProps?: string;
  /** --cgroup-props-file FILE; default none */
  cgroupPropsFile?: string;
  /** --cgroup-dump-controller NAME (repeatable); default every controller */
  cgroupDumpController?: string[];
  /** --cgroup-yard PATH: prepared cgroup mounts; default CRIU mounts its own */
  cgroupYard?: string;
  /** --unprivileged: accept non-root's limits; default false */
  unprivileged?: boolean;
  /** --display-stats: CRIU prints its statistics; default false */
  displayStats?: boolean;
  /** --config FILE: CRIU configuration read after (and overriding) the RPC options; default none */
  config?: string;
  /** --tls (page server); default false */
  tls?: boolean;
  /** --tls-cacert FILE (page server); default /etc/pki/CA/cacert.pem */
  tlsCacert?: string;
  /** --tls-cacrl FILE (page server); default /etc/pki/CA/cacrl.pem */
  tlsCacrl?: string;
  /** --tls-cert FILE (page server); default /etc/pki/criu/cert.pem */
  tlsCert?: string;
  /** --tls-key FILE (page server); default /etc/pki/criu/private/key.pem */
  tlsKey?: string;
  /** --tls-no-cn-verify (page server); default false */
  tlsNoCnVerify?: boolean;
}

/** Options CRIU's restore reads (library names, camelCase of CRIU's flags). */
export interface CriuRestoreOptions {
  /** -W/--work-dir: directory for CRIU's log and stats files; default the images directory (pipeline) */
  workDir?: string;
  /** --log-file: name of CRIU's log file in the work dir; default restore.log (pipeline) */
  logFile?: string;
  /** --pidfile FILE: cryo writes the restored root's pid (RPC has no such field); default none */
  pidfile?: string;
  /** -v/--log-level 0..4; default 4 */
  logLevel?: number;
  /** --tcp-established: restore established TCP connections; default as dumped */
  tcpEstablished?: boolean;
  /** --tcp-close: restore connected TCP sockets closed; default false */
  tcpClose?: boolean;
  /** -x/--ext-unix-sk: allow external unix sockets; default as dumped */
  extUnixSk?: boolean | number[];
  /** -j/--shell-job: attach to the caller's session or terminal; default as dumped */
  shellJob?: boolean;
  /** -l/--file-locks: restore file locks; default as dumped */
  fileLocks?: boolean;
  /** --external RES (repeatable), CRIU's restore syntax ("mnt[name]:/path", "veth[in]:out"); default as dumped */
  external?: string[];
  /** --manage-cgroups[=MODE]; default as dumped */
  manageCgroups?: boolean | CgroupMode;
  /** --empty-ns net; default as dumped */
  emptyNs?: 'net' | Array<'net'>;
  /** --auto-dedup: punch restored pages out of the images; default false */
  autoDedup?: boolean;
  /** --cpu-cap[=CAP,...]: what the CPU must match; true = all; default fpu (CRIU's) */
  cpuCap?: true | string;
  /** -M/--ext-mount-map KEY:PATH or auto (repeatable); default none */
  extMountMap?: Array<string | { key: string; val: string }>;
  /** --enable-external-sharing; default false */
  enableExternalSharing?: boolean;
  /** --enable-external-masters; default false */
  enableExternalMasters?: boolean;
  /** --cgroup-root [CTRL:]PATH (repeatable): where to put the cgroups; default as dumped */
  cgroupRoot?: Array<string | { ctrl?: string; path: string }>;
  /** --cgroup-yard PATH; default CRIU mounts its own */
  cgroupYard?: string;
  /** -r/--root PATH: the root filesystem; default the caller's / */
  root?: string;
  /** --inherit-fd fd[N]:RES (repeatable): give the tree the caller's fd N in place of RES; default none */
  inheritFd?: Array<string | { key: string; fd: number }>;
  /** -J/--join-ns NS:PID|FILE[,EXTRA] (repeatable): join an existing namespace; default new ones */
  joinNs?: Array<string | { ns: string; nsFile: string; extraOpt?: string }>;
  /** --veth-pair IN=OUT (repeatable); default as dumped */
  vethPair?: Array<string | { ifIn: string; ifOut: string }>;
  /** --weak-sysctls: skip sysctls this kernel lacks; default false */
  weakSysctls?: boolean;
  /** --lsm-profile TYPE:NAME; default as dumped */
  lsmProfile?: string;
  /** --lsm-mount-context CONTEXT; default as dumped */
  lsmMountContext?: string;
  /** --mntns-compat-mode: CRIU's older mount engine; default false */
  mntnsCompatMode?: boolean;
  /** --skip-file-rwx-check; default false */
  skipFileRwxCheck?: boolean;
  /** --unprivileged; default false */
  unprivileged?: boolean;
  /** --display-stats; default false */
  displayStats?: boolean;
  /** --config FILE: read after (and overriding) the RPC options; default none */
  config?: string;
}

const DEFAULT_LOG_LEVEL = 4;

// ---------------------------------------------------------------- value parsers

function got(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? `[${value.map(got).join(', ')}]` : String(value);
}

/** "expected a positive integer pid, got 'abc'" */
export function parsePid(value: unknown, what = 'pid'): number {
  const s = String(value).trim();
  if (!/^\d+$/.test(s) || Number(s) <= 0 || Number(s) > 4194304) {
    throw usageError(`expected a positive integer ${what}, got '${String(value)}'`, `pass the numeric ${what} of a running process (see \`ps\`)`);
  }
  return Number(s);
}

/** --log-level / -v: 0..4 */
export function parseLogLevel(value: unknown): number {
  const s = String(value).trim();
  if (!/^[0-4]$/.test(s)) throw usageError(`expected a log level from 0 to 4, got '${String(value)}'`, 'CRIU log levels: 0 none, 1 errors, 2 warnings, 3 info, 4 debug');
  return Number(s);
}

/** CRIU's size syntax: bytes with an optional K/M/G suffix ("1M", "4096"), at most 4G - 1 (uint32). */
export function parseSize(value: unknown, what = '--ghost-limit'): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return value;
  const m = /^(\d+)([kKmMgG]?)$/.exec(String(value).trim());
  if (!m) throw usageError(`expected ${what} as a size in bytes with an optional K, M or G suffix, got '${String(value)}'`, `e.g. ${what} 4M`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * mult;
  if (n > 0xffffffff) throw usageError(`${what} is too large: ${String(value)} (at most 4G - 1 bytes)`, 'pass a smaller size');
  return n;
}

export function parseNetworkLock(value: unknown): NetworkLock {
  const s = String(value).trim();
  if (s === 'iptables' || s === 'nftables' || s === 'skip') return s;
  if (s === 'none') return 'skip'; // CRIU's alias
  throw usageError(`expected --network-lock iptables, nftables or skip, got '${String(value)}'`, 'omit it: cryo picks the backend that exists here');
}

const CG_MODES: CgroupMode[] = ['none', 'props', 'soft', 'full', 'strict', 'ignore', 'default'];

export function parseCgroupMode(value: unknown): boolean | CgroupMode {
  if (value === true || value === undefined) return true;
  if (value === false) return false;
  const s = String(value).trim().toLowerCase();
  if ((CG_MODES as string[]).includes(s)) return s as CgroupMode;
  throw usageError(`expected --manage-cgroups mode none, props, soft, full, strict or ignore, got '${String(value)}'`, 'or give --manage-cgroups alone for the default mode');
}

/** "K=V" for --env */
export function parseEnvPair(value: string): [string, string] {
  const i = value.indexOf('=');
  if (i <= 0) throw usageError(`expected --env as NAME=VALUE, got '${value}'`, 'e.g. --env PORT=8080');
  return [value.slice(0, i), value.slice(i + 1)];
}

const NETWORK_LOCK_ENUM: Record<NetworkLock, string> = { iptables: 'IPTABLES', nftables: 'NFTABLES', skip: 'SKIP' };
const CG_ENUM: Record<CgroupMode, string> = { none: 'CG_NONE', props: 'PROPS', soft: 'SOFT', full: 'FULL', strict: 'STRICT', ignore: 'IGNORE', default: 'DEFAULT' };
const CPU_CAP = { none: 0, fpu: 1, cpu: 2, ins: 4, all: 7 } as const;
const CPU_CAP_DEFAULT = CPU_CAP.fpu | CPU_CAP.ins;
const CLONE_NEWNET = 0x40000000;
const JOIN_NS = ['ipc', 'mnt', 'net', 'time', 'user', 'uts'];

/** CRIU's --cpu-cap syntax ("fpu,ins", "^cpu", "none"; true = all) to its bit set, as CRIU's own parser builds it. */
export function parseCpuCap(value: unknown): number {
  if (value === true || value === '') return CPU_CAP.all;
  const bad = () => usageError(`expected --cpu-cap as a list of fpu, cpu, ins, all, none (^ inverts), got ${got(value)}`, 'e.g. --cpu-cap=fpu,ins, or --cpu-cap=none to skip the check');
  if (typeof value !== 'string') throw bad();
  let caps: number = CPU_CAP_DEFAULT;
  for (const part of value.split(',')) {
    const m = /^(\^*)(fpu|cpu|ins|all|none)$/.exec(part.trim());
    if (!m) throw bad();
    const inverse = m[1].length % 2 === 1;
    const bits = CPU_CAP[m[2] as keyof typeof CPU_CAP];
    if (m[2] === 'none') caps = inverse ? CPU_CAP.all : CPU_CAP.none;
    else caps = inverse ? caps & ~bits : caps | bits;
  }
  return caps;
}

/** --inherit-fd fd[N]:RES */
function parseInheritFd(value: unknown): { key: string; fd: number } {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as { key?: unknown; fd?: unknown };
    if (typeof o.key === 'string' && o.key && Number.isInteger(o.fd) && (o.fd as number) >= 0) return { key: o.key, fd: o.fd as number };
  }
  const m = typeof value === 'string' ? /^fd\[(\d+)\]:(.+)$/.exec(value) : null;
  if (!m || Number(m[1]) > 0x7fffffff) throw usageError(`expected --inherit-fd as fd[N]:RESOURCE, got ${got(value)}`, 'e.g. --inherit-fd fd[3]:pipe:[12345] (see the checkpoint\'s files for the resource)');
  return { fd: Number(m[1]), key: m[2] };
}

function parseExtMountMap(value: unknown): { key: string; val: string } | 'auto' {
  if (value === 'auto') return 'auto';
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as { key?: unknown; val?: unknown };
    if (typeof o.key === 'string' && o.key && typeof o.val === 'string' && o.val) return { key: o.key, val: o.val };
  }
  const i = typeof value === 'string' ? value.indexOf(':') : -1;
  if (i <= 0 || i === (value as string).length - 1) throw usageError(`expected --ext-mount-map as KEY:VALUE or auto, got ${got(value)}`, 'dump: --ext-mount-map /mnt/data:data; restore: --ext-mount-map data:/mnt/data');
  return { key: (value as string).slice(0, i), val: (value as string).slice(i + 1) };
}

function parseCgroupRoot(value: unknown): { ctrl?: string; path: string } {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as { ctrl?: unknown; path?: unknown };
    if (typeof o.path === 'string' && o.path.startsWith('/') && (o.ctrl === undefined || (typeof o.ctrl === 'string' && o.ctrl))) return o.ctrl === undefined ? { path: o.path } : { ctrl: o.ctrl as string, path: o.path };
  }
  if (typeof value === 'string') {
    const i = value.indexOf(':');
    const ctrl = i >= 0 ? value.slice(0, i) : undefined;
    const path = i >= 0 ? value.slice(i + 1) : value;
    if (path.startsWith('/') && ctrl !== '') return ctrl === undefined ? { path } : { ctrl, path };
  }
  throw usageError(`expected --cgroup-root as [CONTROLLER:]/PATH, got ${got(value)}`, 'e.g. --cgroup-root /newroot or --cgroup-root cpu:/newroot');
}

function parseJoinNs(value: unknown): { ns: string; ns_file: string; extra_opt?: string } {
  let ns: unknown, nsFile: unknown, extra: unknown;
  if (value && typeof value === 'object' && !Array.isArray(value)) ({ ns, nsFile, extraOpt: extra } = value as { ns?: unknown; nsFile?: unknown; extraOpt?: unknown });
  else if (typeof value === 'string') {
    const i = value.indexOf(':');
    if (i > 0) {
      ns = value.slice(0, i);
      const rest = value.slice(i + 1);
      const c = rest.indexOf(',');
      nsFile = c >= 0 ? rest.slice(0, c) : rest;
      if (c >= 0) extra = rest.slice(c + 1);
    }
  }
  const ok = typeof ns === 'string' && JOIN_NS.includes(ns) && typeof nsFile === 'string' && nsFile !== '' && (extra === undefined || (typeof extra === 'string' && (ns === 'user' && /^\d+(,\d+)?$/.test(extra))));
  if (!ok) throw usageError(`expected --join-ns as NS:PID or NS:FILE (NS one of ${JOIN_NS.join(', ')}; user may add ,UID,GID), got ${got(value)}`, 'e.g. --join-ns net:/run/netns/blue or --join-ns user:1234,0,0');
  return extra === undefined ? { ns: ns as string, ns_file: nsFile as string } : { ns: ns as string, ns_file: nsFile as string, extra_opt: extra as string };
}

function parseVethPair(value: unknown): { if_in: string; if_out: string } {
  let ifIn: unknown, ifOut: unknown;
  if (value && typeof value === 'object' && !Array.isArray(value)) ({ ifIn, ifOut } = value as { ifIn?: unknown; ifOut?: unknown });
  else if (typeof value === 'string' && value.indexOf('=') > 0) [ifIn, ifOut] = [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)];
  if (typeof ifIn !== 'string' || !ifIn || typeof ifOut !== 'string' || !ifOut) throw usageError(`expected --veth-pair as IN=OUT, got ${got(value)}`, 'e.g. --veth-pair eth0=veth-app');
  return { if_in: ifIn, if_out: ifOut };
}

function parseUnixInodes(value: unknown): number[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
  return list.map((x) => {
    const s = String(x).trim();
    if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw usageError(`expected --ext-unix-sk inodes as INO[,INO...], got ${got(value)}`, 'e.g. --ext-unix-sk=12345 (inode numbers from `ss -xp`), or --ext-unix-sk alone for all');
    return Number(s);
  });
}

function flagOf(spec: CriuOptionSpec): string {
  return spec.flag ?? spec.name;
}

function toBool(spec: CriuOptionSpec, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw usageError(`expected ${flagOf(spec)} as true or false, got ${got(v)}`, `${flagOf(spec)} is a switch: give it or leave it out`);
}

function toUint(spec: CriuOptionSpec, v: unknown): number {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw usageError(`expected ${flagOf(spec)} as a non-negative integer, got ${got(v)}`, spec.name === 'timeout' ? 'e.g. --timeout 30 (seconds)' : `e.g. ${flagOf(spec)} 10`);
  return Number(s);
}

function toText(spec: CriuOptionSpec, v: unknown): string {
  if (typeof v !== 'string' || v === '' || v.includes('\0')) throw usageError(`expected ${flagOf(spec)} as a non-empty string, got ${got(v)}`, `e.g. ${flagOf(spec)} ${spec.arg ?? 'VALUE'}`);
  return v;
}

function toList(spec: CriuOptionSpec, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  throw usageError(`expected ${flagOf(spec)} as a list, got ${got(v)}`, `${flagOf(spec)} is repeatable: pass an array (CLI: give the flag once per value)`);
}

/** One option's value as criu_opts fields (empty: nothing to send). */
function mapValue(spec: CriuOptionSpec, v: unknown): Record<string, unknown> {
  const field = spec.field!;
  switch (spec.kind) {
    case 'bool':
      // an explicit false is sent: it overrides CRIU's default configuration files
      return { [field]: toBool(spec, v) };
    case 'uint':
      return { [field]: toUint(spec, v) };
    case 'size':
      return { [field]: parseSize(v, flagOf(spec)) };
    case 'logLevel':
      return { [field]: parseLogLevel(v) };
    case 'string': {
      const t = toText(spec, v);
      if (spec.name === 'lsmProfile' && !/^((apparmor|selinux):.|none:)/.test(t)) throw usageError(`expected --lsm-profile as apparmor:NAME, selinux:LABEL or none:, got '${t}'`, 'e.g. --lsm-profile apparmor:unconfined');
      return { [field]: t };
    }
    case 'path': {
      const t = toText(spec, v);
      // CRIU opens it after chdir to its work dir: a relative path means the caller's directory
      const p = isAbsolute(t) ? t : resolve(t);
      if (spec.name === 'config') checkConfigFile(p);
      return { [field]: p };
    }
    case 'strings':
      return { [field]: toList(spec, v).map((x) => toText(spec, x)) };
    case 'networkLock':
      return { [field]: NETWORK_LOCK_ENUM[parseNetworkLock(v)] };
    case 'manageCgroups': {
      const mode = parseCgroupMode(v);
      if (mode === false) return {};
      return mode === true ? { manage_cgroups: true } : { manage_cgroups: true, manage_cgroups_mode: CG_ENUM[mode] };
    }
    case 'preDumpMode': {
      if (v === 'splice') return { [field]: 'SPLICE' };
      if (v === 'read') return { [field]: 'VM_READ' };
      throw usageError(`expected --pre-dump-mode splice or read, got ${got(v)}`, 'read uses process_vm_readv and leaves the tree frozen for less time');
    }
    case 'cpuCap':
      return { [field]: parseCpuCap(v) };
    case 'emptyNs': {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || list.some((x) => x !== 'net')) throw usageError(`expected --empty-ns net, got ${got(v)}`, 'net is the only namespace CRIU can leave empty');
      return { [field]: CLONE_NEWNET };
    }
    case 'extUnixSk': {
      if (typeof v === 'boolean') return { ext_unix_sk: v };
      return { ext_unix_sk: true, unix_sk_ino: parseUnixInodes(v).map((inode) => ({ inode })) };
    }
    case 'inheritFd':
      return { [field]: toList(spec, v).map(parseInheritFd) };
    case 'extMountMap': {
      const parsed = toList(spec, v).map(parseExtMountMap);
      const maps = parsed.filter((x): x is { key: string; val: string } => x !== 'auto');
      return { ...(maps.length ? { ext_mnt: maps } : {}), ...(parsed.includes('auto') ? { auto_ext_mnt: true } : {}) };
    }
    case 'cgroupRoot':
      return { [field]: toList(spec, v).map(parseCgroupRoot) };
    case 'joinNs':
      return { [field]: toList(spec, v).map(parseJoinNs) };
    case 'vethPair':
      return { [field]: toList(spec, v).map(parseVethPair) };
  }
}

function actionsText(spec: CriuOptionSpec): string {
  return spec.actions.filter((a) => a !== 'pre-dump' || !spec.actions.includes('dump')).join(' and ');
}

// what a --config file must not set: cryo's pipeline owns these (a `tree` there would dump another
// process while cryo ends the user's; a log-file or work-dir there hides CRIU's log from cryo)
const PIPELINE_ONLY = ['images-dir', 'work-dir', 'log-file', 'tree', 'leave-running', 'leave-stopped', 'restore-detached', 'restore-sibling', 'daemon', 'pidfile', 'status-fd', 'action-script', 'exec-cmd', 'page-server', 'address', 'port', 'ps-socket', 'lazy-pages', 'prev-images-dir', 'stream', 'close', 'version', 'help'];

/** Reads a --config file as CRIU does (one option per line, `--` implied, getopt's unique prefixes) and refuses the pipeline's options. */
function checkConfigFile(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`expected --config as a readable CRIU configuration file, got '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path; the syntax is in criu(8), CONFIGURATION FILES');
  }
  for (const line of text.split('\n')) {
    const word = /^\s*([^\s#=]+)/.exec(line)?.[1]?.replace(/^-+/, '');
    if (!word) continue;
    const hit = PIPELINE_ONLY.find((name) => name === word || (word.length >= 2 && name.startsWith(word)));
    if (hit) throw usageError(`--config ${path} sets ${hit}, which cryo's pipeline owns`, `remove "${word}" from it; cryo's own flags (-D, -o, -R, --leave-stopped, --work-dir, --log-file, --pidfile) do that`);
  }
}

/** Checks a pipeline/cryo option's value without sending it. */
function checkLocal(spec: CriuOptionSpec, v: unknown): void {
  if (spec.kind === 'bool') toBool(spec, v);
  else if (spec.kind === 'uint') toUint(spec, v);
  else if (spec.kind === 'strings') toList(spec, v).forEach((x) => toText(spec, x));
  else toText(spec, v);
  if (spec.name === 'logFile' && (v as string).includes('/')) throw usageError(`expected --log-file as a bare file name, got '${v as string}'`, 'put the directory in --work-dir');
}

/**
 * The criu_opts fields for a dump or restore: every table option given in `opts` (library names),
 * validated ("expected X, got Y" usage errors with a hint). Keys that are not table options are
 * ignored (callers pass their whole options object); pipeline and cryo options are checked, not sent.
 * `ctx.needsLock`: CRIU will lock the network (TCP connections, or a network namespace of its own);
 * only then is a backend picked, since nftables set-up alone costs CRIU ~0.4 s here. A restore never
 * gets one: CRIU takes the dump's method from inventory.img.
 */
export function toRpcOpts(action: 'dump' | 'restore', opts: CriuDumpOptions | CriuRestoreOptions, ctx: { needsLock: boolean }): Record<string, unknown> {
  const o = opts as Record<string, unknown>;
  const out: Record<string, unknown> = { log_level: DEFAULT_LOG_LEVEL };
  for (const spec of CRIU_OPTIONS) {
    const v = o[spec.name];
    if (v === undefined) continue;
    if (!spec.actions.includes(action)) {
      throw usageError(`${flagOf(spec)} applies to ${actionsText(spec)}, not ${action}`, spec.name === 'networkLock' ? 'a restore locks the network with the method the dump recorded' : `leave ${flagOf(spec)} out of the ${action}`);
    }
    if (spec.handledBy === 'config') throw usageError(`${flagOf(spec)} has no RPC field in CRIU 4.2`, `put "${flagOf(spec).slice(2)}" in a CRIU configuration file and pass --config FILE`);
    if (spec.handledBy !== 'rpc') {
      checkLocal(spec, v);
      continue;
    }
    Object.assign(out, mapValue(spec, v));
  }
  if (action === 'dump' && out.network_lock === undefined && (ctx.needsLock || out.tcp_established)) {
    out.network_lock = NETWORK_LOCK_ENUM[detectNetworkLock()];
  }
  return out;
}

/**
 * What a restore needs of a dumped `--external`: CRIU restores external unix sockets with
 * --ext-unix-sk (a repeated unix[INO] does nothing: verified with 4.2.1), auto-detected mounts
 * (mnt[] with flags) with mnt[]; named mounts, devices, files, ttys and namespaces need the restore
 * side's own value (--external mnt[NAME]:PATH, dev[NAME]:/dev/X, --inherit-fd), so none is repeated.
 */
function restoreSideOfExternal(res: string): { extUnixSk: true } | { external: string } | undefined {
  if (res.startsWith('unix[')) return { extUnixSk: true };
  if (/^mnt\[\](:[ms]*)?$/.test(res)) return { external: 'mnt[]' };
  return undefined;
}

/**
 * What a checkpoint records for its restore to repeat: the dump's options flagged repeatOnRestore,
 * with the values the dump was given (library names), and each --external as the restore needs it.
 * The restore merges the user's options over it.
 */
export function restoreOptionsFromDump(opts: CriuDumpOptions): Record<string, unknown> {
  const o = opts as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const spec of CRIU_OPTIONS) {
    if (!spec.repeatOnRestore) continue;
    const v = o[spec.name];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    if (spec.name === 'external') {
      const external: string[] = [];
      for (const res of v as string[]) {
        const side = restoreSideOfExternal(res);
        if (side && 'extUnixSk' in side) out.extUnixSk = true;
        else if (side && !external.includes(side.external)) external.push(side.external);
      }
      if (external.length) out.external = external;
      continue;
    }
    // the inodes picked which sockets were dumped; the restore only needs the switch
    out[spec.name] = spec.kind === 'extUnixSk' ? true : Array.isArray(v) ? [...v] : v;
  }
  return out;
}
