import { RecordError } from '../../../common/message/errors';
import {
  formatHostAddress,
  normalizeIPv4,
  parseHostAddress,
  parseIPv4,
  readHost,
  writeHost,
} from '../../../common/message/host';

describe('parseHostAddress / formatHostAddress', () => {
  it('round-trips ip:port', () => {
    expect(parseHostAddress('1.2.3.4:10911')).toEqual({ ip: '1.2.3.4', port: 10911 });
    expect(parseHostAddress('255.255.255.255:0')).toEqual({ ip: '255.255.255.255', port: 0 });
    expect(formatHostAddress({ ip: '192.168.1.20', port: 10911 })).toBe('192.168.1.20:10911');
  });

  it.each([
    '1.2.3.4',
    '1.2.3:10911',
    '1.2.3.4.5:1',
    '256.1.1.1:1',
    '1.2.3.4:65536',
    '1.2.3.4:',
    ':80',
    'a.b.c.d:1',
    'localhost:9876',
    '1..3.4:1',
    '1.2.3.4:-1',
    '1.2.3.4:1e3',
    '[::1]:10911',
  ])('rejects %j', (s) => {
    expect(() => parseHostAddress(s)).toThrow(RecordError);
  });
});

describe('parseIPv4', () => {
  it('returns the unsigned value or -1', () => {
    expect(parseIPv4('192.168.1.20')).toBe(0xc0a80114);
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('1.2.3.1234')).toBe(-1);
    expect(parseIPv4('1.2.3.4.')).toBe(-1);
    expect(parseIPv4('.1.2.3')).toBe(-1);
    expect(parseIPv4('::1')).toBe(-1);
  });
});

describe('normalizeIPv4', () => {
  it.each([
    ['10.0.0.5', '10.0.0.5'],
    ['::ffff:10.0.0.5', '10.0.0.5'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['::ffff:a00:5', '10.0.0.5'],
    ['::1', '127.0.0.1'],
    ['fe80::1', '0.0.0.0'],
    ['2001:db8::5', '0.0.0.0'],
    ['::ffff:300.0.0.1', '0.0.0.0'],
    [undefined, '0.0.0.0'],
    ['', '0.0.0.0'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeIPv4(input)).toBe(expected);
  });
});

describe('writeHost / readHost', () => {
  it('writes 4 address bytes and an int32 port', () => {
    const b = Buffer.alloc(10);
    expect(writeHost(b, 1, { ip: '192.168.1.20', port: 10911 })).toBe(9);
    expect([...b]).toEqual([0, 0xc0, 0xa8, 0x01, 0x14, 0, 0, 0x2a, 0x9f, 0]);
    expect(readHost(b, 1)).toEqual({ ip: '192.168.1.20', port: 10911 });
  });

  it('stays right while alternating among several addresses (parse cache)', () => {
    const hosts = ['10.0.0.1', '10.0.0.2', '172.16.5.9', '10.0.0.1', '8.8.8.8'];
    const b = Buffer.alloc(8);
    for (let i = 0; i < 100; i++) {
      const ip = hosts[(i * 7) % hosts.length];
      writeHost(b, 0, { ip, port: i });
      expect(readHost(b, 0)).toEqual({ ip, port: i });
    }
  });

  it('refuses non-IPv4 addresses', () => {
    expect(() => writeHost(Buffer.alloc(8), 0, { ip: '::1', port: 1 })).toThrow(RecordError);
    expect(() => writeHost(Buffer.alloc(8), 0, { ip: '', port: 1 })).toThrow(RecordError);
  });
});
