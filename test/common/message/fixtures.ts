/**
 * Test helpers that follow the specs independently of the code under test: a bitwise CRC-32 and
 * a record builder that writes the remoting.md §6.1 table offset by offset.
 */

/** Bit-at-a-time CRC-32 (IEEE, reflected 0xEDB88320), unmasked, unsigned. */
export function referenceCrc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

export interface FixtureFields {
  magic?: number;
  queueId: number;
  flag: number;
  queueOffset: bigint;
  physicalOffset: bigint;
  sysFlag: number;
  bornTimestamp: bigint;
  /** 4 bytes (IPv4) or 16 (IPv6, then sysFlag should carry BORNHOST_V6). */
  bornIp: number[];
  bornPort: number;
  storeTimestamp: bigint;
  storeIp: number[];
  storePort: number;
  reconsumeTimes: number;
  preparedTransactionOffset: bigint;
  body: Buffer;
  topic: string;
  properties: string;
  /** Width of TOPICLENGTH: 1 (v1) or 2 (v2). */
  topicLengthBytes?: 1 | 2;
}

/** Builds a record by hand, one field after another, exactly as the spec table lists them. */
export function buildRecord(f: FixtureFields): Buffer {
  const topic = Buffer.from(f.topic, 'utf8');
  const properties = Buffer.from(f.properties, 'utf8');
  const tlb = f.topicLengthBytes ?? 1;
  const size =
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    (f.bornIp.length + 4) +
    8 +
    (f.storeIp.length + 4) +
    4 +
    8 +
    4 +
    f.body.length +
    tlb +
    topic.length +
    2 +
    properties.length;
  const b = Buffer.alloc(size);
  let o = 0;
  b.writeInt32BE(size, o); // 1 TOTALSIZE
  o += 4;
  b.writeInt32BE(f.magic ?? 0xdaa320a7 | 0, o); // 2 MAGICCODE
  o += 4;
  b.writeUInt32BE(referenceCrc32(f.body) & 0x7fffffff, o); // 3 BODYCRC
  o += 4;
  b.writeInt32BE(f.queueId, o); // 4 QUEUEID
  o += 4;
  b.writeInt32BE(f.flag, o); // 5 FLAG
  o += 4;
  b.writeBigInt64BE(f.queueOffset, o); // 6 QUEUEOFFSET
  o += 8;
  b.writeBigInt64BE(f.physicalOffset, o); // 7 PHYSICALOFFSET
  o += 8;
  b.writeInt32BE(f.sysFlag, o); // 8 SYSFLAG
  o += 4;
  b.writeBigInt64BE(f.bornTimestamp, o); // 9 BORNTIMESTAMP
  o += 8;
  for (const byte of f.bornIp) b[o++] = byte; // 10 BORNHOST
  b.writeInt32BE(f.bornPort, o);
  o += 4;
  b.writeBigInt64BE(f.storeTimestamp, o); // 11 STORETIMESTAMP
  o += 8;
  for (const byte of f.storeIp) b[o++] = byte; // 12 STOREHOST
  b.writeInt32BE(f.storePort, o);
  o += 4;
  b.writeInt32BE(f.reconsumeTimes, o); // 13 RECONSUMETIMES
  o += 4;
  b.writeBigInt64BE(f.preparedTransactionOffset, o); // 14 PREPAREDTRANSACTIONOFFSET
  o += 8;
  b.writeInt32BE(f.body.length, o); // 15 BODYLENGTH
  o += 4;
  f.body.copy(b, o); // 16 BODY
  o += f.body.length;
  if (tlb === 1)
    b.writeInt8(topic.length, o); // 17 TOPICLENGTH
  else b.writeInt16BE(topic.length, o);
  o += tlb;
  topic.copy(b, o); // 18 TOPIC
  o += topic.length;
  b.writeInt16BE(properties.length, o); // 19 PROPERTIESLENGTH
  o += 2;
  properties.copy(b, o); // 20 PROPERTIES
  o += properties.length;
  if (o !== size) throw new Error(`fixture size mismatch ${o} != ${size}`);
  return b;
}

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBuffer(rand: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
