// `ocits --version`, in runc's layout: go-runc parses the first line as
// "<name> version <x>", then reads "commit:" and "spec:".
import buildInfo from '../../generated/build-info.json';
import { addon } from '../addon';
import { writeStdout } from '../output';
import { OCI_VERSION } from '../spec/version';

export function printVersion(): void {
  writeStdout(
    `ocits version ${buildInfo.version}\n` +
      `commit: ${buildInfo.commit}\n` +
      `spec: ${OCI_VERSION}\n` +
      `libseccomp: ${addon().seccompVersion()}\n`,
  );
}
