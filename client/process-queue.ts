/**
 * The messages pulled from one queue and not yet consumed (Java `ProcessQueue`). The offset a
 * push consumer commits is the smallest one still here, so offsets only ever pass messages
 * that were consumed: at-least-once delivery.
 */
import type { MessageExt } from './message';

/** A lock not renewed for this long is no longer trusted (`rocketmq.client.rebalance.lockMaxLiveTime`). */
export const LOCK_MAX_LIVE_MS = 30_000;

export class ProcessQueue {
  /** Offset → message, in ascending offset order (messages arrive in offset order). */
  private messages = new Map<number, MessageExt>();
  /** Orderly consumption: taken by the listener, not yet committed. */
  private consuming = new Map<number, MessageExt>();
  private maxOffset = -1;
  /** Where the next pull starts: everything before it was added here or filtered out. */
  private pulledTo = 0;
  dropped = false;
  locked = false;
  lastLockTimestamp = 0;
  /** The orderly consume loop of this queue, while it runs. */
  orderlyRun: Promise<void> | undefined;

  get count(): number {
    return this.messages.size + this.consuming.size;
  }

  /** Adds pulled messages (ascending offsets, after those already here). */
  add(msgs: readonly MessageExt[]): void {
    for (const msg of msgs) {
      if (msg.queueOffset <= this.maxOffset) continue;
      this.messages.set(msg.queueOffset, msg);
      this.maxOffset = msg.queueOffset;
    }
  }

  /** Records where the next pull starts, after adding that pull's messages. */
  pulledUpTo(nextOffset: number): void {
    this.pulledTo = Math.max(this.pulledTo, nextOffset);
  }

  /**
   * Removes consumed messages; returns the offset to commit: the smallest offset still here,
   * else where the next pull starts (so filtered-out messages are passed too). -1 when there
   * was nothing to remove.
   */
  remove(msgs: readonly MessageExt[]): number {
    if (this.messages.size === 0) return -1;
    for (const msg of msgs) this.messages.delete(msg.queueOffset);
    return this.nextOffset();
  }

  private nextOffset(): number {
    for (const offset of this.messages.keys()) return offset;
    return Math.max(this.maxOffset + 1, this.pulledTo);
  }

  lockExpired(now = Date.now()): boolean {
    return now - this.lastLockTimestamp > LOCK_MAX_LIVE_MS;
  }

  /** Orderly: takes up to `n` messages from the head for the listener. */
  take(n: number): MessageExt[] {
    const out: MessageExt[] = [];
    for (const [offset, msg] of this.messages) {
      if (out.length >= n) break;
      out.push(msg);
      this.messages.delete(offset);
      this.consuming.set(offset, msg);
    }
    return out;
  }

  /** Orderly: the taken messages are consumed; returns the next offset to consume. */
  commit(): number {
    let last = -1;
    for (const offset of this.consuming.keys()) last = Math.max(last, offset);
    this.consuming.clear();
    return last >= 0 ? last + 1 : this.nextOffset();
  }

  /** Orderly: the taken messages go back to the head, to be consumed again. */
  rollback(): void {
    const restored = new Map<number, MessageExt>();
    for (const [offset, msg] of this.consuming) {
      msg.reconsumeTimes++;
      restored.set(offset, msg);
    }
    for (const entry of this.messages) restored.set(...entry);
    this.consuming.clear();
    this.messages = restored;
  }
}
