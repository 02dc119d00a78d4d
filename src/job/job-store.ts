// Where a job keeps its checkpoints: a directory (archives beside their job files) or a registry
// repository (a tag per checkpoint, the job file as a manifest annotation). The job loop sees only this.
import type { CheckpointInput } from '../checkpoint/open.js';
import type { DumpOptions, DumpResult } from '../pipeline/dump.js';
import type { JobFile, StoredCheckpoint } from './store.js';

export interface SavedCheckpoint {
  result: DumpResult;
  /** the archive path, or oci://HOST/REPO:TAG */
  location: string;
  /** names removed to keep the newest N */
  pruned: string[];
}

export interface JobStore {
  /** the directory, or oci://HOST/REPO */
  readonly where: string;
  /** tidies what an interrupted run left; returns what was removed */
  tidy(): Promise<string[]>;
  /** the complete checkpoints, newest first */
  list(): Promise<StoredCheckpoint[]>;
  /** dumps the tree of `pid` as a new checkpoint (complete or not at all), keeping the newest `keep` */
  save(pid: number, file: JobFile, opts: DumpOptions, keep: number): Promise<SavedCheckpoint>;
  /** what restore() reads for `c`, and its job file (undefined when missing) */
  open(c: StoredCheckpoint): Promise<{ input: CheckpointInput; jobFile: JobFile | undefined }>;
  /** takes a damaged checkpoint out of the rotation; says where it went, undefined when it could not */
  setAside(c: StoredCheckpoint): Promise<string | undefined>;
  /** removes every checkpoint of the job; returns their paths or references */
  removeAll(): Promise<string[]>;
  /** how a user starts the job afresh by hand */
  readonly resetHint: string;
}
