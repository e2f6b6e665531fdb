import { getProperty, MessageConst } from '../../common/message/properties';
import type { BrokerContext } from '../broker-context';
import type { PutMessageResult } from '../store/message-types';
import { PutMessageStatus } from '../store/status';

/**
 * Stores a message and, on a SYNC_MASTER, holds the answer until a slave has its bytes
 * (broker-internals.md §5.4). Whether to wait is decided before the put: a master fenced while
 * the put was in flight (a higher epoch exists) has role SLAVE by the time the put resolves, and
 * must then answer SERVICE_NOT_AVAILABLE (which waitForReplication gives), never a bare PUT_OK.
 * A producer's `WAIT=false` in `properties` skips the wait; it is only looked up on a
 * SYNC_MASTER, so other roles pay nothing for it on the send path.
 */
export async function putReplicated(
  ctx: BrokerContext,
  put: () => Promise<PutMessageResult>,
  properties?: string,
): Promise<PutMessageResult> {
  const gate =
    ctx.store.brokerRole === 'SYNC_MASTER' &&
    (properties === undefined || getProperty(properties, MessageConst.WAIT) !== 'false')
      ? ctx.replication
      : undefined;
  const result = await put();
  if (gate !== undefined && result.status === PutMessageStatus.PUT_OK) {
    result.status = await gate.waitForReplication(result.wroteOffset + result.wroteBytes);
  }
  return result;
}
