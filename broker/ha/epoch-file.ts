/**
 * The epoch history of one broker (DESIGN "Failover keeps one writer"; the idea of RocketMQ 5's
 * EpochFileCache, broker-internals.md §6.2): which epoch each stretch of the CommitLog was
 * written in. An entry's range ends where the next entry starts; the last one is open-ended.
 * Persisted as JSON with an atomic replace.
 */
import { readFileWithBackup, writeFileAtomic } from '../../common/atomic-file';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class EpochFile {
  private list: EpochEntry[] = [];

  constructor(private readonly path: string) {}

  async load(): Promise<void> {
    const parsed = await readFileWithBackup(this.path, parseEpochs);
    this.list = parsed ?? [];
  }

  get entries(): readonly EpochEntry[] {
    return this.list;
  }

  /** The newest epoch (0 when none was ever recorded). */
  get lastEpoch(): number {
    return this.list.length === 0 ? 0 : this.list[this.list.length - 1].epoch;
  }

  /**
   * Records that `epoch` begins at `startOffset`; entries starting later are dropped (this
   * broker's CommitLog ends there). Refuses an epoch not above the last one.
   */
  async begin(epoch: number, startOffset: number): Promise<void> {
    if (epoch <= this.lastEpoch) {
      throw new Error(`epoch ${epoch} is not above the last recorded epoch ${this.lastEpoch}`);
    }
    const kept = this.list.filter((e) => e.startOffset <= startOffset);
    await this.replace([...kept, { epoch, startOffset }]);
  }

  /** Takes the master's history (a slave follows it from here on). */
  async replace(entries: readonly EpochEntry[]): Promise<void> {
    const next = entries.map((e) => ({ epoch: e.epoch, startOffset: e.startOffset }));
    await writeFileAtomic(this.path, JSON.stringify(next));
    this.list = next;
  }
}

function parseEpochs(text: string): EpochEntry[] {
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) throw new Error('epoch file is not a JSON array');
  return raw.map((e: unknown) => {
    const { epoch, startOffset } = (e ?? {}) as Record<string, unknown>;
    if (typeof epoch !== 'number' || typeof startOffset !== 'number') {
      throw new Error('epoch file entry lacks epoch/startOffset');
    }
    return { epoch, startOffset };
  });
}

/**
 * Where a broker's CommitLog must be cut before it follows a master (RocketMQ 5's truncation by
 * epoch, §6.2): walking the local history from the newest epoch back, the first epoch both sides
 * began at the same offset is shared up to the smaller of the two ends of that epoch. A broker
 * without history keeps everything up to the master's end.
 */
export function truncationPoint(
  local: readonly EpochEntry[],
  localEnd: number,
  master: readonly EpochEntry[],
  masterEnd: number,
): number {
  if (local.length === 0) return Math.min(localEnd, masterEnd);
  for (let i = local.length - 1; i >= 0; i--) {
    const j = master.findIndex(
      (m) => m.epoch === local[i].epoch && m.startOffset === local[i].startOffset,
    );
    if (j < 0) continue;
    const localEpochEnd = i + 1 < local.length ? local[i + 1].startOffset : localEnd;
    const masterEpochEnd = j + 1 < master.length ? master[j + 1].startOffset : masterEnd;
    return Math.min(localEpochEnd, masterEpochEnd, localEnd);
  }
  return Math.min(localEnd, master.length > 0 ? master[0].startOffset : masterEnd);
}
