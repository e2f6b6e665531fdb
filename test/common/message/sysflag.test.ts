import {
  MessageSysFlag,
  resetTransactionType,
  transactionType,
} from '../../../common/message/sysflag';

describe('MessageSysFlag', () => {
  it('has the RocketMQ bit values', () => {
    expect(MessageSysFlag).toMatchObject({
      COMPRESSED: 0x1,
      MULTI_TAGS: 0x2,
      TRANSACTION_NOT_TYPE: 0,
      TRANSACTION_PREPARED_TYPE: 0x4,
      TRANSACTION_COMMIT_TYPE: 0x8,
      TRANSACTION_ROLLBACK_TYPE: 0xc,
      BORNHOST_V6: 0x10,
      STOREHOST_V6: 0x20,
      NEED_UNWRAP: 0x40,
      INNER_BATCH: 0x80,
      COMPRESSION_TYPE_MASK: 0x700,
    });
  });

  it('reads and replaces the transaction type, keeping the other bits', () => {
    const javaCompressedPrepared = 0x301 | MessageSysFlag.TRANSACTION_PREPARED_TYPE;
    expect(transactionType(javaCompressedPrepared)).toBe(MessageSysFlag.TRANSACTION_PREPARED_TYPE);
    expect(transactionType(0x301)).toBe(MessageSysFlag.TRANSACTION_NOT_TYPE);
    const committed = resetTransactionType(
      javaCompressedPrepared,
      MessageSysFlag.TRANSACTION_COMMIT_TYPE,
    );
    expect(committed).toBe(0x309);
    expect(resetTransactionType(committed, MessageSysFlag.TRANSACTION_NOT_TYPE)).toBe(0x301);
    expect(resetTransactionType(0x2 | 0xc, MessageSysFlag.TRANSACTION_PREPARED_TYPE)).toBe(0x6);
  });
});
