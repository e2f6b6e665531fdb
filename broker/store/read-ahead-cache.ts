/**
 * Recently read blocks of the CommitLog, for consumers reading forward through older data.
 *
 * The records of one queue lie between those of every other queue, so a pull of 32 messages
 * reads the whole stretch of CommitLog around them (one read instead of 32), and the consumers
 * of the other queues, usually at about the same place, need that stretch next. Java serves them
 * all from one memory mapping; we keep the last few aligned blocks read, so they are read once.
 * A block is immutable once cached (only bytes already written are cached, and a truncation
 * drops the blocks it touches), so readers may keep views of it as long as they like.
 */
export class ReadAheadCache {
  /** Cached and in-flight reads by block start, oldest use first. */
  private readonly blocks = new Map<number, Promise<Buffer | undefined>>();

  constructor(
    readonly blockSize: number,
    private readonly maxBlocks: number,
  ) {}

  /**
   * The block starting at `start`: cached, being read (the same read is shared), or read now by
   * `load`. A failed or short read is not kept.
   */
  block(start: number, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const known = this.blocks.get(start);
    if (known !== undefined) {
      this.blocks.delete(start);
      this.blocks.set(start, known);
      return known;
    }
    const loading = load().then(
      (buf) => {
        if (buf === undefined || buf.length < this.blockSize) this.forget(start, loading);
        return buf;
      },
      (err: unknown) => {
        this.forget(start, loading);
        throw err;
      },
    );
    this.blocks.set(start, loading);
    if (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
    return loading;
  }

  /** Forgets every block holding bytes at or after `offset` (the CommitLog was cut there). */
  dropFrom(offset: number): void {
    for (const start of [...this.blocks.keys()]) {
      if (start + this.blockSize > offset) this.blocks.delete(start);
    }
  }

  /** Forgets every block holding bytes before `offset` (their file was deleted). */
  dropBelow(offset: number): void {
    for (const start of [...this.blocks.keys()]) {
      if (start < offset) this.blocks.delete(start);
    }
  }

  private forget(start: number, loading: Promise<Buffer | undefined>): void {
    if (this.blocks.get(start) === loading) this.blocks.delete(start);
  }
}
