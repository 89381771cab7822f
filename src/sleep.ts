// Our commands are synchronous by design (one operation per process, nothing
// else to run meanwhile), so waiting is a plain block of the thread.
const parked = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  Atomics.wait(parked, 0, 0, ms);
}
