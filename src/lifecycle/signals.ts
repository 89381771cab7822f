// The signal argument of `kill`, read as runc reads it: a decimal number, or
// a name with or without the SIG prefix, in any case ("kill", "SigTerm").
// runc knows no real-time names (SIGRTMIN+1 is an unknown signal to it);
// those are reached by number.
import * as os from 'node:os';
import { OcitsError } from '../errors';

/** Linux signals run from 1 to SIGRTMAX, 64; kill(2) refuses anything else. */
const MAX_SIGNAL = 64;

const NUMBER = /^[+-]?[0-9]+$/;

export function parseSignal(text: string): number {
  if (NUMBER.test(text)) {
    const signal = Number(text);
    // 0 sends nothing and only checks that the container is alive, as in runc.
    if (signal < 0 || signal > MAX_SIGNAL) {
      throw new OcitsError(`invalid signal ${JSON.stringify(text)}: signal numbers run from 0 to ${MAX_SIGNAL}`);
    }
    return signal;
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const signals: Readonly<Record<string, number>> = os.constants.signals;
  if (Object.hasOwn(signals, name)) return signals[name];
  throw new OcitsError(`unknown signal ${JSON.stringify(text)}`);
}
