import { ReadAheadCache } from '../../../broker/store/read-ahead-cache';

const block = (fill: number) => Buffer.alloc(16, fill);

describe('read-ahead cache', () => {
  it('reads a block once, shares a read in flight, and keeps the most recently used', async () => {
    const cache = new ReadAheadCache(16, 2);
    const loads: number[] = [];
    const load = (start: number) => () => {
      loads.push(start);
      return Promise.resolve(block(start));
    };
    const [a, again] = await Promise.all([cache.block(0, load(0)), cache.block(0, load(0))]);
    expect(a).toBe(again);
    await cache.block(16, load(16));
    await cache.block(0, load(0)); // 0 is now the most recent, 16 the oldest
    await cache.block(32, load(32)); // evicts 16
    await cache.block(0, load(0));
    await cache.block(16, load(16));
    expect(loads).toEqual([0, 16, 32, 16]);
  });

  it('does not keep a failed, missing or short read', async () => {
    const cache = new ReadAheadCache(16, 4);
    let loads = 0;
    const failing = () => {
      loads++;
      return Promise.reject(new Error('EIO'));
    };
    await expect(cache.block(0, failing)).rejects.toThrow('EIO');
    await expect(cache.block(0, failing)).rejects.toThrow('EIO');
    const missing = () => {
      loads++;
      return Promise.resolve(undefined);
    };
    await cache.block(16, missing);
    await cache.block(16, missing);
    const short = () => {
      loads++;
      return Promise.resolve(Buffer.alloc(8));
    };
    await cache.block(32, short);
    await cache.block(32, short);
    expect(loads).toBe(6);
  });

  it('drops the blocks a truncation or a file deletion touches', async () => {
    const cache = new ReadAheadCache(16, 8);
    let loads = 0;
    const load = () => {
      loads++;
      return Promise.resolve(block(1));
    };
    for (const start of [0, 16, 32, 48]) await cache.block(start, load);
    cache.dropFrom(40); // block 32 holds bytes from 40 on
    cache.dropBelow(16);
    for (const start of [0, 16, 32, 48]) await cache.block(start, load);
    expect(loads).toBe(4 + 3);
  });
});
