// Text from a checkpoint is the dumped program's: in HTML it is escaped, control characters made visible.
import { escapeText } from '../escape.js';

const ENT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML element or a quoted attribute. */
export function h(s: string | number | undefined): string {
  return escapeText(String(s ?? '')).replace(/[&<>"']/g, (c) => ENT[c]!);
}
