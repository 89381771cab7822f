// Writes the default config into a bundle without ever replacing a file that
// is there: the new file is linked into place, which fails if the name exists.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, isErrno, quoted } from '../errors';
import { CONFIG_FILE } from './bundle';
import { defaultConfig } from './default-config';

export function writeDefaultConfig(bundle: string, rootless: boolean): void {
  const target = path.join(bundle, CONFIG_FILE);
  const config = defaultConfig(
    rootless ? { rootless: { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } } : {},
  );
  // runc indents its config with tabs; engines and people diff the two.
  const text = JSON.stringify(config, null, '\t');
  const temporary = path.join(bundle, `.${CONFIG_FILE}.${process.pid}`);
  try {
    fs.writeFileSync(temporary, text, { mode: 0o666, flag: 'wx' });
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
      throw new OcitsError(`bundle ${quoted(bundle)}: no such directory`);
    }
    throw error;
  }
  try {
    fs.linkSync(temporary, target);
  } catch (error) {
    if (isErrno(error, 'EEXIST')) throw new OcitsError(`${quoted(target)} exists; remove it first`);
    throw error;
  } finally {
    fs.unlinkSync(temporary);
  }
}
