import { decodeProperties, encodeProperties, MessageConst } from '../../common/message/properties';
import { decodeRecord, encodeRecord, type MessageRecord } from '../../common/message/record';
import { MessageSysFlag, transactionType } from '../../common/message/sysflag';
import {
  checkedCopy,
  checkTimes,
  opMessage,
  opOffsets,
  REMOVE_TAG,
  toCommittedMessage,
  toHalfMessage,
} from '../../broker/transaction/half-message';
import type { MessageToStore } from '../../broker/store/message-types';

const host = { ip: '127.0.0.1', port: 10911 };
const prepared: MessageToStore = {
  topic: 'Orders',
  queueId: 3,
  flag: 0,
  sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE | MessageSysFlag.COMPRESSED,
  bornTimestamp: 1_700_000_000_000,
  bornHost: host,
  storeHost: host,
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  body: Buffer.from('order-1'),
  properties: encodeProperties({
    [MessageConst.TRAN_MSG]: 'true',
    [MessageConst.PGROUP]: 'pg',
    [MessageConst.UNIQ_KEY]: 'UNIQ1',
    [MessageConst.TAGS]: 'TagA',
  }),
};

/** The half message as the store would hand it back, at a queue and CommitLog offset. */
function stored(msg: MessageToStore, queueOffset: number, physicalOffset: number): MessageRecord {
  return decodeRecord(
    encodeRecord({ ...msg, queueOffset, physicalOffset, storeTimestamp: msg.bornTimestamp + 5 }),
  );
}

test('a prepared message is parked in the half topic with its real topic, queue and transaction id', () => {
  const half = toHalfMessage(prepared);
  expect(half.topic).toBe('RMQ_SYS_TRANS_HALF_TOPIC');
  expect(half.queueId).toBe(0);
  expect(transactionType(half.sysFlag)).toBe(MessageSysFlag.TRANSACTION_NOT_TYPE);
  expect(half.sysFlag & MessageSysFlag.COMPRESSED).toBe(MessageSysFlag.COMPRESSED);
  const props = decodeProperties(half.properties);
  expect(props.get(MessageConst.REAL_TOPIC)).toBe('Orders');
  expect(props.get(MessageConst.REAL_QID)).toBe('3');
  expect(props.get(MessageConst.TRANSACTION_ID)).toBe('UNIQ1');
});

test('a committed half message goes back to its real queue, without TRAN_MSG, as COMMIT', () => {
  const half = stored(toHalfMessage(prepared), 7, 4096);
  const real = toCommittedMessage(half)!;
  expect(real).toMatchObject({ topic: 'Orders', queueId: 3, preparedTransactionOffset: 4096 });
  expect(transactionType(real.sysFlag)).toBe(MessageSysFlag.TRANSACTION_COMMIT_TYPE);
  const props = decodeProperties(real.properties);
  expect(props.has(MessageConst.TRAN_MSG)).toBe(false);
  expect(props.get(MessageConst.TAGS)).toBe('TagA');
  expect(real.body.toString()).toBe('order-1');
});

test('a half message without REAL_TOPIC cannot be committed', () => {
  const half = stored({ ...prepared, topic: 'RMQ_SYS_TRANS_HALF_TOPIC', queueId: 0 }, 0, 0);
  expect(toCommittedMessage(half)).toBeUndefined();
});

test('each checked copy carries one more TRANSACTION_CHECK_TIMES', () => {
  let half = stored(toHalfMessage(prepared), 0, 0);
  expect(checkTimes(half)).toBe(0);
  for (let n = 1; n <= 3; n++) {
    half = stored(checkedCopy(half), n, n * 100);
    expect(checkTimes(half)).toBe(n);
  }
  expect(half.topic).toBe('RMQ_SYS_TRANS_HALF_TOPIC');
  expect(half.properties.get(MessageConst.REAL_TOPIC)).toBe('Orders');
});

test('op messages: tag d, the half offset as text; 5.x batches and other tags are read too', () => {
  const op = opMessage(42, prepared);
  expect(op.topic).toBe('RMQ_SYS_TRANS_OP_HALF_TOPIC');
  expect(decodeProperties(op.properties).get(MessageConst.TAGS)).toBe(REMOVE_TAG);
  expect(op.body.toString()).toBe('42');
  expect(opOffsets(stored(op, 0, 0))).toEqual([42]);
  const batch = { ...op, body: Buffer.from('1,2,x,3,') };
  expect(opOffsets(stored(batch, 1, 10))).toEqual([1, 2, 3]);
  const other = { ...op, properties: encodeProperties({ [MessageConst.TAGS]: 'x' }) };
  expect(opOffsets(stored(other, 2, 20))).toEqual([]);
});
