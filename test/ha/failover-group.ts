/**
 * A broker group of controller-mode brokers, real processes, with the failover controller
 * running in the test process and recording decisions in a state file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaAdminClient } from '../../client/ha-admin';
import { decodeOffsetMsgId } from '../../common/message/message-id';
import { Producer } from '../../client/producer';
import type {
  BecomeMasterRequest,
  BecomeSlaveRequest,
  EpochHistory,
  FenceRequest,
  HaStatus,
} from '../../common/protocol/ha-bodies';
import { FailoverController } from '../../failover/controller';
import { FileStateStore } from '../../failover/state-store';
import { RemotingClient } from '../../common/net/client';
import {
  createTopic,
  freeBrokerPort,
  type RunningBroker,
  startBroker,
  waitFor,
} from '../broker/support';
import { removeDir, type RunningNamesrv, startNamesrv } from '../support/processes';
import { FAST, readAll, silent } from './support';

export const TOPIC = 'FailoverTopic';
export const QUEUES = 4;

export interface Node {
  port: number;
  dataDir: string;
  slaveId: number;
  proc: RunningBroker | undefined;
}

/**
 * The controller's admin client, with a partition between the controller and some brokers:
 * calls to an address in `unreachable` fail as an unanswered connection would, while the
 * brokers themselves (and the test's own client) still reach each other.
 */
export class PartitionedHaAdmin extends HaAdminClient {
  readonly unreachable = new Set<string>();
  /** Runs before each HA_FENCE is sent (a test's chance to disturb the group right then). */
  beforeFence: ((addr: string) => Promise<void>) | undefined;

  override status(addr: string): Promise<HaStatus> {
    return this.cut(addr) ?? super.status(addr);
  }

  override epochs(addr: string): Promise<EpochHistory> {
    return this.cut(addr) ?? super.epochs(addr);
  }

  override becomeMaster(addr: string, req: BecomeMasterRequest): Promise<HaStatus> {
    return this.cut(addr) ?? super.becomeMaster(addr, req);
  }

  override becomeSlave(addr: string, req: BecomeSlaveRequest): Promise<HaStatus> {
    return this.cut(addr) ?? super.becomeSlave(addr, req);
  }

  override async fence(addr: string, req: FenceRequest): Promise<HaStatus> {
    await this.beforeFence?.(addr);
    return this.cut(addr) ?? super.fence(addr, req);
  }

  private cut(addr: string): Promise<never> | undefined {
    if (!this.unreachable.has(addr)) return undefined;
    return Promise.reject(new Error(`${addr}: connect timed out (test partition)`));
  }
}

export interface FailoverGroupOptions {
  detectionTimeMs?: number;
  switchoverTimeoutMs?: number;
  /** Extra broker flags. */
  flags?: Record<string, string | number | boolean>;
}

export class FailoverGroup {
  readonly ha = new HaAdminClient(silent, 500);
  /** What the controller talks to brokers with. */
  readonly controllerAdmin = new PartitionedHaAdmin(silent, 500);
  readonly remoting = new RemotingClient({ logger: silent });
  namesrv!: RunningNamesrv;
  controller!: FailoverController;
  readonly nodes: Node[] = [];
  private readonly stateDir = mkdtempSync(join(tmpdir(), 'rmqts-failover-'));

  constructor(
    private readonly masterRole: 'SYNC_MASTER' | 'ASYNC_MASTER',
    private readonly options: FailoverGroupOptions = {},
  ) {}

  addr(node: Node): string {
    return `127.0.0.1:${node.port}`;
  }

  async start(size = 2): Promise<void> {
    this.namesrv = await startNamesrv();
    for (let i = 0; i < size; i++) {
      const node: Node = {
        port: await freeBrokerPort(),
        dataDir: mkdtempSync(join(tmpdir(), 'rmqts-fo-broker-')),
        slaveId: i + 1,
        proc: undefined,
      };
      this.nodes.push(node);
      await this.startNode(node);
    }
    this.controller = new FailoverController(
      {
        brokerName: 'broker-a',
        members: this.nodes.map((n) => ({ addr: this.addr(n), slaveId: n.slaveId })),
        masterRole: this.masterRole,
      },
      {
        admin: this.controllerAdmin,
        stateStore: new FileStateStore(this.stateDir),
        logger: silent,
        detectionTimeMs: this.options.detectionTimeMs ?? 2000,
        probeIntervalMs: 250,
        switchoverTimeoutMs: this.options.switchoverTimeoutMs,
      },
    );
    await this.controller.start();
    const master = await this.waitForMaster(0, 10_000);
    for (const n of this.nodes) await createTopic(this.remoting, this.addr(n), TOPIC, QUEUES);
    await this.waitForFollowers(master);
  }

  async startNode(node: Node): Promise<void> {
    node.proc = await startBroker(
      this.namesrv.addr,
      {
        ...FAST,
        enableControllerMode: true,
        brokerId: node.slaveId,
        brokerRole: 'SLAVE',
        listenPort: node.port,
        ...this.options.flags,
      },
      node.dataDir,
    );
  }

  /** The node the controller made master in an epoch above `afterEpoch`. */
  async waitForMaster(
    afterEpoch: number,
    timeoutMs: number,
  ): Promise<{ node: Node; epoch: number }> {
    let found: { node: Node; epoch: number } | undefined;
    await waitFor(
      async () => {
        for (const node of this.nodes) {
          if (node.proc === undefined) continue;
          const s = await this.status(node);
          if (s?.role === 'MASTER' && s.epoch > afterEpoch) found = { node, epoch: s.epoch };
        }
        return found !== undefined;
      },
      timeoutMs,
      `a master above epoch ${afterEpoch}`,
    );
    return found!;
  }

