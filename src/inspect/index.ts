// Inspection of checkpoints: one data model per view, plain data (rendering is the CLI's job).
export { ImageDir, type Entry as InspectEntry } from './images.js';
export { openImages, type OpenedImages } from './open.js';
export { inspectCheckpoint, type CheckpointModel, type ProcessModel, type FdModel, type MappingModel, type MountModel, type Credentials, type ThreadModel, type InspectOptions } from './model.js';
export { explorePs, exploreFds, exploreMems, exploreRss, type PsRow, type FdsProcess, type MemsProcess, type RssProcess, type RssRun } from './explore.js';
export { searchMemory, readMemory, readMemoryChunks, dumpMemory, appendRange, checkpointPids as inspectPids, type MemorySearchOptions, type MemoryMatch } from './search.js';
export { diffCheckpoints, type CheckpointDiff, type ProcessDiff, type MemoryChange, type FdChange, type DiffOptions } from './diff.js';
export { readCheckpointStats } from './stats.js';
export { AddressSpace } from './address-space.js';
export { MemoryImage, PageFiles, PE_PARENT, PE_LAZY, PE_PRESENT, type Piece } from './memory.js';
export type { FileInfo, SocketInfo } from './files.js';
