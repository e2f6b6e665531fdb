import type { RequestHandler } from '../../common/net/connection';
import type { BrokerContext } from '../broker-context';
import type { PreparedMessageHandler } from '../processor/send-processor';
import { EndTransactionProcessor } from './end-transaction-processor';
import { TransactionCheckService } from './transaction-check-service';
import { TransactionalMessageStore } from './transactional-message-store';

/**
 * Transactions in the broker (broker-internals.md §10): what the send processor stores half
 * messages with, the END_TRANSACTION handler, and the master's check service.
 */
export class TransactionService {
  readonly putHalfMessage: PreparedMessageHandler;
  readonly endTransaction: RequestHandler;
  private readonly checker: TransactionCheckService;

  constructor(ctx: BrokerContext) {
    const logger = ctx.logger.child({ module: 'transaction' });
    const transactions = new TransactionalMessageStore(ctx.store, logger);
    this.putHalfMessage = transactions.putHalfMessage;
    this.endTransaction = new EndTransactionProcessor(transactions, logger).handle;
    this.checker = new TransactionCheckService(
      transactions,
      ctx.offsets,
      ctx.producers,
      ctx.config,
      logger,
    );
  }

  start(): void {
    this.checker.start();
  }

  stop(): Promise<void> {
    return this.checker.stop();
  }
}
