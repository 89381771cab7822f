// `list`: the state of every container under --root, and the three layouts
// runc prints it in (a table, JSON, ids only), byte for byte, since scripts
// and engines parse them. One container whose state cannot be read never
// hides the others: one deleted while we read is left out, one with corrupt
// state is left out with a warning, as runc does.
import { ContainerNotFoundError, OcitsError, messageOf, quoted } from '../errors';
import { logWarning } from '../log';
import { containerState, type ContainerStateReport } from './state';
import type { StateStore } from './store';

export type ListFormat = 'table' | 'json';

const LIST_FORMATS: readonly string[] = ['table', 'json'];

export function isListFormat(text: string): text is ListFormat {
  return LIST_FORMATS.includes(text);
}

/** The states of all containers, sorted by id. */
export function listContainers(store: StateStore): ContainerStateReport[] {
  let ids: string[];
  try {
    ids = store.ids();
  } catch (error) {
    throw new OcitsError(`cannot list containers in ${quoted(store.root)}: ${messageOf(error)}`);
  }
  const states: ContainerStateReport[] = [];
  for (const id of ids) {
    try {
      states.push(containerState(store, id));
    } catch (error) {
      // Deleted since we read the directory, or claimed by a create that has
      // not written its state yet.
      if (error instanceof ContainerNotFoundError) continue;
      logWarning(`skipping container ${id}: ${messageOf(error)}`);
    }
  }
  return states;
}

/** `list --quiet`: one id a line. */
export function formatIds(states: readonly ContainerStateReport[]): string {
  return states.map((state) => `${state.id}\n`).join('');
}

const TABLE_HEADER = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'];

export function formatTable(states: readonly ContainerStateReport[]): string {
  const rows = states.map((state) => [
    state.id,
    String(state.pid),
    state.status,
    state.bundle,
    rfc3339Nano(state.created),
    state.owner,
  ]);
  return alignColumns([TABLE_HEADER, ...rows]);
}

// runc's tabwriter settings: minwidth 12, padding 3, padded with spaces.
const MIN_COLUMN_WIDTH = 12;
const COLUMN_PADDING = 3;

/**
 * Go's text/tabwriter as runc configures it: every cell but a row's last is
 * padded with spaces to the width of its column's widest cell plus 3, and to
 * at least 12. Go counts runes, so we count code points.
 */
function alignColumns(rows: readonly string[][]): string {
  const width = (cell: string) => [...cell].length;
  const columns = rows[0].length - 1;
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(MIN_COLUMN_WIDTH, ...rows.map((row) => width(row[column]) + COLUMN_PADDING)),
  );
  return rows
    .map((row) => row.map((cell, column) => (column < columns ? cell + ' '.repeat(widths[column] - width(cell)) : cell)))
    .map((cells) => cells.join('') + '\n')
    .join('');
}

/**
 * `list --format json`: runc's container list, keys in its order (annotations,
 * when there are any, before owner) and no containers printed as `null`, the
 * way Go encodes an empty slice.
 */
export function formatJson(states: readonly ContainerStateReport[]): string {
  if (states.length === 0) return 'null\n';
  const entries = states.map((state) => ({
    ociVersion: state.ociVersion,
    id: state.id,
    pid: state.pid,
    status: state.status,
    bundle: state.bundle,
    rootfs: state.rootfs,
    created: rfc3339Nano(state.created),
    ...(state.annotations !== undefined && Object.keys(state.annotations).length > 0
      ? { annotations: sortedByKey(state.annotations) }
      : {}),
    owner: state.owner,
  }));
  return goJson(entries) + '\n';
}

/** Go writes a map's keys sorted. */
function sortedByKey(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** JSON as Go's encoder writes it: <, >, & and the JavaScript line separators escaped. */
function goJson(value: unknown): string {
  // Outside strings JSON holds none of these characters, so this only touches string contents.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A stored ISO 8601 time the way Go's time.RFC3339Nano prints it: the zone
 * it was stored in, at most nine fraction digits with trailing zeros dropped
 * ("2026-01-01T10:00:00.1Z", "2026-01-01T10:00:00Z"), and a zero offset as Z.
 * runc keeps its times in UTC, so its list shows UTC whatever $TZ says.
 */
export function rfc3339Nano(iso: string): string {
  const match = ISO_TIME.exec(iso);
  if (match === null) return iso; // not a time we wrote: show it as stored
  const [, seconds, fraction = '', zone] = match;
  const digits = fraction.slice(0, 9).replace(/0+$/, '');
  const offset = zone === '+00:00' || zone === '-00:00' ? 'Z' : zone;
  return `${seconds}${digits === '' ? '' : `.${digits}`}${offset}`;
}
