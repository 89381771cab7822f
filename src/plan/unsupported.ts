// Config fields ocits does not carry out yet. A container that asks for one
// is refused with a message naming the field: running it without the
// feature would pretend to isolate or limit what it does not.
import type { RuntimeConfig } from '../spec/types';

type Check = [pointer: string, present: (config: RuntimeConfig) => boolean];

const nonEmpty = (value: object | undefined): boolean => value !== undefined && Object.keys(value).length > 0;

const CHECKS: readonly Check[] = [
  ['/process/execCPUAffinity', (c) => c.process?.execCPUAffinity !== undefined],
  ['/linux/netDevices', (c) => nonEmpty(c.linux?.netDevices)],
  ['/linux/intelRdt', (c) => c.linux?.intelRdt !== undefined],
  ['/linux/memoryPolicy', (c) => c.linux?.memoryPolicy !== undefined],
];

/** One message per unsupported field the config uses. */
export function unsupportedFeatures(config: RuntimeConfig): string[] {
  const messages: string[] = [];
  for (const [pointer, present] of CHECKS) {
    if (present(config)) messages.push(`${pointer}: not supported by ocits yet`);
  }
  return messages;
}
