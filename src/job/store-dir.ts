// A job's checkpoints in a directory (store.ts): each one an archive committed under a hidden
// staged name, then renamed into the rotation once the oldest are pruned.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { dump, type DumpOptions } from '../pipeline/dump.js';
import type { JobStore, SavedCheckpoint } from './job-store.js';
import {
  listStored, nextName, openStore, placeStaged, readJobFile, removeAllStored, removePartials, setAside, stagedPath, writeJobFile, type JobFile, type StoredCheckpoint,
} from './store.js';

export class DirJobStore implements JobStore {
  readonly where: string;
  readonly resetHint: string;

  constructor(dir: string) {
    this.where = openStore(dir);
    this.resetHint = `rm ${join(this.where, 'job-*.ckpt*')}`;
  }

  async tidy(): Promise<string[]> {
    return removePartials(this.where);
  }

  async list(): Promise<StoredCheckpoint[]> {
    return listStored(this.where);
  }

  async save(pid: number, file: JobFile, opts: DumpOptions, keep: number): Promise<SavedCheckpoint> {
    const dir = this.where;
    const name = nextName(dir);
    const archive = join(dir, name);
    writeJobFile(dir, name, file);
    // committed under a hidden name first, so that taking its place can keep DIR at `keep` checkpoints
    const staged = stagedPath(dir, name);
    let result;
    try {
      result = await dump(pid, { archive: staged }, opts);
    } catch (e) {
      rmSync(`${archive}.job.json`, { force: true });
      throw e;
    }
    const pruned = placeStaged(dir, staged, name, keep);
    return { result, location: archive, pruned };
  }

  async open(c: StoredCheckpoint): Promise<{ input: string; jobFile: JobFile | undefined }> {
    return { input: c.path, jobFile: readJobFile(c.path) };
  }

  async setAside(c: StoredCheckpoint): Promise<string> {
    return `set aside as ${setAside(c)}`;
  }

  async removeAll(): Promise<string[]> {
    return removeAllStored(this.where);
  }
}
