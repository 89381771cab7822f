// Undoing what a failed operation made, and closing each thing once: create
// and the console it opens use these so the success path and the cleanup
// never both close one fd.
import { messageOf } from '../errors';
import { tracer } from '../log';

const trace = tracer('cleanup');

/** Undo actions, run newest first; one failing does not stop the others. */
export class Cleanup {
  private readonly actions: Array<() => void> = [];
  add(action: () => void): void {
    this.actions.push(action);
  }
  run(): void {
    for (const action of this.actions.reverse()) {
      try {
        action();
      } catch (error) {
        trace('%s', messageOf(error));
      }
    }
  }
}

/** Wraps a close so the success path and the cleanup cannot both run it. */
export function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (!done) action();
    done = true;
  };
}

