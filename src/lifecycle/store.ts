// The state store: one directory per container under --root, holding
// state.json. Every change to a container happens under its lock, and
// state.json is replaced atomically, so readers never see half a file and two
// commands on one id cannot interleave.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { ContainerExistsError, ContainerNotFoundError, OcitsError, errnoText, isErrno, quoted } from '../errors';
import { tracer } from '../log';
import type { ContainerCgroup } from '../cgroups/paths';
import type { ContainerStatus, Hook } from '../spec/types';
import { checkContainerId } from './container-id';

const trace = tracer('store');

const STATE_FILE = 'state.json';

/** What ocits remembers about a container between commands. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Absolute path of the bundle. */
  bundle: string;
  /** Host pid of the container's init process, once it exists. */
  pid?: number;
  /** Field 22 of /proc/PID/stat when created: tells our process from a reused pid. */
  pidStartTime?: number;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  /** Set while create is still building the container. */
  status?: Extract<ContainerStatus, 'creating'>;
  /** ISO 8601 creation time, for `list`. */
  created: string;
  /** User name or uid of the creator, for `list`. */
  owner: string;
  annotations?: Record<string, string>;
  /** The cgroup create made, so delete removes exactly that. */
  cgroup?: ContainerCgroup;
  /** Hooks that run after create, kept as they were at create (the spec: later config edits must not matter). */
  hooks?: { poststart?: Hook[]; poststop?: Hook[] };
}

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
        fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      } catch (error) {
        if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) throw new ContainerNotFoundError(id);
        throw error;
      }
      addon().flock(fd, 'exclusive', true);
      const locked = fs.fstatSync(fd);
      const current = statOrUndefined(dir);
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

  read(id: string): ContainerRecord {
    const file = path.join(this.containerDir(id), STATE_FILE);
    trace('reading %s', file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
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
    const temporary = path.join(dir, `.${STATE_FILE}.${process.pid}`);
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

  /** Removes the container's directory; the caller holds its lock. */
  remove(id: string): void {
    const dir = this.containerDir(id);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    // The directory holds only files of ours: unlink them, then the
    // directory, without the tree walk of a recursive rmSync.
    for (const name of names) {
      try {
        fs.unlinkSync(path.join(dir, name));
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
    }
    try {
      fs.rmdirSync(dir);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
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

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Removes a temporary file that may never have been made. */
function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // not made, or its directory is gone: nothing of ours is left
  }
}
