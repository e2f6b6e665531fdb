import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpochFile, truncationPoint } from '../../broker/ha/epoch-file';

describe('epoch history', () => {
  it('truncates a returning old master to where the new epoch began', () => {
    // Old master wrote epoch 1 up to 1500; the slave had 1000 when it became master of epoch 2.
    expect(
      truncationPoint(
        [{ epoch: 1, startOffset: 0 }],
        1500,
        [
          { epoch: 1, startOffset: 0 },
          { epoch: 2, startOffset: 1000 },
        ],
        3000,
      ),
    ).toBe(1000);
  });

  it('keeps everything a lagging slave has of the shared epoch', () => {
    expect(
      truncationPoint(
        [{ epoch: 1, startOffset: 0 }],
        700,
        [
          { epoch: 1, startOffset: 0 },
          { epoch: 2, startOffset: 1000 },
        ],
        3000,
      ),
    ).toBe(700);
  });

  it('walks back past epochs the master never had', () => {
    // Local epoch 3 was never recorded by the master (it began elsewhere): cut to epoch 2's end.
    const local = [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 1000 },
      { epoch: 3, startOffset: 2000 },
    ];
    const master = [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 1000 },
      { epoch: 4, startOffset: 1800 },
    ];
    expect(truncationPoint(local, 2500, master, 4000)).toBe(1800);
  });

  it('a broker without history keeps what it has, up to the master’s end', () => {
    expect(truncationPoint([], 500, [{ epoch: 1, startOffset: 0 }], 800)).toBe(500);
    expect(truncationPoint([], 900, [{ epoch: 1, startOffset: 0 }], 800)).toBe(800);
  });

  it('persists entries and refuses an epoch not above the last', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epochs-'));
    try {
      const file = new EpochFile(join(dir, 'epochs.json'));
      await file.load();
      expect(file.lastEpoch).toBe(0);
      await file.begin(1, 0);
      await file.begin(3, 5000);
      await expect(file.begin(3, 6000)).rejects.toThrow(/not above/);
      // A new epoch drops the entries that began past its start.
      await file.begin(4, 4000);
      const again = new EpochFile(join(dir, 'epochs.json'));
      await again.load();
      expect(again.entries).toEqual([
        { epoch: 1, startOffset: 0 },
        { epoch: 4, startOffset: 4000 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
