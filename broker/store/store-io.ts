/**
 * The few file-system calls the store's data files go through. Everything on the append and read
 * paths is positional and asynchronous (libuv's thread pool does the syscall, the event loop never
 * blocks). It is an interface so tests can inject failures (ENOSPC, EIO) deterministically and
 * fake the disk usage that drives the disk-full guard.
 */
import * as fs from 'node:fs';

export interface DiskUsage {
  /** Bytes of the partition. */
  total: number;
  /** Bytes not allocated (`f_bfree`, what Java's `File.getFreeSpace` reports). */
  free: number;
}

export interface StoreIO {
  /** Opens (creating when `create`) a file read-write; returns its descriptor. */
  open(path: string, create: boolean): Promise<number>;
  close(fd: number): Promise<void>;
  /** Reads up to `length` bytes at file position `position`; returns the count read. */
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes `length` bytes at `position`; may write fewer (the caller loops). */
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /** Size of an open file. */
  size(fd: number): Promise<number>;
  /** Disk usage of the partition holding `path`. */
  diskUsage(path: string): Promise<DiskUsage>;
}

const OPEN_EXISTING = fs.constants.O_RDWR;
const OPEN_CREATE = fs.constants.O_RDWR | fs.constants.O_CREAT;

/** The real thing: `node:fs` callbacks (measurably cheaper per call than `FileHandle`). */
export const nodeStoreIO: StoreIO = {
  open: (path, create) =>
    new Promise((resolve, reject) =>
      fs.open(path, create ? OPEN_CREATE : OPEN_EXISTING, 0o644, (err, fd) =>
        err ? reject(err) : resolve(fd),
      ),
    ),
  close: (fd) =>
    new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve()))),
  read: (fd, buf, offset, length, position) =>
    new Promise((resolve, reject) =>
      fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
    ),
  write: (fd, buf, offset, length, position) =>
    new Promise((resolve, reject) =>
      fs.write(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
    ),
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  ftruncate: (fd, length) =>
    new Promise((resolve, reject) =>
      fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve())),
    ),
  size: (fd) =>
    new Promise((resolve, reject) =>
      fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))),
    ),
  diskUsage: async (path) => {
    const st = await fs.promises.statfs(path);
    return { total: st.blocks * st.bsize, free: st.bfree * st.bsize };
  },
};

/** Reads exactly `length` bytes unless the file ends first; returns the count read. */
export async function readFully(
  io: StoreIO,
  fd: number,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await io.read(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buf[offset, offset+length)` at `position`, looping over short writes. */
export async function writeFully(
  io: StoreIO,
  fd: number,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    done += await io.write(fd, buf, offset + done, length - done, position + done);
  }
}

/** The errno code of an I/O error (`ENOSPC`, `EIO`, …), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** ENOSPC or EDQUOT: the write failed for lack of space, not because the disk is broken. */
export function isNoSpaceError(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT';
}
