// The types every part of the codec shares (apart, so that framing, payloads and the decoders import
// them without importing each other).
import type { Entry } from './wire.js';

/** A decoded image. See index.ts for the conventions of `entries`. */
export interface Image {
  /** crit's magic name, e.g. 'CORE', 'PAGEMAP', 'STATS'; 'RAW' for headerless images */
  magic: string;
  entries: Entry[];
  /**
   * The secondary magic found before the type magic (IMG_COMMON 0x54564319, IMG_SERVICE 0x55105940) or
   * null when there was none (inventory). The writer re-emits it; when absent, crit's rule applies.
   */
  secondaryMagic?: number | null;
  /** RAW images only: the whole file */
  raw?: Buffer;
}

export interface DecodeOptions {
  /** largest protobuf entry accepted, in bytes (default 64 MiB) */
  maxEntrySize?: number;
  /** largest raw payload accepted after an entry, in bytes (default 1 GiB) */
  maxPayloadSize?: number;
  /** file name used in error messages and to recognise raw images (pages-*.img, ...) */
  name?: string;
  /** treat the input as a raw image without looking at it */
  raw?: boolean;
  /**
   * Lean entries, for readers: 64-bit integers as numbers when they are safe integers (|v| < 2^53;
   * bigint beyond, exact), unknown fields dropped rather than kept. Not for re-encoding byte-exact.
   */
  lean?: boolean;
  /**
   * With `lean`: keep only these fields, nested ones by dotted path (`['vmas.start', 'exe_file_id']`);
   * a bare message name keeps it whole. Others are skipped unread (required ones must still be there);
   * raw payloads (`extra`) are kept. Names unknown to the image's entry types are a USAGE error.
   */
  fields?: readonly string[];
}

/** What the framing parser asks its driver for: n bytes (fewer only at end of input), all the rest, or it hands out the head or an entry. */
export type Request = { t: 'read'; n: number } | { t: 'rest' } | { t: 'entry'; entry: Entry } | { t: 'head'; magic: string; secondary: number | null };
