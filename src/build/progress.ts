// Build progress in the shape of BuildKit's plain output, on stderr:
//
//   #3 [builder 2/4] RUN make
//   #3 0.412 cc -o app main.c
//   #3 DONE 1.2s
//   #4 [stage-1 1/2] COPY --from=builder /app /app
//   #4 CACHED
//
// quiet prints nothing but what a failing step wrote. auto is plain:
// ocits has no interactive display.
import { writeStderr } from '../output';

export type ProgressStyle = 'auto' | 'plain' | 'quiet';

export class BuildProgress {
  private next = 1;

  constructor(
    private readonly style: ProgressStyle,
    private readonly write: (text: string) => void = writeStderr,
  ) {}

  get quiet(): boolean {
    return this.style === 'quiet';
  }

  /** A line of its own (a pull, a warning). */
  message(text: string): void {
    if (!this.quiet) this.write(`${text}\n`);
  }

  /** A step begins: its number, stage and instruction. */
  step(label: string, instruction: string): BuildStep {
    const step = new BuildStep(this.next++, this.quiet ? () => undefined : this.write);
    step.line(`[${label}] ${instruction}`);
    return step;
  }
}

export class BuildStep {
  private readonly started = process.hrtime.bigint();
  /** Output not yet ended by a newline. */
  private partial = '';

  constructor(
    readonly number: number,
    private readonly write: (text: string) => void,
  ) {}

  line(text: string): void {
    this.write(`#${this.number} ${text}\n`);
  }

  /** What the step's process writes, each line prefixed with the step and the seconds since it began. */
  output(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(`${this.elapsed().toFixed(3)} ${line}`);
  }

  cached(): void {
    this.line('CACHED');
  }

  done(): void {
    this.flush();
    this.line(`DONE ${this.elapsed().toFixed(1)}s`);
  }

  failed(message: string): void {
    this.flush();
    this.line(`ERROR: ${message}`);
  }

  private flush(): void {
    if (this.partial !== '') this.line(`${this.elapsed().toFixed(3)} ${this.partial}`);
    this.partial = '';
  }

  private elapsed(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }
}
