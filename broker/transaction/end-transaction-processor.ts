import { MessageConst } from '../../common/message/properties';
import { MessageSysFlag } from '../../common/message/sysflag';
import type { Connection } from '../../common/net/connection';
import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { EndTransactionRequestHeader } from '../../common/protocol/headers';
import type { Logger } from '../../common/logger';
import type { TransactionalMessageStore } from './transactional-message-store';

const OUTCOME_REMARK = {
  'already-resolved': 'the transaction was already resolved',
  'store-failed': 'the committed message could not be stored',
  invalid: 'the half message has no valid REAL_TOPIC/REAL_QID',
} as const;

/**
 * END_TRANSACTION (37), oneway from the producer or as its answer to a check-back
 * (EndTransactionProcessor, broker-internals.md §10.2): commit or roll back the half message at
 * `commitLogOffset` after checking it belongs to the producer group and queue offset named.
 */
export class EndTransactionProcessor {
  constructor(
    private readonly transactions: TransactionalMessageStore,
    private readonly logger: Logger,
  ) {}

  handle = async (request: RemotingCommand, conn: Connection): Promise<OutgoingCommand> => {
    const h = EndTransactionRequestHeader.decode(request.extFields);
    const fail = (code: number, remark: string): OutgoingCommand => {
      this.logger.warn(
        { remote: conn.remoteAddress, msgId: h.msgId, commitLogOffset: h.commitLogOffset, remark },
        'END_TRANSACTION refused',
      );
      return createResponse(request, code, { remark });
    };
    if (this.transactions.store.brokerRole === 'SLAVE') {
      return fail(ResponseCode.SLAVE_NOT_AVAILABLE, 'the broker is a slave');
    }
    const commit = h.commitOrRollback === MessageSysFlag.TRANSACTION_COMMIT_TYPE;
    if (!commit && h.commitOrRollback !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
      // UNKNOWN (or anything else): nothing to do until the check service asks again.
      this.logger.info(
        { msgId: h.msgId, fromTransactionCheck: h.fromTransactionCheck ?? false },
        'transaction state unknown, left for a check-back',
      );
      return createResponse(request, ResponseCode.SUCCESS);
    }
    const half = await this.transactions.lookHalfMessage(h.commitLogOffset);
    if (!half) {
      return fail(ResponseCode.SYSTEM_ERROR, 'Find prepared transaction message failed');
    }
    const group = half.properties.get(MessageConst.PGROUP);
    if (group !== h.producerGroup) {
      return fail(ResponseCode.SYSTEM_ERROR, 'The producer group wrong');
    }
    if (half.queueOffset !== h.tranStateTableOffset) {
      return fail(ResponseCode.SYSTEM_ERROR, 'The transaction state table offset wrong');
    }
    const outcome = await this.transactions.resolve(half, commit);
    if (outcome === 'already-resolved') {
      this.logger.info({ msgId: h.msgId, commit }, OUTCOME_REMARK[outcome]);
      return createResponse(request, ResponseCode.SUCCESS);
    }
    if (outcome !== 'done') return fail(ResponseCode.SYSTEM_ERROR, OUTCOME_REMARK[outcome]);
    this.logger.debug(
      { msgId: h.msgId, commit, fromTransactionCheck: h.fromTransactionCheck ?? false },
      'transaction resolved',
    );
    return createResponse(request, ResponseCode.SUCCESS);
  };
}
