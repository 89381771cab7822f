// Download progress on stderr: on a terminal a bar per blob (bytes and
// rate), redrawn in place; otherwise a plain summary line every few seconds
// and one line per finished blob, for logs; nothing at all when quiet.
import { writeStderr } from '../output';
import type { Descriptor } from './media-types';

export type ProgressMode = 'bars' | 'lines' | 'quiet';

const REDRAW_MS = 200;
const LINE_EVERY_MS = 3000;
const BAR_WIDTH = 30;

interface Item {
  label: string;
  total: number;
  bytes: number;
  started: number;
  done: boolean;
}

export class Progress {
  private readonly items = new Map<string, Item>();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly mode: ProgressMode,
    private readonly write: (text: string) => void = writeStderr,
  ) {}

  /** Bars on a terminal, lines otherwise, nothing when quiet. */
  static forStderr(quiet: boolean): Progress {
    return new Progress(quiet ? 'quiet' : process.stderr.isTTY === true ? 'bars' : 'lines');
  }

  message(text: string): void {
    if (this.mode === 'quiet') return;
    this.clearBars();
    this.write(`${text}\n`);
    this.drawBars();
  }

  add(id: string, label: string, total: number): void {
    this.items.set(id, { label, total, bytes: 0, started: Date.now(), done: false });
    if (this.mode !== 'quiet' && this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.mode === 'bars' ? REDRAW_MS : LINE_EVERY_MS);
      this.timer.unref();
    }
  }

  update(id: string, bytes: number): void {
    const item = this.items.get(id);
    if (item !== undefined) item.bytes = bytes;
  }

  finish(id: string): void {
    const item = this.items.get(id);
    if (item === undefined || item.done) return;
    item.done = true;
    item.bytes = item.total;
    if (this.mode === 'lines') this.write(`${item.label}: done (${formatBytes(item.total)})\n`);
    if (this.mode === 'bars') this.redraw();
  }

  /** Stops redrawing; the bars stay as they were last drawn. */
  stop(): void {
    if (this.timer === undefined) return;
    if (this.mode === 'bars') this.redraw();
    clearInterval(this.timer);
    this.timer = undefined;
    this.drawnLines = 0;
  }

  private tick(): void {
    if (this.mode === 'bars') {
      this.redraw();
      return;
    }
    const active = [...this.items.values()].filter((item) => !item.done);
    if (active.length === 0) return;
    const bytes = active.reduce((sum, item) => sum + item.bytes, 0);
    const total = active.reduce((sum, item) => sum + item.total, 0);
    this.write(`copying ${active.length} blob(s): ${formatBytes(bytes)} / ${formatBytes(total)}\n`);
  }

  private redraw(): void {
    this.clearBars();
    this.drawBars();
  }

  private clearBars(): void {
    if (this.mode !== 'bars' || this.drawnLines === 0) return;
    // Up to the first bar, then clear to the end of the screen.
    this.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.drawnLines = 0;
  }

  private drawBars(): void {
    if (this.mode !== 'bars' || this.timer === undefined) return;
    const lines = [...this.items.values()].map((item) => barLine(item));
    if (lines.length === 0) return;
    this.write(lines.join('\n') + '\n');
    this.drawnLines = lines.length;
  }
}

function barLine(item: Item): string {
  const fraction = item.total > 0 ? Math.min(1, item.bytes / item.total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const seconds = Math.max((Date.now() - item.started) / 1000, 0.001);
  const rate = item.done ? 'done' : `${formatBytes(item.bytes / seconds)}/s`;
  return `${item.label} [${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${formatBytes(item.bytes)} / ${formatBytes(item.total)} ${rate}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  for (; value >= 1024 && unit < units.length - 1; unit++) value /= 1024;
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Runs transfer (a download or an upload) for each blob, at most jobs at
 * once, each with its progress item; the first failure ends it once the
 * transfers already running settle.
 */
export async function transferBlobs(
  blobs: readonly Descriptor[],
  jobs: number,
  progress: Progress,
  transfer: (blob: Descriptor, onBytes: (bytes: number) => void) => Promise<void>,
): Promise<void> {
  const queue = [...blobs];
  let failure: unknown;
  const worker = async (): Promise<void> => {
    for (let blob = queue.shift(); blob !== undefined && failure === undefined; blob = queue.shift()) {
      const id = blob.digest;
      progress.add(id, `blob ${blob.digest.slice(0, 19)}`, blob.size);
      try {
        await transfer(blob, (bytes) => progress.update(id, bytes));
        progress.finish(id);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, blobs.length) }, worker));
  } finally {
    progress.stop();
  }
  if (failure !== undefined) throw failure;
}
