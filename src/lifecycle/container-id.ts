// Container ids become directory names under --root, so they are checked
// before any file is touched: no "..", no "/", nothing a shell would mangle.
import { OcitsError } from '../errors';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_ID_LENGTH = 1024;

export function checkContainerId(id: string): void {
  if (id.length === 0) throw new OcitsError('container id cannot be empty');
  if (id.length > MAX_ID_LENGTH) {
    throw new OcitsError(`invalid container id: longer than ${MAX_ID_LENGTH} characters`);
  }
  if (!ID_PATTERN.test(id)) {
    throw new OcitsError(
      `invalid container id ${JSON.stringify(id)}: it must match [A-Za-z0-9][A-Za-z0-9_.-]*`,
    );
  }
}
