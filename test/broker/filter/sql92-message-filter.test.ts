/**
 * The SQL92 MessageFilter on stored records: alone on encoded records, through the real message
 * store over a mixed stream, and the subscription checks the broker's handlers answer with.
 */
import { encodeProperties } from '../../../common/message/properties';
import { encodeRecord, readBody, type RecordToEncode } from '../../../common/message/record';
import { buildSubscriptionData } from '../../../common/protocol/broker-bodies';
import { ResponseCode } from '../../../common/protocol/codes';
import { RemotingError } from '../../../common/protocol/errors';
import {
  checkSubscriptionFilter,
  createMessageFilter,
  Sql92MessageFilter,
} from '../../../broker/filter/sql92-message-filter';
import { Sql92ParseError } from '../../../broker/filter/sql92';
import { TagFilter } from '../../../broker/filter/tag-filter';
import type { MessageStore } from '../../../broker/store';
import { Prng } from '../../helpers/prng';
import { message, openStore, smallConfig, tempStoreDir } from '../store/store-fixtures';

function sql92(expression: string) {
  return buildSubscriptionData('T', expression, 1, 'SQL92');
}

function record(props: Record<string, string>): Buffer {
  const r: RecordToEncode = {
    topic: 'T',
    queueId: 0,
    flag: 0,
    queueOffset: 0,
    physicalOffset: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { ip: '10.0.0.5', port: 50000 },
    storeTimestamp: 1_700_000_000_001,
    storeHost: { ip: '127.0.0.1', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: Buffer.from('body'),
    properties: encodeProperties(props),
  };
  return encodeRecord(r);
}

function remotingErrorOf(fn: () => unknown): RemotingError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RemotingError) return e;
    throw e;
  }
  throw new Error('no RemotingError thrown');
}

describe('Sql92MessageFilter on records', () => {
  it('passes every ConsumeQueue entry and evaluates the record properties', () => {
    const filter = new Sql92MessageFilter(
      sql92("TAGS IN ('TagA', 'TagB') AND price BETWEEN 10 AND 20 AND region <> 'eu'"),
    );
    expect(filter.isMatchedByConsumeQueue()).toBe(true);
    const match = { TAGS: 'TagA', price: '15', region: 'us', KEYS: 'k1', UNIQ_KEY: 'u1' };
    expect(filter.isMatchedByCommitLog(record(match))).toBe(true);
    expect(filter.isMatchedByCommitLog(record({ ...match, TAGS: 'TagC' }))).toBe(false);
    expect(filter.isMatchedByCommitLog(record({ ...match, price: '25' }))).toBe(false);
    expect(filter.isMatchedByCommitLog(record({ ...match, price: 'cheap' }))).toBe(false);
    const noRegion: Record<string, string> = { ...match };
    delete noRegion.region;
    expect(filter.isMatchedByCommitLog(record(noRegion))).toBe(false);
    expect(filter.isMatchedByCommitLog(record({}))).toBe(false);
  });

  it('sees system properties like any other', () => {
    const filter = new Sql92MessageFilter(sql92("UNIQ_KEY STARTSWITH 'AC1' OR KEYS = 'k'"));
    expect(filter.isMatchedByCommitLog(record({ UNIQ_KEY: 'AC1100' }))).toBe(true);
    expect(filter.isMatchedByCommitLog(record({ UNIQ_KEY: 'BC1100', KEYS: 'k' }))).toBe(true);
    expect(filter.isMatchedByCommitLog(record({ UNIQ_KEY: 'BC1100' }))).toBe(false);
  });

  it('refuses an invalid expression when it is built', () => {
    expect(() => new Sql92MessageFilter(sql92('a = '))).toThrow(Sql92ParseError);
  });
});

describe('subscription checks', () => {
  it('uses the tag filter for tag subscriptions, whatever enablePropertyFilter says', () => {
    expect(createMessageFilter(buildSubscriptionData('T', 'A || B'), false)).toBeInstanceOf(
      TagFilter,
    );
    expect(() => checkSubscriptionFilter(buildSubscriptionData('T', '*'), false)).not.toThrow();
  });

  it('refuses SQL92 with SYSTEM_ERROR when property filtering is off', () => {
    const e = remotingErrorOf(() => checkSubscriptionFilter(sql92('a > 1'), false));
    expect(e.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(e.message).toBe('The broker does not support consumer to filter message by SQL92');
  });

  it('refuses a bad expression with SUBSCRIPTION_PARSE_FAILED saying what and where', () => {
    const e = remotingErrorOf(() => checkSubscriptionFilter(sql92("a > 1 AND b = 'x"), true));
    expect(e.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    expect(e.message).toBe(
      'Invalid SQL92 filter expression at column 15: unterminated string literal (missing closing quote)',
    );
  });

  it('refuses an unknown expression type with SUBSCRIPTION_PARSE_FAILED', () => {
    const sub = buildSubscriptionData('T', 'x', 1, 'GROOVY');
    const e = remotingErrorOf(() => checkSubscriptionFilter(sub, true));
    expect(e.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    expect(e.message).toContain('GROOVY');
  });

  it('builds the SQL92 filter for a valid expression', () => {
    expect(createMessageFilter(sql92('a IS NOT NULL'), true)).toBeInstanceOf(Sql92MessageFilter);
  });
});

describe('Sql92MessageFilter through the message store', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  let store: MessageStore;

  beforeAll(async () => {
    tmp = tempStoreDir();
    store = await openStore(smallConfig(tmp.dir, { mappedFileSizeCommitLog: 1024 * 1024 }));
  });

  afterAll(async () => {
    await store.shutdown();
    tmp.remove();
  });

  it('returns exactly the matching messages of a mixed stream of 10,000', async () => {
    const prng = new Prng(20261129);
    const tags = ['TagA', 'TagB', 'TagC'];
    const regions = ['eu', 'us', 'ap'];
    const expected = new Set<number>();
    const total = 10_000;
    for (let start = 0; start < total; start += 500) {
      const batch = [];
      for (let i = start; i < start + 500; i++) {
        const props: Record<string, string> = { TAGS: tags[prng.int(0, 2)], seq: String(i) };
        // Some messages lack a property, some carry one that does not convert to a number.
        if (prng.next() < 0.9) props.region = regions[prng.int(0, 2)];
        const price = prng.int(0, 40);
        props.price = prng.next() < 0.05 ? `n/a${price}` : String(price);
        const matches =
          (props.TAGS === 'TagA' || props.TAGS === 'TagB') &&
          /^\d+$/.test(props.price) &&
          Number(props.price) >= 10 &&
          Number(props.price) <= 20 &&
          props.region !== undefined &&
          props.region !== 'eu';
        if (matches) expected.add(i);
        batch.push(message('T', 0, String(i), props));
      }
      expect((await store.putMessages(batch)).status).toBe('PUT_OK');
    }

    const filter = createMessageFilter(
      sql92("TAGS IN ('TagA', 'TagB') AND price BETWEEN 10 AND 20 AND region <> 'eu'"),
      true,
    );
    const got: number[] = [];
    let offset = 0;
    while (offset < total) {
      const r = await store.getMessage({ topic: 'T', queueId: 0, offset, maxMsgNums: 32, filter });
      for (const buf of r.messages) got.push(Number(readBody(buf, 0).toString()));
      expect(r.nextBeginOffset).toBeGreaterThan(offset);
      offset = r.nextBeginOffset;
    }
    expect(expected.size).toBeGreaterThan(1000);
    expect(got).toEqual([...expected]);
  });
});
