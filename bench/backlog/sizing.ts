import { readFileSync, statfsSync } from 'node:fs';

const GiB = 1024 ** 3;

/** What the machine offers a backlog: memory the page cache could use and room on the disk. */
export interface MachineRoom {
  /** MemAvailable of /proc/meminfo: free memory plus the caches the kernel can reclaim. */
  memAvailableBytes: number;
  /** The data directory's filesystem, as df reports it. */
  diskUsedBytes: number;
  diskAvailableBytes: number;
}

export interface BacklogChoice {
  bytes: number;
  /** Three times what the page cache could hold: the scenario's aim. */
  aimBytes: number;
  /** The most the disk may take while at least `keepFreeRatio` of it stays free. */
  diskCapBytes: number;
  /** In words, for the printout: how the size was chosen. */
  reason: string;
}

export interface SizingRules {
  /** Backlog = this × MemAvailable, so the page cache cannot keep it hot. */
  cacheMultiple: number;
  /** Share of the filesystem (df's used + available) that must stay free. */
  keepFreeRatio: number;
  /** Kept back on top, for the ConsumeQueues, index files and whatever else writes meanwhile. */
  marginBytes: number;
  /** The user's choice, which wins over the aim but never over the disk cap. */
  requestedBytes?: number;
}

export const DEFAULT_SIZING: SizingRules = {
  cacheMultiple: 3,
  keepFreeRatio: 0.3,
  marginBytes: 1 * GiB,
};

/** Reads MemAvailable and the filesystem holding `dir`. */
export function measureRoom(dir: string): MachineRoom {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const match = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
  if (!match) throw new Error('/proc/meminfo has no MemAvailable line');
  const fs = statfsSync(dir);
  return {
    memAvailableBytes: Number(match[1]) * 1024,
    diskUsedBytes: (fs.blocks - fs.bfree) * fs.bsize,
    diskAvailableBytes: fs.bavail * fs.bsize,
  };
}

/**
 * The backlog size: `cacheMultiple` × MemAvailable (or the requested size), never more than
 * keeps `keepFreeRatio` of the disk free (df's Use% at most 1 − keepFreeRatio) with the margin.
 */
export function chooseBacklog(
  room: MachineRoom,
  rules: SizingRules = DEFAULT_SIZING,
): BacklogChoice {
  const aimBytes = rules.cacheMultiple * room.memAvailableBytes;
  const usable = (1 - rules.keepFreeRatio) * (room.diskUsedBytes + room.diskAvailableBytes);
  const diskCapBytes = Math.max(0, Math.floor(usable - room.diskUsedBytes - rules.marginBytes));
  const wanted = rules.requestedBytes ?? aimBytes;
  const gib = (n: number) =>
    n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
  const wantedText =
    rules.requestedBytes === undefined
      ? `${rules.cacheMultiple} × MemAvailable ${gib(room.memAvailableBytes)} = ${gib(aimBytes)}`
      : `requested ${gib(rules.requestedBytes)}`;
  if (wanted <= diskCapBytes) {
    return { bytes: wanted, aimBytes, diskCapBytes, reason: wantedText };
  }
  return {
    bytes: diskCapBytes,
    aimBytes,
    diskCapBytes,
    reason:
      `${wantedText}, capped at ${gib(diskCapBytes)} so that ` +
      `${Math.round(rules.keepFreeRatio * 100)}% of the disk stays free`,
  };
}
