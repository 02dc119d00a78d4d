// The magic table: every image type CRIU 4.2 writes, as data. Values are host-order u32 (x86: little endian).

/** How the entries of an image are framed and which raw payload follows each entry. */
export type ExtraKind =
  | 'pipe-data' // pipe_data_entry.bytes raw bytes
  | 'sk-queue' // sk_packet_entry.length raw bytes
  | 'tcp-stream' // inq_len then outq_len raw bytes
  | 'bpfmap-data' // keys_bytes + values_bytes raw bytes
  | 'ipc-shm' // size bytes padded to 4, unless in_pagemaps
  | 'ipc-sem' // nsems u16 values padded to 8
  | 'ipc-msg'; // qnum x (u32 size, ipc_msg, msize bytes padded to 8)

export interface MagicInfo {
  name: string;
  value: number;
  /** message type of every entry; PAGEMAP and GHOST_FILE have their own framing (see `framing`) */
  message?: string;
  framing: 'entries' | 'pagemap' | 'ghost' | 'blob';
  extra?: ExtraKind;
  /** crit (4.2) has no handler for it: JSON differential tests cannot cover it */
  critUnsupported?: boolean;
}

export const IMG_COMMON = 0x54564319;
export const IMG_SERVICE = 0x55105940;
/** The old v1.0 "images set" magic; not an image type. */
export const CRTOOLS_IMAGES_V1_1 = 2;

const E = (name: string, value: number, message: string, extra?: ExtraKind): MagicInfo =>
  ({ name, value, message, framing: 'entries', ...(extra ? { extra } : {}) });

