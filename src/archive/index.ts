// Single-file, streamable, verified checkpoints (docs/archive-format.md).
export { writeArchive, type ArchiveMeta, type ArchiveOutput, type WriteArchiveOptions, type WriteArchiveResult } from './write.js';
export { verifyArchive, extractArchive, readManifest, type ArchiveInput, type ArchiveReport, type ReadArchiveOptions } from './read.js';
export { dumpToArchive, type DumpToArchiveOptions, type DumpToArchiveResult } from './dump.js';
export { restoreFromArchive, type RestoreFromArchiveOptions, type RestoreFromArchiveResult } from './restore.js';
export { openCheckpoint, isArchiveFile, type OpenCheckpoint } from './open.js';
export { ARCHIVE_MAGIC, FORMAT_VERSION, type ArchiveManifest, type ArchiveFile, type ArchiveProcess } from './format.js';
export { zstdCompress, zstdDecompress, zstdLibVersion, type ZstdOptions } from './zstd.js';
