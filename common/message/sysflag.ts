/** Message sysFlag bits (remoting.md §6.2, RocketMQ `MessageSysFlag`). */
export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_NOT_TYPE: 0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xc,
  /** Bits 2–3: the transaction type. */
  TRANSACTION_TYPE_MASK: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  NEED_UNWRAP: 0x40,
  INNER_BATCH: 0x80,
  /** Bits 8–10: compression algorithm of a COMPRESSED body; 0 (legacy) means zlib. */
  COMPRESSION_TYPE_MASK: 0x700,
  COMPRESSION_LZ4_TYPE: 0x100,
  COMPRESSION_ZSTD_TYPE: 0x200,
  COMPRESSION_ZLIB_TYPE: 0x300,
} as const;

/** The transaction type bits of a sysFlag: one of the TRANSACTION_*_TYPE values. */
export function transactionType(sysFlag: number): number {
  return sysFlag & MessageSysFlag.TRANSACTION_TYPE_MASK;
}

/** `sysFlag` with its transaction type replaced by `type` (a TRANSACTION_*_TYPE value). */
export function resetTransactionType(sysFlag: number, type: number): number {
  return (
    (sysFlag & ~MessageSysFlag.TRANSACTION_TYPE_MASK) |
    (type & MessageSysFlag.TRANSACTION_TYPE_MASK)
  );
}