const TABLE: MagicInfo[] = [
  E('INVENTORY', 0x58313116, 'inventory_entry'),
  E('PSTREE', 0x50273030, 'pstree_entry'),
  E('FDINFO', 0x56213732, 'fdinfo_entry'),
  { name: 'PAGEMAP', value: 0x56084025, framing: 'pagemap' },
  E('CORE', 0x55053847, 'core_entry'),
  E('IDS', 0x54432030, 'task_kobj_ids_entry'),
  E('VMAS', 0x54123737, 'vma_entry'),
  E('PIPES', 0x56513555, 'pipe_entry'),
  E('PIPES_DATA', 0x56453709, 'pipe_data_entry', 'pipe-data'),
  E('FIFO', 0x58364939, 'fifo_entry'),
  E('FIFO_DATA', 0x59333054, 'pipe_data_entry', 'pipe-data'),
  E('SIGACT', 0x55344201, 'sa_entry'),
  E('UNIXSK', 0x54373943, 'unix_sk_entry'),
  E('INETSK', 0x56443851, 'inet_sk_entry'),
  E('PACKETSK', 0x60454618, 'packet_sock_entry'),
  E('ITIMERS', 0x57464056, 'itimer_entry'),
  E('POSIX_TIMERS', 0x52603957, 'posix_timer_entry'),
  E('SK_QUEUES', 0x56264026, 'sk_packet_entry', 'sk-queue'),
  E('UTSNS', 0x54473203, 'utsns_entry'),
  E('CREDS', 0x54023547, 'creds_entry'),
  E('IPC_VAR', 0x53115007, 'ipc_var_entry'),
  E('IPCNS_SHM', 0x46283044, 'ipc_shm_entry', 'ipc-shm'),
  E('IPCNS_MSG', 0x55453737, 'ipc_msg_entry', 'ipc-msg'),
  E('IPCNS_SEM', 0x59573019, 'ipc_sem_entry', 'ipc-sem'),
  E('REG_FILES', 0x50363636, 'reg_file_entry'),
  E('EXT_FILES', 0x59255641, 'ext_file_entry'),
  E('FS', 0x51403912, 'fs_entry'),
  E('MM', 0x57492820, 'mm_entry'),
  E('REMAP_FPATH', 0x59133954, 'remap_file_path_entry'),
  { name: 'GHOST_FILE', value: 0x52583605, framing: 'ghost' },
  E('TCP_STREAM', 0x51465506, 'tcp_stream_entry', 'tcp-stream'),
  E('EVENTFD_FILE', 0x44523722, 'eventfd_file_entry'),
  E('EVENTPOLL_FILE', 0x45023858, 'eventpoll_file_entry'),
  E('EVENTPOLL_TFD', 0x44433746, 'eventpoll_tfd_entry'),
  E('SIGNALFD', 0x57323820, 'signalfd_entry'),
  E('INOTIFY_FILE', 0x48424431, 'inotify_file_entry'),
  E('INOTIFY_WD', 0x54562009, 'inotify_wd_entry'),
  E('MNTS', 0x55563928, 'mnt_entry'),
  E('NETDEV', 0x57373951, 'net_device_entry'),
  E('NETNS', 0x55933752, 'netns_entry'),
  E('TTY_FILES', 0x59433025, 'tty_file_entry'),
  E('TTY_INFO', 0x59453036, 'tty_info_entry'),
  E('TTY_DATA', 0x59413026, 'tty_data_entry'),
  E('FILE_LOCKS', 0x54323616, 'file_lock_entry'),
  E('RLIMIT', 0x57113925, 'rlimit_entry'),
  E('FANOTIFY_FILE', 0x55096122, 'fanotify_file_entry'),
  E('FANOTIFY_MARK', 0x56506035, 'fanotify_mark_entry'),
  { ...E('SIGNAL', 0x59255647, 'siginfo_entry'), critUnsupported: true },
  E('NETLINK_SK', 0x58005614, 'netlink_sk_entry'),
  E('NS_FILES', 0x61394011, 'ns_file_entry'),
  E('TUNFILE', 0x57143751, 'tunfile_entry'),
  E('CGROUP', 0x59383330, 'cgroup_entry'),
  E('TIMERFD', 0x50493712, 'timerfd_entry'),
  E('CPUINFO', 0x61404013, 'cpuinfo_entry'),
  E('USERNS', 0x55474906, 'userns_entry'),
  E('SECCOMP', 0x64413049, 'seccomp_entry'),
  { ...E('BINFMT_MISC', 0x67343323, 'binfmt_misc_entry'), critUnsupported: true },
  E('AUTOFS', 0x49353943, 'autofs_entry'),
  E('FILES', 0x56303138, 'file_entry'),
  E('MEMFD_INODE', 0x48453499, 'memfd_inode_entry'),
  E('TIMENS', 0x43114433, 'timens_entry'),
  E('PIDNS', 0x61157326, 'pidns_entry'),
  E('BPFMAP_FILE', 0x57506142, 'bpfmap_file_entry'),
  E('BPFMAP_DATA', 0x64324033, 'bpfmap_data_entry', 'bpfmap-data'),
  E('APPARMOR', 0x59423047, 'apparmor_entry'),
  { ...E('PIDFD', 0x54435556, 'pidfd_entry'), critUnsupported: true },
  E('STATS', 0x57093306, 'stats_entry'),
  E('IRMAP_CACHE', 0x57004059, 'irmap_cache_entry'),
  // criu.kdat caches a C struct, not protobuf: kept as one opaque blob
  { name: 'KDAT', value: 0x57023458, framing: 'blob', critUnsupported: true },
];

export const MAGICS: ReadonlyMap<string, MagicInfo> = new Map(TABLE.map((m) => [m.name, m]));
export const MAGICS_BY_VALUE: ReadonlyMap<number, MagicInfo> = new Map(TABLE.map((m) => [m.value, m]));

/** Images with no magic at all: memory pages, netlink dumps, tar archives, iptables-save output. */
const RAW_NAME = /^(pages-\d+|ifaddr-\d+|route6?-\d+|rule-\d+|ip6?tables-\d+|nftables-\d+|netns-ct-\d+|netns-exp-\d+|tmpfs-(dev-)?\d+\.tar\.gz)\.img$/;

/** Whether a file name is one of CRIU's headerless (raw) images. */
export function isRawImageName(basename: string): boolean {
  return RAW_NAME.test(basename);
}

/** The secondary magic crit writes for an image type (it keeps none in its JSON). */
export function defaultSecondaryMagic(name: string): number | null {
  if (name === 'INVENTORY') return null;
  return name === 'STATS' || name === 'IRMAP_CACHE' || name === 'KDAT' ? IMG_SERVICE : IMG_COMMON;
}
