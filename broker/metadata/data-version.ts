import type { DataVersion } from '../../common/protocol/bodies';

/** A fresh DataVersion: counter 0, stamped now. */
export function newDataVersion(now = Date.now()): DataVersion {
  return { counter: 0, stateVersion: 0, timestamp: now };
}

/** RocketMQ's `DataVersion.nextVersion()`: bump the counter and the timestamp. */
export function nextDataVersion(v: DataVersion, now = Date.now()): DataVersion {
  return { counter: v.counter + 1, stateVersion: v.stateVersion ?? 0, timestamp: now };
}
