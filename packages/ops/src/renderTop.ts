import type { DiagnosticsSnapshot } from './diagnosticsSnapshot.js';
import {
  fit,
  formatCount,
  formatMiB,
  formatMs,
  formatPercent,
  sanitize,
  truncate,
} from './format.js';
import { byLateness, type DiagnosticsRow, snapshotRows } from './snapshotRows.js';

/** Options of {@link renderTop}. */
export interface RenderTopOptions {
  /** Terminal width in characters; no line is longer. @defaultValue 100 */
  width?: number;
  /**
   * Most lines to print; rows beyond are summarised in a last
   * `… N more` line. @defaultValue unlimited
   */
  height?: number;
  /** Colour failing rows red, stale rows yellow and the header inverse (ANSI SGR). @defaultValue false */
  color?: boolean;
  /** Where the snapshot came from, shown in the title line (a URL). @defaultValue none */
  source?: string;
  /** A hint appended to the summary line, e.g. `q quits`. @defaultValue none */
  hint?: string;
}

interface Column {
  readonly title: string;
  readonly width: number;
  readonly align: 'left' | 'right';
  /** Which end of a long value is cut: keys are paths, told apart by their tail. */
  readonly cut?: 'end' | 'start';
  readonly cell: (r: DiagnosticsRow, takenAt: number) => string;
}

const SGR = { reset: '\x1b[0m', red: '\x1b[31m', yellow: '\x1b[33m', header: '\x1b[1;7m' };

function lastErrorText(r: DiagnosticsRow, takenAt: number): string {
  const e = r.lastError;
  if (e === null) return '';
  return `${e.name}: ${e.message} (${formatMs(takenAt - e.at)} ago)`;
}

const num = (title: string, width: number, cell: Column['cell']): Column => ({
  title,
  width,
  align: 'right',
  cell,
});

/** The numeric columns: fixed widths that fit every value their formatter makes. */
const FIXED: readonly Column[] = [
  { title: 'STATE', width: 8, align: 'left', cell: (r) => r.state },
  num('PERIOD', 6, (r) => formatMs(r.periodMs)),
  num('AGE', 6, (r) => formatMs(r.ageMs)),
  num('LATE', 6, (r) => formatMs(r.latenessMs)),
  num('P99', 6, (r) => formatMs(r.latenessP99Ms)),
  num('USAGE', 5, (r) => formatPercent(r.usage)),
  num('RUNS', 6, (r) => formatCount(r.count, 6)),
  num('ERR', 5, (r) => formatCount(r.errors, 5)),
];

const MIN_ERROR_WIDTH = 12;
const MIN_NAME_WIDTH = 6;
/** On a narrow terminal numeric columns go in this order; LATE (the sort key) and ERR stay. */
const DROP_ORDER = ['P99', 'RUNS', 'USAGE', 'PERIOD', 'STATE', 'AGE'];

/**
 * The columns for `width`: component and key take what their longest value
 * needs (within caps), the last error takes the rest. When space runs short
 * the last error goes first, then key and component shrink, then the less
 * telling numeric columns go.
 */
function layout(rows: readonly DiagnosticsRow[], width: number): Column[] {
  const longest = (pick: (r: DiagnosticsRow) => string, title: string) =>
    rows.reduce((m, r) => Math.max(m, sanitize(pick(r)).length), title.length);
  let numeric = FIXED;
  const widthOf = (cols: readonly Column[]) => cols.reduce((s, c) => s + c.width + 1, 0);
  for (const title of DROP_ORDER) {
    if (widthOf(numeric) + 2 * MIN_NAME_WIDTH + 1 <= width) break;
    numeric = numeric.filter((c) => c.title !== title);
  }
  const fixed = widthOf(numeric);
  const avail = width - fixed;
  let component = Math.min(
    longest((r) => r.component, 'COMPONENT'),
    24,
  );
  let key = Math.min(
    longest((r) => r.key, 'KEY'),
    40,
  );
  let error = avail - component - key - 2;
  if (error < MIN_ERROR_WIDTH) {
    error = 0;
    let over = component + key + 1 - avail;
    const cut = Math.min(Math.max(0, over), Math.max(0, key - MIN_NAME_WIDTH));
    key -= cut;
    over -= cut;
    if (over > 0) component = Math.max(MIN_NAME_WIDTH, component - over);
  }
  const columns: Column[] = [
    { title: 'COMPONENT', width: component, align: 'left', cell: (r) => r.component },
    { title: 'KEY', width: key, align: 'left', cut: 'start', cell: (r) => r.key },
    ...numeric,
  ];
  if (error > 0)
    columns.push({ title: 'LAST ERROR', width: error, align: 'left', cell: lastErrorText });
  return columns;
}

/** One table line; cut to `width` in case even the narrowest layout does not fit. */
function line(columns: readonly Column[], cells: readonly string[], width: number): string {
  const text = columns
    .map((c, i) => fit(sanitize(cells[i] ?? ''), c.width, c.align, c.cut))
    .join(' ');
  return truncate(text.trimEnd(), width);
}

/**
 * The `tickwork top` table for one snapshot, as text: a title line, a
 * summary line, then one row per schedulable thing (ThreadDict key, worker
 * target, cron job, item-less component) sorted latest first (see
 * {@link byLateness}). Pure: the same snapshot and options give the same text.
 *
 * @example
 * ```ts
 * process.stdout.write(renderTop(snapshot(), { width: process.stdout.columns }));
 * ```
 */
export function renderTop(doc: DiagnosticsSnapshot, options: RenderTopOptions = {}): string {
  const width = Math.max(20, Math.floor(options.width ?? 100));
  const color = options.color === true;
  const rows = snapshotRows(doc).sort(byLateness);
  const failing = rows.filter((r) => r.failing).length;
  const stale = rows.filter((r) => r.stale).length;
  const columns = layout(rows, width);

  // The source goes last: a long URL is what truncation should eat first.
  const title = [
    'tickwork top',
    new Date(doc.takenAt).toISOString(),
    `pid ${doc.process.pid}`,
    `rss ${formatMiB(doc.process.memory.rss)}`,
    ...(options.source === undefined ? [] : [options.source]),
  ].join(' · ');
  const summary = [
    `${doc.components.length} components`,
    `${rows.length} scheduled`,
    `${failing} failing`,
    `${stale} stale`,
    ...(options.hint === undefined ? [] : [options.hint]),
  ].join(' · ');
  const header = line(
    columns,
    columns.map((c) => c.title),
    width,
  );
  const out = [
    truncate(sanitize(title), width),
    truncate(summary, width),
    '',
    color ? paint(header.padEnd(width), SGR.header, color) : header,
  ];

  let shown = rows;
  let more = 0;
  if (options.height !== undefined) {
    const room = Math.max(1, Math.floor(options.height) - out.length);
    if (rows.length > room) {
      shown = rows.slice(0, room - 1);
      more = rows.length - shown.length;
    }
  }
  for (const r of shown) {
    const text = line(
      columns,
      columns.map((c) => c.cell(r, doc.takenAt)),
      width,
    );
    out.push(paint(text, r.failing ? SGR.red : r.stale ? SGR.yellow : '', color));
  }
  if (rows.length === 0) out.push('(nothing scheduled)');
  if (more > 0) out.push(`… ${more} more`);
  return out.join('\n');
}

function paint(text: string, sgr: string, color: boolean): string {
  return color && sgr !== '' ? `${sgr}${text}${SGR.reset}` : text;
}
