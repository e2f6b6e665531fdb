import { open, readFile, rename, copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old or the new
 * content: write `path.tmp`, fsync it, keep the old file as `path.bak`, rename tmp over path,
 * fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await copyFile(path, `${path}.bak`).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Reads and parses `path`, falling back to `path.bak` when the file is missing, empty or does
 * not parse. Returns undefined when neither holds anything; `onFallback` hears why.
 */
export async function readFileWithBackup<T>(
  path: string,
  parse: (text: string) => T,
  onFallback?: (reason: string) => void,
): Promise<T | undefined> {
  for (const candidate of [path, `${path}.bak`]) {
    let text: string;
    try {
      text = await readFile(candidate, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (text.trim() === '') {
      onFallback?.(`${candidate} is empty`);
      continue;
    }
    try {
      return parse(text);
    } catch (err) {
      onFallback?.(`${candidate} does not parse: ${(err as Error).message}`);
    }
  }
  return undefined;
}
