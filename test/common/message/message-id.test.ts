import { networkInterfaces } from 'node:os';
import { RecordError } from '../../../common/message/errors';
import { parseIPv4 } from '../../../common/message/host';
import {
  createOffsetMsgId,
  createOffsetMsgIds,
  createUniqKey,
  decodeOffsetMsgId,
  uniqKeyTimestamp,
} from '../../../common/message/message-id';

describe('offsetMsgId', () => {
  it('matches the spec example', () => {
    const host = { ip: '192.168.1.20', port: 10911 };
    expect(createOffsetMsgId(host, 1_000_000)).toBe('C0A8011400002A9F00000000000F4240');
    expect(decodeOffsetMsgId('C0A8011400002A9F00000000000F4240')).toEqual({
      host,
      physicalOffset: 1_000_000,
    });
  });

  it('round-trips large offsets and accepts lower-case hex', () => {
    const host = { ip: '10.255.0.1', port: 65535 };
    for (const offset of [0, 1, 2 ** 32 - 1, 2 ** 32, 0x1234_5678_9abc, Number.MAX_SAFE_INTEGER]) {
      const id = createOffsetMsgId(host, offset);
      expect(id).toMatch(/^[0-9A-F]{32}$/);
      expect(decodeOffsetMsgId(id)).toEqual({ host, physicalOffset: offset });
      expect(decodeOffsetMsgId(id.toLowerCase())).toEqual({ host, physicalOffset: offset });
    }
    expect(createOffsetMsgId(host, 2 ** 32)).toBe('0AFF00010000FFFF0000000100000000');
  });

  it('decodes the 56-character form of an IPv6 store host', () => {
    const id = '20010DB8000000000000000000000005' + '00002A9F' + '00000000000F4240';
    expect(decodeOffsetMsgId(id)).toEqual({
      host: { ip: '2001:db8:0:0:0:0:0:5', port: 10911 },
      physicalOffset: 1_000_000,
    });
  });

  it.each([
    '',
    'C0A80114',
    'C0A8011400002A9F00000000000F424',
    'C0A8011400002A9F00000000000F424G',
    'C0A8011400002A9F00000000000F4240,C0A8011400002A9F00000000000F4240',
  ])('rejects %j', (id) => {
    expect(() => decodeOffsetMsgId(id)).toThrow(RecordError);
  });

  it('refuses a non-IPv4 store host', () => {
    expect(() => createOffsetMsgId({ ip: 'broker-0', port: 10911 }, 0)).toThrow(RecordError);
    expect(() => createOffsetMsgIds({ ip: 'broker-0', port: 10911 }, [0])).toThrow(RecordError);
  });

  it("joins a batch's ids with commas, each as createOffsetMsgId makes it", () => {
    const host = { ip: '192.168.1.20', port: 10911 };
    const offsets = [0, 1_000_000, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
    expect(createOffsetMsgIds(host, offsets)).toBe(
      offsets.map((offset) => createOffsetMsgId(host, offset)).join(','),
    );
    expect(createOffsetMsgIds(host, [1_000_000])).toBe('C0A8011400002A9F00000000000F4240');
    expect(createOffsetMsgIds(host, [])).toBe('');
  });
});

describe('createUniqKey', () => {
  it('has the Java 4.x layout', () => {
    const now = Date.now();
    const key = createUniqKey(now);
    expect(key).toMatch(/^[0-9A-F]{32}$/);
    const bytes = Buffer.from(key, 'hex');
    const ip = bytes.readUInt32BE(0);
    const local = Object.values(networkInterfaces())
      .flatMap((a) => a ?? [])
      .filter((a) => a.family === 'IPv4')
      .map((a) => parseIPv4(a.address));
    expect([...local, parseIPv4('127.0.0.1')]).toContain(ip);
    expect(bytes.readUInt16BE(4)).toBe(process.pid & 0xffff);
    const d = new Date(now);
    const monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    expect(bytes.readUInt32BE(10)).toBe(now - monthStart);
  });

  it('keeps the prefix and advances a 16-bit counter', () => {
    const now = Date.now();
    const a = createUniqKey(now);
    const b = createUniqKey(now);
    expect(b.slice(0, 28)).toBe(a.slice(0, 28));
    const ca = parseInt(a.slice(28), 16);
    expect(parseInt(b.slice(28), 16)).toBe((ca + 1) & 0xffff);
    const keys = new Set(Array.from({ length: 1000 }, () => createUniqKey()));
    expect(keys.size).toBe(1000);
  });
});

describe('uniqKeyTimestamp', () => {
  it('recovers the creation time in the same month', () => {
    const created = new Date(2024, 1, 15, 10, 30, 0, 123).getTime();
    const key = createUniqKey(created);
    expect(uniqKeyTimestamp(key, created + 5000)).toBe(created);
  });

  it('falls back to the previous month for a key whose time would be in the future', () => {
    const created = new Date(2024, 0, 31, 12, 0, 0, 0).getTime();
    const key = createUniqKey(created);
    expect(uniqKeyTimestamp(key, new Date(2024, 1, 1, 0, 5).getTime())).toBe(created);
  });

  it('handles spans past 2^31 ms (late in a long month)', () => {
    const created = new Date(2024, 6, 30, 12, 0, 0, 0).getTime(); // ~29.5 days into July
    const key = createUniqKey(created);
    expect(uniqKeyTimestamp(key, created + 1000)).toBe(created);
  });

  it('is undefined for keys not in the Java format', () => {
    expect(uniqKeyTimestamp('')).toBeUndefined();
    expect(uniqKeyTimestamp('not-a-key')).toBeUndefined();
    expect(uniqKeyTimestamp('Z'.repeat(32))).toBeUndefined();
  });
});
