// Errors that reach the user as one line. Anything else that escapes is a bug
// in ocits and is reported as such, still on one line.
import { getSystemErrorMap } from 'node:util';

export class OcitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OcitsError';
  }
}

/** Engines match the substring "does not exist" (containerd's go-runc, podman). */
export class ContainerNotFoundError extends OcitsError {
  constructor(readonly id: string) {
    super(`container ${id} does not exist`);
    this.name = 'ContainerNotFoundError';
  }
}

/** Engines match "already exists" to tell a name clash from other failures. */
export class ContainerExistsError extends OcitsError {
  constructor(readonly id: string) {
    super(`container ${id} already exists`);
    this.name = 'ContainerExistsError';
  }
}

/** The message of any thrown value, for a one-line report. */
export function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}

/** True when error is a Node system error with this errno code (ENOENT ...). */
export function isErrno(error: unknown, code: string): boolean {
  // Duck-typed: errors from another realm (jest's VM contexts) fail instanceof.
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
}

/** "no space left on device (ENOSPC)" from Node's "ENOSPC: no space left on device, write". */
export function errnoText(error: unknown): string {
  const code = errnoCode(error);
  const message = messageOf(error);
  const match = /^[A-Z0-9]+: (.*?)(?:, \w+(?: '.*')?)?$/s.exec(message);
  if (code === undefined || match === null) return message;
  return `${match[1]} (${code})`;
}

/**
 * strerror's text for an errno number or code name ("no such file or
 * directory" for 2 or "ENOENT"), from the table Node itself uses.
 */
export function systemErrorText(errno: number | string): string | undefined {
  const table = getSystemErrorMap();
  if (typeof errno === 'number') return table.get(-errno)?.[1];
  for (const [name, text] of table.values()) if (name === errno) return text;
  return undefined;
}

/**
 * A path (or any name from a user) for a message: as it is when it holds
 * only plain characters, JSON-quoted otherwise, so a newline or a space in
 * it can neither break the message's one line nor hide where it ends.
 */
export function quoted(name: string): string {
  return /^[\w./+,:=@%-]+$/.test(name) ? name : JSON.stringify(name);
}

/** Control characters escaped as in JSON, so a message stays one line whatever it quotes. */
export function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (char) => JSON.stringify(char).slice(1, -1));
}
