/** The message codec: records, properties, ids, hashes, batch bodies. */
export * from './batch';
export * from './crc32';
export * from './errors';
export * from './host';
export * from './int64';
export * from './java-hash';
export * from './message-id';
export * from './properties';
export * from './record';
export * from './sysflag';
