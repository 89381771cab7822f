// Basic auth against an htpasswd file of bcrypt hashes (`htpasswd -B`), as
// docker-registry takes it. bcrypt is slow on purpose, so a credential that
// checked out is remembered (by its SHA-256, never in clear) while the server
// runs: a push makes hundreds of requests with the same header.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import bcrypt from 'bcryptjs';
import { OcitsError, errnoText } from '../errors';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export class Htpasswd {
  private readonly users = new Map<string, string>();
  private readonly verified = new Map<string, string>();

  constructor(readonly file: string) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new OcitsError(`cannot read the htpasswd file ${file}: ${errnoText(error)}`);
    }
    text.split('\n').forEach((line, index) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const colon = trimmed.indexOf(':');
      const user = trimmed.slice(0, colon);
      const hash = trimmed.slice(colon + 1);
      if (colon <= 0 || !BCRYPT.test(hash)) {
        throw new OcitsError(`${file}:${index + 1}: not "user:bcrypt-hash" (make entries with htpasswd -B)`);
      }
      this.users.set(user, hash);
    });
    if (this.users.size === 0) throw new OcitsError(`the htpasswd file ${file} has no users`);
  }

  /** The user an Authorization header proves, or undefined. */
  async authenticate(authorization: string | undefined): Promise<string | undefined> {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (match === null) return undefined;
    const key = crypto.createHash('sha256').update(match[1]).digest('hex');
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    const user = decoded.slice(0, colon);
    const hash = this.users.get(user);
    if (hash === undefined || !(await bcrypt.compare(decoded.slice(colon + 1), hash))) return undefined;
    this.verified.set(key, user);
    return user;
  }
}