  /** Waits until every running node other than the master follows it and has its bytes. */
  async waitForFollowers(master: { node: Node; epoch: number }, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      async () => {
        const m = await this.status(master.node);
        if (m === undefined) return false;
        for (const n of this.nodes) {
          if (n === master.node || n.proc === undefined) continue;
          const s = await this.status(n);
          if (s?.role !== 'SLAVE' || s.epoch !== master.epoch) return false;
          if (s.maxPhyOffset < m.confirmOffset) return false;
        }
        return true;
      },
      timeoutMs,
      'slaves following the master',
    );
  }

  status(node: Node): Promise<HaStatus | undefined> {
    return this.ha.status(this.addr(node)).catch(() => undefined);
  }

  producer(name: string): Producer {
    return new Producer({
      namesrvAddr: this.namesrv.addr,
      producerGroup: `fo-${name}`,
      instanceName: name,
      logger: silent,
      pollNameServerIntervalMs: 300,
      sendMsgTimeoutMs: 3000,
      retryTimesWhenSendFailed: 2,
    });
  }

  async stop(): Promise<void> {
    await this.controller?.stop();
    this.ha.close();
    this.controllerAdmin.close();
    this.remoting.close();
    for (const n of this.nodes) {
      if (n.proc) {
        n.proc.child.kill('SIGCONT');
        await n.proc.stop();
      }
      removeDir(n.dataDir);
    }
    await this.namesrv?.stop();
    if (this.namesrv) removeDir(this.namesrv.dataDir);
    removeDir(this.stateDir);
  }
}

/** Producers sending steadily; `acked` holds keys answered SEND_OK with the time they were. */
export class SendLoad {
  readonly acked = new Map<string, { at: number; broker: string }>();
  readonly failures: string[] = [];
  private running = true;
  private loops: Promise<void>[] = [];
  private readonly producers: Producer[] = [];

  constructor(private readonly group: FailoverGroup) {}

  async start(count: number): Promise<void> {
    for (let p = 0; p < count; p++) {
      const producer = this.group.producer(`p${p}`);
      await producer.start();
      this.producers.push(producer);
      this.loops.push(this.loop(producer, p));
    }
  }

  private async loop(producer: Producer, p: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      const key = `p${p}-${i}`;
      try {
        const r = await producer.send({
          topic: TOPIC,
          body: Buffer.from(`message ${key}`),
          keys: key,
        });
        if (r.sendStatus === 'SEND_OK')
          this.acked.set(key, { at: Date.now(), broker: r.offsetMsgId });
      } catch (err) {
        this.failures.push(String(err));
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 3));
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all(this.loops);
    for (const p of this.producers) await p.shutdown();
  }
}

/** One SIGKILL of a master, as {@link killMasters} ran it. */
export interface KillRecord {
  at: number;
  masterAddr: string;
  /** The highest offset a slave had acknowledged just before the kill. */
  confirmed: number;
  /** Milliseconds from the kill until a slave was master. */
  takeoverMs: number;
}

/**
 * A running group under `load`: the master is SIGKILLed `kills` times at random moments; after
 * each, waits for a new master (≤ 10 s), restarts the old one on its data so that it rejoins as
 * a slave, and waits for producers to get acknowledgements again. Returns the new master.
 */
export async function killMasters(
  group: FailoverGroup,
  load: SendLoad,
  kills: number,
  records: KillRecord[],
): Promise<{ node: Node; epoch: number }> {
  let master = await group.waitForMaster(0, 10_000);
  for (let k = 0; k < kills; k++) {
    await new Promise((r) => setTimeout(r, 800 + Math.random() * 1200));
    const victim = master.node;
    const ackedBefore = load.acked.size;
    const confirmed = (await group.status(victim))?.confirmOffset ?? 0;
    await victim.proc!.kill();
    const at = Date.now();
    master = await group.waitForMaster(master.epoch, 10_000);
    records.push({ at, masterAddr: group.addr(victim), confirmed, takeoverMs: Date.now() - at });
    await group.startNode(victim);
    await group.waitForFollowers(master);
    // Producers carry on (after their retries and a route refresh) on the new master.
    await waitFor(() => load.acked.size > ackedBefore + 10, 10_000, 'sends acknowledged again');
  }
  return master;
}

/**
 * The split-brain check of the partition tests, once the old master follows the new one: every
 * write the old master acknowledged lies before the point where the new epoch began (nothing it
 * acknowledged is cut when it rejoins), and every acknowledged key is on the new master. Returns
 * the new master's records and how many writes the old master acknowledged.
 */
export async function checkNoAckAfterEpoch(
  group: FailoverGroup,
  load: SendLoad,
  oldAddr: string,
  next: { node: Node; epoch: number },
): Promise<{ onNew: Awaited<ReturnType<typeof readAll>>; ackedByOld: number; lost: string[] }> {
  const history = await group.ha.epochs(group.addr(next.node));
  const newEpochStart = history.epochs.find((e) => e.epoch === next.epoch)!.startOffset;
  const ackedByOld = [...load.acked.values()]
    .map((a) => decodeOffsetMsgId(a.broker))
    .filter((id) => `${id.host.ip}:${id.host.port}` === oldAddr);
  expect(ackedByOld.length).toBeGreaterThan(0);
  expect(ackedByOld.filter((id) => id.physicalOffset >= newEpochStart)).toEqual([]);
  const onNew = await readAll(group.addr(next.node), TOPIC, QUEUES);
  const present = new Set(onNew.map((m) => m.keys));
  const lost = [...load.acked.keys()].filter((k) => !present.has(k));
  expect(lost).toEqual([]);
  return { onNew, ackedByOld: ackedByOld.length, lost };
}
