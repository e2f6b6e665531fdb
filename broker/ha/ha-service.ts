/**
 * A broker's part in replication and failover: its role (MASTER, SLAVE, or FENCED until told),
 * its epoch history, the HA server it streams from as master, the HA client and metadata sync
 * it runs as slave, and the HA_* admin requests a failover controller drives it with.
 *
 * Classic mode takes the role from `brokerRole`/`brokerId`; a slave learns its master from the
 * name server's registration answer or `haMasterAddress` (§5.1). With `enableControllerMode` a
 * broker starts FENCED (refusing writes) and waits for HA_BECOME_MASTER / HA_BECOME_SLAVE.
 * Role changes are serialized; a change with an epoch below the local one is refused, and a
 * master told of a higher epoch stops accepting writes before anything else happens.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/logger';
import type { RemotingClient } from '../../common/net/client';
import type { RequestHandler } from '../../common/net/connection';
import { encodeJsonBody } from '../../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest, createResponse } from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import {
  type BecomeMasterRequest,
  type BecomeSlaveRequest,
  decodeBecomeMaster,
  decodeBecomeSlave,
  decodeEpochHistory,
  decodeFence,
  HaRequestCode,
  type HaRole,
  type HaStatus,
} from '../../common/protocol/ha-bodies';
import type { BrokerContext } from '../broker-context';
import { metadataPaths } from '../metadata/config-file';
import { storePaths } from '../store/store-config';
import { PutMessageStatus } from '../store/status';
import { EpochFile, truncationPoint } from './epoch-file';
import { HaClient } from './ha-client';
import { createHaMetrics } from './ha-metrics';
import { HaServer } from './ha-server';
import { MetadataSync } from './metadata-sync';

export class HaService {
  readonly server: HaServer;
  private readonly client: HaClient;
  private readonly epochs: EpochFile;
  private readonly metadata: MetadataSync;
  private readonly delayOffsetPath: string;
  private role: HaRole = 'FENCED';
  private masterAddr = '';
  private haPort = 0;
  /**
   * The epoch of the last HA_FENCE, until an HA_BECOME_* lifts it (0: not fenced). Kept in memory
   * only, on purpose: a restarted broker comes back FENCED without an HA connection anyway, so
   * a restart cannot re-follow the old master; and nothing stale is left on disk when the
   * controller dies between fence and promote: its successor either fences again and promotes
   * (the master is still gone) or tells the fenced followers to follow the recorded master again
   * (it came back). Either is an HA_BECOME_*, which always lifts the fence, so it cannot wedge.
   */
  private fencedEpoch = 0;
  /** Controller mode: the brokerId it registers under while not master (0 otherwise). */
  private slaveId = 0;
  private changing: Promise<unknown> = Promise.resolve();
  private readonly logger: Logger;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly outbound: RemotingClient,
    registry: Registry,
  ) {
    this.logger = ctx.logger.child({ module: 'ha' });
    const { config, store } = ctx;
    this.epochs = new EpochFile(join(storePaths(config).config, 'epochs.json'));
    this.server = new HaServer({
      store,
      fileSize: config.mappedFileSizeCommitLog,
      slaveTimeoutMs: config.slaveTimeout,
      logger: this.logger,
      metrics: createHaMetrics(registry),
      isMaster: () => this.role === 'MASTER',
    });
    this.client = new HaClient(store, this.logger);
    this.delayOffsetPath = metadataPaths(storePaths(config).config).delayOffset;
    this.metadata = new MetadataSync(
      outbound,
      {
        topics: ctx.topics,
        subscriptionGroups: ctx.subscriptionGroups,
        offsets: ctx.offsets,
        delayOffsetPath: this.delayOffsetPath,
      },
      this.logger,
    );
  }

  get haServerAddr(): string {
    return `${this.ctx.config.brokerIP1}:${this.haPort}`;
  }

  isMaster(): boolean {
    return this.role === 'MASTER';
  }

  /** The epoch this broker last began or followed (0: none yet). */
  get epoch(): number {
    return this.epochs.lastEpoch;
  }

  /** Loads the epoch history, opens the HA port and takes the starting role. */
  async start(listenPort: number): Promise<void> {
    const { config, store } = this.ctx;
    await this.epochs.load();
    this.haPort = await this.server.listen(
      config.haListenPort || listenPort + 1,
      config.bindAddress,
    );
    if (config.enableControllerMode) {
      // Registered under its slave id until a controller makes it master.
      if (config.brokerId <= 0) throw new Error('enableControllerMode needs a brokerId > 0');
      this.slaveId = config.brokerId;
      this.role = 'FENCED';
      store.setBrokerRole('SLAVE');
    } else if (config.brokerRole === 'SLAVE') {
      if (config.brokerId <= 0) throw new Error("Slave's brokerId must be > 0");
      this.role = 'SLAVE';
      if (config.haMasterAddress !== '') this.client.setMaster(config.haMasterAddress);
    } else {
      config.brokerId = 0;
      this.role = 'MASTER';
      if (this.epochs.lastEpoch === 0) await this.epochs.begin(1, store.getMaxPhyOffset());
    }
    this.logger.info(
      { role: this.role, epoch: this.epochs.lastEpoch, haPort: this.haPort },
      'HA service started',
    );
  }

  async stop(): Promise<void> {
    await this.changing.catch(() => undefined);
    await this.metadata.stop();
    await this.client.stop();
    await this.server.close();
  }

  /**
   * The name server's answer to a registration (§5.1 "master discovery"): a classic slave
   * follows the master it names, unless `haMasterAddress` fixes it.
   */
  onRegistered(masterAddr: string | undefined, haServerAddr: string | undefined): void {
    const { config } = this.ctx;
    if (config.enableControllerMode || this.role !== 'SLAVE') return;
    if (masterAddr === undefined || masterAddr === '') return;
    this.masterAddr = masterAddr;
    this.metadata.follow(masterAddr);
    if (config.haMasterAddress === '' && haServerAddr) this.client.setMaster(haServerAddr);
  }

  /** A put's bytes end at `end`: resolves with what SYNC_MASTER answers (§5.4). */
  waitForReplication(end: number): Promise<PutMessageStatus> {
    if (this.role !== 'MASTER') return Promise.resolve(PutMessageStatus.SERVICE_NOT_AVAILABLE);
    return this.server.waitForSlave(end);
  }

  status(): HaStatus {
    const { config, store } = this.ctx;
    return {
      brokerName: config.brokerName,
      brokerAddr: `${config.brokerIP1}:${this.ctx.storeHost.port}`,
      haServerAddr: this.haServerAddr,
      brokerId: config.brokerId,
      role: this.role,
      brokerRole: store.brokerRole,
      epoch: this.epochs.lastEpoch,
      maxPhyOffset: store.getMaxPhyOffset(),
      confirmOffset: this.role === 'MASTER' ? this.server.confirmedOffset : 0,
      masterAddr: this.masterAddr,
      slaves: this.server.slaves().map((s) => ({ addr: s.addr, ackOffset: s.ackOffset })),
      fencedEpoch: this.fencedEpoch,
    };
  }

  /** The admin handlers, by request code. */
  handlers(): [number, RequestHandler][] {
    const json = (request: Parameters<RequestHandler>[0], value: unknown) =>
      createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(value) });
    return [
      [HaRequestCode.HA_GET_STATUS, (request) => json(request, this.status())],
      // What slaves copy their consumer offsets from (§5.5).
      [
        HaRequestCode.HA_FENCE,
        async (request) => {
          await this.fenceBelow(decodeFence(request.body).epoch);
          return json(request, this.status());
        },
      ],
      [
        RequestCode.GET_ALL_CONSUMER_OFFSET,
        (request) =>
          createResponse(request, ResponseCode.SUCCESS, {
            body: Buffer.from(this.ctx.offsets.render()),
          }),
      ],
      [
        RequestCode.GET_ALL_DELAY_OFFSET,
        async (request) =>
          createResponse(request, ResponseCode.SUCCESS, { body: await this.delayOffsetBody() }),
      ],
      [
        HaRequestCode.HA_GET_EPOCHS,
        (request) =>
          json(request, {
            epochs: this.epochs.entries,
            maxPhyOffset: this.ctx.store.getMaxPhyOffset(),
          }),
      ],
      [
        HaRequestCode.HA_BECOME_MASTER,
        async (request) => {
          const req = decodeBecomeMaster(request.body);
          await this.serialized(() => this.becomeMaster(req));
          return json(request, this.status());
        },
      ],
      [
        HaRequestCode.HA_BECOME_SLAVE,
        async (request) => {
          const req = decodeBecomeSlave(request.body);
          // Stop writing at once, before waiting for any change in progress.
          if (req.epoch > this.epochs.lastEpoch && this.role === 'MASTER') this.fence();
          await this.serialized(() => this.becomeSlave(req));
          return json(request, this.status());
        },
      ],
    ];
  }

  /**
   * What slaves copy the delay levels' progress from (GET_ALL_DELAY_OFFSET): `delayOffset.json` as
   * last flushed, or an empty table before there is one. Java answers its in-memory table encoded
   * as JSON, which is never empty text (`{"offsetTable":{}}` before any delivery): its SYSTEM_ERROR
   * "No delay offset in this broker" branch cannot be reached, so an empty table is the Java
   * answer. Any other read error fails the request (SYSTEM_ERROR, logged by the connection).
   */
  private delayOffsetBody(): Promise<Buffer> {
    return readFile(this.delayOffsetPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      return encodeJsonBody({ offsetTable: {} });
    });
  }

  private serialized(change: () => Promise<void>): Promise<void> {
    const next = this.changing.catch(() => undefined).then(change);
    this.changing = next;
    return next;
  }

  /** Refuses writes from now on and fails the puts waiting for a slave. */
  private fence(): void {
    this.ctx.store.setBrokerRole('SLAVE');
    this.server.stepDown();
    if (this.role === 'MASTER') {
      this.role = 'FENCED';
      this.logger.warn(
        { epoch: this.epochs.lastEpoch },
        'stopped accepting writes: a higher epoch exists',
      );
    }
  }

  /**
   * HA_FENCE: nothing below `epoch` may be replicated from here on. A slave drops its HA
   * connection (and metadata sync) at once and reconnects only when an HA_BECOME_* tells it to;
   * it keeps reporting the master and epoch it followed, so a controller that restarts still
   * knows it as a follower. A master stops accepting writes but keeps streaming what it has, so
   * its slaves can catch up (a planned switchover); HA_BECOME_SLAVE later steps it down.
   * Answers once the bytes in hand are appended: the status then holds the final CommitLog end.
   */
  private async fenceBelow(epoch: number): Promise<void> {
    if (epoch <= this.epochs.lastEpoch) return;
    this.fencedEpoch = Math.max(this.fencedEpoch, epoch);
    if (this.role === 'MASTER') {
      this.ctx.store.setBrokerRole('SLAVE');
      if (this.slaveId > 0) {
        // Off brokerId 0 at the name server at once, so routes lead producers elsewhere and a
        // new master's registration is not overwritten by this one's.
        this.ctx.config.brokerId = this.slaveId;
        void this.ctx
          .registerBroker()
          .catch((err: unknown) =>
            this.logger.warn({ err: (err as Error).message }, 'registration after fencing failed'),
          );
      }
      this.logger.warn(
        { epoch: this.epochs.lastEpoch, fencedEpoch: epoch },
        'fenced: no more writes',
      );
      return;
    }
    this.metadata.follow('');
    // Best effort: the old master may be reachable from here though not from the controller;
    // fenced, it stops acknowledging writes nobody will replicate any more.
    if (this.masterAddr !== '') {
      const fence = createRequest(HaRequestCode.HA_FENCE, {}, encodeJsonBody({ epoch }));
      void this.outbound.invoke(this.masterAddr, fence, 1000).catch(() => undefined);
    }
    await this.client.stop();
    // A role change in flight may have started following again after the stop above.
    await this.serialized(async () => {
      if (this.fencedEpoch >= epoch && this.role !== 'MASTER') await this.client.stop();
    });
    this.logger.warn(
      {
        epoch: this.epochs.lastEpoch,
        fencedEpoch: epoch,
        offset: this.ctx.store.getMaxPhyOffset(),
      },
      'fenced: stopped replicating until told whom to follow',
    );
  }

  private async becomeMaster(req: BecomeMasterRequest): Promise<void> {
    const { store, config } = this.ctx;
    if (req.epoch === this.epochs.lastEpoch && this.role === 'MASTER') return;
    if (req.epoch <= this.epochs.lastEpoch) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `epoch ${req.epoch} is not above this broker's epoch ${this.epochs.lastEpoch}`,
      );
    }
    this.fencedEpoch = 0;
    await this.client.stop();
    await this.metadata.stop();
    // A slave's CommitLog may end mid-record: the new epoch starts after the last whole one.
    const end = await store.lastCompleteRecordEnd();
    if (end < store.getMaxPhyOffset()) await store.truncateCommitLog(end);
    await this.epochs.begin(req.epoch, end);
    this.server.resetAcks();
    config.brokerId = 0;
    this.masterAddr = '';
    this.role = 'MASTER';
    store.setBrokerRole(req.brokerRole);
    this.logger.warn(
      { epoch: req.epoch, startOffset: end, brokerRole: req.brokerRole },
      'became master',
    );
    await this.ctx.registerBroker();
  }

  private async becomeSlave(req: BecomeSlaveRequest): Promise<void> {
    const { store, config } = this.ctx;
    const local = this.epochs.lastEpoch;
    if (req.epoch < local) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `epoch ${req.epoch} is below this broker's epoch ${local}`,
      );
    }
    this.fencedEpoch = 0;
    if (
      this.role === 'SLAVE' &&
      req.epoch === local &&
      this.masterAddr === req.masterAddr &&
      this.client.masterHaAddress === req.masterHaAddr
    ) {
      return;
    }
    this.fence();
    await this.client.stop();
    const history = decodeEpochHistory(
      (await this.outbound.invoke(req.masterAddr, createRequest(HaRequestCode.HA_GET_EPOCHS), 5000))
        .body,
    );
    const latest = history.epochs[history.epochs.length - 1];
    if (latest === undefined || latest.epoch !== req.epoch) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `${req.masterAddr} is not master of epoch ${req.epoch} (its last epoch: ${latest?.epoch ?? 'none'})`,
      );
    }
    const localEnd = store.getMaxPhyOffset();
    const cut = truncationPoint(
      this.epochs.entries,
      localEnd,
      history.epochs,
      history.maxPhyOffset,
    );
    if (cut < localEnd) {
      this.logger.warn(
        { from: cut, localEnd, epochs: this.epochs.entries, masterEpochs: history.epochs },
        'truncating what this broker wrote after its history diverged from the master',
      );
      await store.truncateCommitLog(cut);
    }
    await this.epochs.replace(history.epochs);
    config.brokerId = req.brokerId;
    this.role = 'SLAVE';
    this.masterAddr = req.masterAddr;
    this.client.setMaster(req.masterHaAddr);
    this.metadata.follow(req.masterAddr);
    this.logger.warn(
      { epoch: req.epoch, master: req.masterAddr, brokerId: req.brokerId },
      'following master',
    );
    await this.ctx.registerBroker();
  }
}
