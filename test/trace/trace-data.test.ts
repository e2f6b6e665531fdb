import {
  decodeTraceRecords,
  encodeTraceRecord,
  type PubTrace,
  type SubAfterTrace,
  type SubBeforeTrace,
  type EndTransactionTrace,
} from '../../client/trace/trace-data';

const pub: PubTrace = {
  type: 'Pub',
  timestamp: 1700000000000,
  regionId: 'DefaultRegion',
  group: 'pg',
  topic: 'T',
  msgId: 'ID1',
  tags: 'TagA',
  keys: 'k1 k2',
  storeHost: '10.0.0.1:10911',
  bodyLength: 5,
  costTime: 3,
  msgType: 0,
  offsetMsgId: 'OFF1',
  success: true,
};
const before: SubBeforeTrace = {
  type: 'SubBefore',
  timestamp: 1700000000100,
  regionId: 'DefaultRegion',
  group: 'cg',
  requestId: 'r1',
  msgId: 'ID1',
  retryTimes: 0,
  keys: '',
};
const after: SubAfterTrace = {
  type: 'SubAfter',
  requestId: 'r1',
  msgId: 'ID1',
  costTime: 7,
  success: false,
  keys: 'k1 k2',
  contextCode: 4,
  timestamp: 1700000000107,
  group: 'cg',
};

test("records are laid out as Java's TraceDataEncoder writes them", () => {
  expect(encodeTraceRecord(pub)).toBe(
    [
      'Pub',
      '1700000000000',
      'DefaultRegion',
      'pg',
      'T',
      'ID1',
      'TagA',
      'k1 k2',
      '10.0.0.1:10911',
      '5',
      '3',
      '0',
      'OFF1',
      'true',
    ].join('\u0001') + '\u0002',
  );
  expect(encodeTraceRecord(before)).toBe(
    'SubBefore\u00011700000000100\u0001DefaultRegion\u0001cg\u0001r1\u0001ID1\u00010\u0001null\u0002',
  );
  expect(encodeTraceRecord(after)).toBe(
    'SubAfter\u0001r1\u0001ID1\u00017\u0001false\u0001k1 k2\u00014\u00011700000000107\u0001cg\u0002',
  );
});

const end: EndTransactionTrace = {
  type: 'EndTransaction',
  timestamp: 1700000000200,
  regionId: 'DefaultRegion',
  group: 'pg',
  topic: 'T',
  msgId: 'ID1',
  tags: 'TagA',
  keys: 'k1',
  storeHost: '10.0.0.1:10911',
  msgType: 1,
  transactionId: 'ID1',
  transactionState: 'COMMIT_MESSAGE',
  fromTransactionCheck: true,
};

test('EndTransaction records carry the transaction state and whether a check asked', () => {
  expect(encodeTraceRecord(end).split('\u0001').slice(9)).toEqual([
    '1',
    'ID1',
    'COMMIT_MESSAGE',
    'true\u0002',
  ]);
});

test('a body of several records decodes back; unknown and malformed records are skipped', () => {
  const body =
    encodeTraceRecord(pub) +
    encodeTraceRecord(before) +
    'Recall\u0001x\u0002' +
    'Pub\u0001short\u0002' +
    encodeTraceRecord(end) +
    encodeTraceRecord(after);
  expect(decodeTraceRecords(body)).toEqual([pub, { ...before, keys: 'null' }, end, after]);
});
