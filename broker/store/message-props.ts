/**
 * The properties the store itself interprets (broker-internals.md §1.3): TAGS (→ tag code),
 * KEYS and UNIQ_KEY (→ index), WAIT (→ don't wait for the flush), DELAY (→ the delivery time that
 * is the tag code of SCHEDULE_TOPIC_XXXX entries). One pass over the encoded string, with
 * Java's parsing rules (a pair counts only if name and value are non-empty; the last one wins).
 */
import { javaStringHash } from '../../common/message/java-hash';

export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';

/** What one scan found. Reused: read it before the next scan. */
export interface StoreProps {
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  /** True without WAIT; with it, only for "true" (any case), as Java parses it. */
  wait: boolean;
  /** DELAY level, 0 when absent or not a number. */
  delayLevel: number;
}

const scratch: StoreProps = {
  tags: undefined,
  keys: undefined,
  uniqKey: undefined,
  wait: true,
  delayLevel: 0,
};

/** Scans `props` once; returns a shared object valid until the next call. */
export function scanStoreProps(props: string): StoreProps {
  const out = scratch;
  out.tags = undefined;
  out.keys = undefined;
  out.uniqKey = undefined;
  out.wait = true;
  out.delayLevel = 0;
  const len = props.length;
  let start = 0;
  while (start < len) {
    let end = props.indexOf('\u0002', start);
    if (end < 0) end = len;
    const sep = props.indexOf('\u0001', start);
    if (sep > start && sep < end - 1) {
      const nameLen = sep - start;
      if (nameLen === 4) {
        if (props.startsWith('TAGS', start)) out.tags = props.slice(sep + 1, end);
        else if (props.startsWith('KEYS', start)) out.keys = props.slice(sep + 1, end);
        else if (props.startsWith('WAIT', start)) {
          // Java's Boolean.parseBoolean: only "true" (any case) means wait.
          out.wait = props.slice(sep + 1, end).toLowerCase() === 'true';
        }
      } else if (nameLen === 8 && props.startsWith('UNIQ_KEY', start)) {
        out.uniqKey = props.slice(sep + 1, end);
      } else if (nameLen === 5 && props.startsWith('DELAY', start)) {
        const level = Number(props.slice(sep + 1, end));
        out.delayLevel = Number.isInteger(level) ? level : 0;
      }
    }
    start = end + 1;
  }
  return out;
}

/**
 * The ConsumeQueue tag code (§1.4): the Java hash of TAGS (0 without), except in
 * SCHEDULE_TOPIC_XXXX, where it is the delivery time: store time + the delay of the message's
 * level (clamped to the highest level; 1 s if levels are missing).
 */
export function tagsCodeOf(
  topic: string,
  props: StoreProps,
  storeTimestamp: number,
  delayLevels: readonly number[],
): number {
  if (topic === SCHEDULE_TOPIC && props.delayLevel > 0) {
    const level = Math.min(props.delayLevel, delayLevels.length);
    const delay = level > 0 ? delayLevels[level - 1] : 1000;
    return storeTimestamp + delay;
  }
  return props.tags ? javaStringHash(props.tags) : 0;
}
