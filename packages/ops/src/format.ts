/** A duration in ms, compact for a terminal column: `0.50ms`, `12ms`, `1.5s`, `2m05s`, `3.2h`. @internal */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  const a = Math.abs(ms);
  if (a < 10) return `${ms.toFixed(2)}ms`;
  if (a < 1000) return `${Math.round(ms)}ms`;
  if (a < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (a < 3_600_000) {
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

/** A ratio as a whole percentage, `37%`. @internal */
export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : '-';
}

/** A count that fits `width` characters: `12345`, then `123k`, `12.3M`. @internal */
export function formatCount(n: number, width: number): string {
  const plain = String(n);
  if (plain.length <= width) return plain;
  if (n < 1e6) return `${Math.round(n / 1e3)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** Bytes as MiB with one decimal. @internal */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

/** `text` cut to `width` characters, the cut marked with `…`. @internal */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/** `text` cut to its last `width` characters, the cut marked with `…` (for paths: the tail tells them apart). @internal */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `…${text.slice(text.length - width + 1)}`;
}

/** `text` truncated (at its end, or its start) or padded to exactly `width`, left- or right-aligned. @internal */
export function fit(
  text: string,
  width: number,
  align: 'left' | 'right' = 'left',
  cut: 'end' | 'start' = 'end',
): string {
  const t = cut === 'end' ? truncate(text, width) : truncateStart(text, width);
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

/**
 * `text` safe to print: key names and error messages come from the watched
 * program, and a control character in them (an ANSI escape) would otherwise
 * act on the operator's terminal. Whitespace controls become spaces, others `?`.
 * @internal
 */
export function sanitize(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      out += code === 9 || code === 10 || code === 13 ? ' ' : '?';
    else out += ch;
  }
  return out;
}
