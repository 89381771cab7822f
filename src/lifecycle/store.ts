// The state store: one directory per container under --root, holding
// state.json. Every change to a container happens under its lock, and
// state.json is replaced atomically, so readers never see half a file and two
// commands on one id cannot interleave.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { ContainerExistsError, ContainerNotFoundError, OcitsError, errnoText, isErrno, quoted } from '../errors';
import { tracer } from '../log';
import type { ContainerStatus } from '../spec/types';
import { checkContainerId } from './container-id';
import { type ContainerRecord, EXEC_FIFO, type Operation, refusal, statusOf } from './state';

export type { ContainerRecord } from './state';

const trace = tracer('store');

const STATE_FILE = 'state.json';
/** write() writes here first, then renames: one per writing process. */
const TEMPORARY_STATE_PREFIX = `.${STATE_FILE}.`;

/** A held per-container lock; release it, or let process exit drop it. */
export interface ContainerLock {
  release(): void;
}

export class StateStore {
  constructor(readonly root: string) {}

  containerDir(id: string): string {
    checkContainerId(id);
    return path.join(this.root, id);
  }

  /**
   * Claims a new id: the directory is made with mkdir, which only one of
   * several racing creates can win, and returned locked.
   */
  claim(id: string): ContainerLock {
    const dir = this.containerDir(id);
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    } catch (error) {
      throw new OcitsError(`cannot make the state directory ${quoted(this.root)}: ${errnoText(error)}`);
    }
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (error) {
      if (isErrno(error, 'EEXIST')) throw new ContainerExistsError(id);
      throw new OcitsError(`cannot make the state directory ${quoted(dir)}: ${errnoText(error)}`);
    }
    return this.lock(id);
  }

  /**
   * Locks an existing container, waiting for any other holder. A container
   * deleted while we waited is reported as missing: we check that the
   * directory we locked is still the one at its path.
   */
  lock(id: string): ContainerLock {
    const dir = this.containerDir(id);
    for (;;) {
      let fd: number;
      try {
        fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
      } catch (error) {
        refuseLink(dir);
        if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) throw new ContainerNotFoundError(id);
        throw error;
      }
      addon().flock(fd, 'exclusive', true);
      const locked = fs.fstatSync(fd);
      // lstat: an entry swapped for a link meanwhile is not the one we locked.
      const current = lstatOrUndefined(dir);
      if (current === undefined) {
        fs.closeSync(fd);
        throw new ContainerNotFoundError(id);
      }
      if (current.ino === locked.ino && current.dev === locked.dev) {
        trace('locked %s', id);
        return { release: () => fs.closeSync(fd) };
      }
      fs.closeSync(fd); // replaced while we waited: lock the new one
    }
  }

  /** Runs fn holding the container's lock. */
  withLock<T>(id: string, fn: () => T): T {
    const lock = this.lock(id);
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  /**
   * Runs fn holding the container's lock, with its record and status, once
   * the state machine (state.ts) allows the operation in that status.
   */
  withContainer<T>(id: string, operation: Operation, fn: (record: ContainerRecord, status: ContainerStatus) => T): T {
    return this.withLock(id, () => {
      const { record, status } = this.readFor(id, operation);
      return fn(record, status);
    });
  }

  /**
   * Reads the container and refuses the operation as withContainer does,
   * without the lock: for readers that watch a container for long.
   */
  readFor(id: string, operation: Operation): { record: ContainerRecord; status: ContainerStatus } {
    const record = this.read(id);
    const status = statusOf(this.containerDir(id), record);
    const refused = refusal(operation, status, id);
    if (refused !== undefined) throw new OcitsError(refused);
    return { record, status };
  }

  read(id: string): ContainerRecord {
    const dir = this.containerDir(id);
    const file = path.join(dir, STATE_FILE);
    trace('reading %s', file);
    refuseLink(dir);
    let text: string;
    try {
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        text = fs.readFileSync(fd, 'utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      refuseLink(file);
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) throw new ContainerNotFoundError(id);
      throw error;
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      throw new OcitsError(`state of container ${id} is corrupt: ${quoted(file)} is not valid JSON`);
    }
  }

  /** Replaces state.json atomically: temporary file, fsync, rename, fsync dir. */
  write(record: ContainerRecord): void {
    const dir = this.containerDir(record.id);
    const temporary = path.join(dir, `${TEMPORARY_STATE_PREFIX}${process.pid}`);
    try {
      const fd = fs.openSync(temporary, 'w', 0o600);
      try {
        fs.writeFileSync(fd, JSON.stringify(record));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temporary, path.join(dir, STATE_FILE));
      fsyncDirectory(dir);
    } catch (error) {
      removeQuietly(temporary);
      throw new OcitsError(`cannot write the state of container ${record.id} to ${quoted(path.join(dir, STATE_FILE))}: ${errnoText(error)}`);
    }
  }

  /**
   * Removes the container's directory; the caller holds its lock. Only the
   * files ocits makes there are unlinked (unlink never follows a link): a
   * directory that holds anything else is left, with an error naming it.
   */
  remove(id: string): void {
    const dir = this.containerDir(id);
    refuseLink(dir);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    const foreign = names.filter((name) => !isOursInContainerDir(name));
    // state.json last: a delete killed half-way leaves a record that says
    // what is still to be removed.
    const ours = names.filter(isOursInContainerDir).sort((a, b) => Number(a === STATE_FILE) - Number(b === STATE_FILE));
    for (const name of ours) {
      try {
        fs.unlinkSync(path.join(dir, name));
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
    }
    if (foreign.length > 0) {
      throw new OcitsError(`state directory ${JSON.stringify(dir)} holds files ocits did not make (${foreign.map((name) => JSON.stringify(name)).join(', ')}); left in place`);
    }
    try {
      fs.rmdirSync(dir);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }

  /**
   * Removes what a create killed before its first state write left: the
   * directory without state.json. Under the lock, so a create still under
   * way (which holds it) is never disturbed. True when there was one.
   */
  removeAbandoned(id: string): boolean {
    const dir = this.containerDir(id);
    refuseLink(dir);
    if (lstatOrUndefined(dir) === undefined) return false;
    let lock: ContainerLock;
    try {
      lock = this.lock(id);
    } catch (error) {
      if (error instanceof ContainerNotFoundError) return false;
      throw error;
    }
    try {
      if (fs.existsSync(path.join(dir, STATE_FILE))) return false;
      this.remove(id);
      trace('removed the abandoned directory of %s', id);
      return true;
    } finally {
      lock.release();
    }
  }

  /** Ids of every container directory under the root, sorted. */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    return names.filter((name) => !name.startsWith('.')).sort();
  }
}

function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/**
 * Nothing under --root is followed: a link there was not made by ocits, and
 * following it would read, lock or delete another directory's files.
 */
function refuseLink(file: string): void {
  if (lstatOrUndefined(file)?.isSymbolicLink() === true) {
    throw new OcitsError(`${JSON.stringify(file)} is a symbolic link: ocits follows no link under its state directory`);
  }
}

/** state.json, its temporaries (.state.json.PID) and exec.fifo: all ocits puts in a container's directory. */
function isOursInContainerDir(name: string): boolean {
  return name === STATE_FILE || name === EXEC_FIFO || (name.startsWith(TEMPORARY_STATE_PREFIX) && /^\d+$/.test(name.slice(TEMPORARY_STATE_PREFIX.length)));
}

/** Removes a temporary file that may never have been made. */
function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // not made, or its directory is gone: nothing of ours is left
  }
}
