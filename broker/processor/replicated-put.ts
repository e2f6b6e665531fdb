import type { BrokerContext } from '../broker-context';
import type { PutMessageResult } from '../store/message-types';
import { PutMessageStatus } from '../store/status';

/**
 * Stores a message and, on a SYNC_MASTER, holds the answer until a slave has its bytes
 * (broker-internals.md §5.4). Whether to wait is decided before the put: a master fenced while
 * the put was in flight (a higher epoch exists) has role SLAVE by the time the put resolves, and
 * must then answer SERVICE_NOT_AVAILABLE (which waitForReplication gives), never a bare PUT_OK.
 */
export async function putReplicated(
  ctx: BrokerContext,
  put: () => Promise<PutMessageResult>,
  waitForSlave = true,
): Promise<PutMessageResult> {
  const gate = waitForSlave && ctx.store.brokerRole === 'SYNC_MASTER' ? ctx.replication : undefined;
  const result = await put();
  if (gate !== undefined && result.status === PutMessageStatus.PUT_OK) {
    result.status = await gate.waitForReplication(result.wroteOffset + result.wroteBytes);
  }
  return result;
}
