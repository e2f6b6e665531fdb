/**
 * The replication admin calls (our private HA_* requests, common/protocol/ha-bodies.ts): what a
 * failover controller needs to watch a broker group and change its master.
 */
import { RemotingClient } from '../common/net/client';
import type { Logger } from '../common/logger';
import { encodeJsonBody } from '../common/protocol/bodies';
import { createRequest } from '../common/protocol/command';
import {
  type BecomeMasterRequest,
  type BecomeSlaveRequest,
  decodeEpochHistory,
  decodeHaStatus,
  type EpochHistory,
  type FenceRequest,
  HaRequestCode,
  type HaStatus,
} from '../common/protocol/ha-bodies';
import { expectCode } from './response';

export class HaAdminClient {
  private readonly remoting: RemotingClient;

  constructor(
    logger: Logger,
    private readonly timeoutMs = 1000,
  ) {
    this.remoting = new RemotingClient({ logger, connectTimeoutMs: timeoutMs });
  }

  async status(brokerAddr: string): Promise<HaStatus> {
    const r = await this.call(brokerAddr, HaRequestCode.HA_GET_STATUS);
    return decodeHaStatus(r.body);
  }

  async epochs(brokerAddr: string): Promise<EpochHistory> {
    const r = await this.call(brokerAddr, HaRequestCode.HA_GET_EPOCHS);
    return decodeEpochHistory(r.body);
  }

  async becomeMaster(brokerAddr: string, req: BecomeMasterRequest): Promise<HaStatus> {
    const r = await this.call(brokerAddr, HaRequestCode.HA_BECOME_MASTER, req, 10_000);
    return decodeHaStatus(r.body);
  }

  async becomeSlave(brokerAddr: string, req: BecomeSlaveRequest): Promise<HaStatus> {
    const r = await this.call(brokerAddr, HaRequestCode.HA_BECOME_SLAVE, req, 10_000);
    return decodeHaStatus(r.body);
  }

  /** HA_FENCE: the broker stops replicating below `req.epoch`; answers its final status. */
  async fence(brokerAddr: string, req: FenceRequest): Promise<HaStatus> {
    const r = await this.call(brokerAddr, HaRequestCode.HA_FENCE, req, 5000);
    return decodeHaStatus(r.body);
  }

  close(): void {
    this.remoting.close();
  }

  private async call(addr: string, code: number, body?: unknown, timeoutMs = this.timeoutMs) {
    const request = createRequest(code, {}, body === undefined ? undefined : encodeJsonBody(body));
    return expectCode(await this.remoting.invoke(addr, request, timeoutMs));
  }
}
