import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseBacklog, DEFAULT_SIZING, measureRoom } from '../../bench/backlog/sizing';

const GiB = 1024 ** 3;

describe('chooseBacklog', () => {
  test('aims at 3 × MemAvailable when the disk has room for it', () => {
    const choice = chooseBacklog({
      memAvailableBytes: 4 * GiB,
      diskUsedBytes: 10 * GiB,
      diskAvailableBytes: 90 * GiB,
    });
    expect(choice.bytes).toBe(12 * GiB);
    expect(choice.aimBytes).toBe(12 * GiB);
    // 70 % of 100 GiB, minus the 10 used and the 1 GiB margin.
    expect(choice.diskCapBytes).toBe(59 * GiB);
    expect(choice.reason).toBe('3 × MemAvailable 4.0 GiB = 12.0 GiB');
  });

  test('caps the backlog so that 30 % of the disk stays free, and says so', () => {
    const choice = chooseBacklog({
      memAvailableBytes: 24 * GiB,
      diskUsedBytes: 33 * GiB,
      diskAvailableBytes: 69 * GiB,
    });
    expect(choice.bytes).toBeCloseTo(0.7 * 102 * GiB - 34 * GiB, -3);
    expect(choice.reason).toMatch(/capped at 37\.4 GiB so that 30% of the disk stays free/);
  });

  test('a requested size wins over the aim but not over the disk', () => {
    const room = { memAvailableBytes: GiB, diskUsedBytes: 0, diskAvailableBytes: 10 * GiB };
    expect(chooseBacklog(room, { ...DEFAULT_SIZING, requestedBytes: 2 * GiB }).bytes).toBe(2 * GiB);
    expect(chooseBacklog(room, { ...DEFAULT_SIZING, requestedBytes: 50 * GiB }).bytes).toBe(
      6 * GiB,
    );
  });

  test('a disk already past 70 % leaves no room at all', () => {
    const choice = chooseBacklog({
      memAvailableBytes: GiB,
      diskUsedBytes: 80 * GiB,
      diskAvailableBytes: 20 * GiB,
    });
    expect(choice.bytes).toBe(0);
  });
});

test('measureRoom reads this machine: memory and the disk of a folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sizing-'));
  try {
    const room = measureRoom(dir);
    expect(room.memAvailableBytes).toBeGreaterThan(0);
    expect(room.diskUsedBytes).toBeGreaterThan(0);
    expect(room.diskAvailableBytes).toBeGreaterThan(0);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
