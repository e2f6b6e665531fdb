import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalOffsetStore } from '../../client/offset-store';
import { removeDir } from '../support/processes';

test('the local (broadcasting) offset store persists and reloads offsets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rmqts-local-offsets-'));
  try {
    const mqs = [
      { topic: 'T', brokerName: 'room@broker-a', queueId: 0 },
      { topic: 'T', brokerName: 'broker-b', queueId: 3 },
    ];
    const store = new LocalOffsetStore(dir, '10.0.0.5@pid#1', 'group');
    await store.load();
    expect(await store.readFromStore(mqs[0])).toBeUndefined();
    store.update(mqs[0], 10, false);
    store.update(mqs[0], 7, true); // increase-only: ignored
    store.update(mqs[1], 5, false);
    await store.persist();

    const reloaded = new LocalOffsetStore(dir, '10.0.0.5@pid#1', 'group');
    await reloaded.load();
    expect(await reloaded.readFromStore(mqs[0])).toBe(10);
    expect(reloaded.read(mqs[1])).toBe(5);
    reloaded.remove(mqs[1]);
    expect(reloaded.read(mqs[1])).toBeUndefined();
  } finally {
    removeDir(dir);
  }
});
