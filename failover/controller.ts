/**
 * The failover controller of one broker group, written once for every platform: it only talks
 * to brokers through the admin client (HA_* requests) and records decisions through a
 * {@link FailoverStateStore} (a state file locally, the custom resource's status on Kubernetes).
 *
 * Every probe interval it asks each member for its HA status. A master silent for the detection
 * time is replaced by the slave that followed it in the current epoch with the highest CommitLog
 * end, and only if every slave that followed it answers: SYNC_MASTER acknowledges once any one
 * slave has the bytes, so an unreachable follower could be the only one holding them. The new
 * epoch is saved before the slave is told; members that do not follow the recorded master of the
 * recorded epoch (a returning old master, a restarted fenced broker) are told to.
 */
import type { HaAdminClient } from '../client/ha-admin';
import type { Logger } from '../common/logger';
import type { HaStatus } from '../common/protocol/ha-bodies';
import type { FailoverStateStore, GroupFailoverState } from './state-store';

export interface GroupMember {
  /** Remoting address (brokerIP1:listenPort). */
  addr: string;
  /** The brokerId it takes while a slave (> 0). */
  slaveId: number;
}

export interface FailoverGroup {
  brokerName: string;
  members: GroupMember[];
  /** The role a promoted master takes. */
  masterRole: 'SYNC_MASTER' | 'ASYNC_MASTER';
}

export interface FailoverControllerOptions {
  admin: HaAdminClient;
  stateStore: FailoverStateStore;
  logger: Logger;
  /** A master unanswering this long is declared gone; default 3000 ms. */
  detectionTimeMs?: number;
  /** Probe period; default 500 ms. */
  probeIntervalMs?: number;
}

/** What the controller did, for logs, tests and the platform. */
export type FailoverEvent =
  | { type: 'elected'; epoch: number; masterAddr: string }
  | { type: 'failover'; epoch: number; masterAddr: string; oldMasterAddr: string }
  | { type: 'repointed'; addr: string; epoch: number; masterAddr: string };

interface Seen {
  status: HaStatus;
  at: number;
}

export class FailoverController {
  private state: GroupFailoverState | undefined;
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private ticking = false;
  private startedAt = 0;
  private readonly listeners: ((e: FailoverEvent) => void)[] = [];
  private readonly detectionTimeMs: number;
  private readonly probeIntervalMs: number;

  constructor(
    private readonly group: FailoverGroup,
    private readonly opts: FailoverControllerOptions,
  ) {
    this.detectionTimeMs = opts.detectionTimeMs ?? 3000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 500;
  }

  onEvent(listener: (e: FailoverEvent) => void): void {
    this.listeners.push(listener);
  }

  get current(): GroupFailoverState | undefined {
    return this.state;
  }

  async start(): Promise<void> {
    this.state = await this.opts.stateStore.load(this.group.brokerName);
    this.startedAt = Date.now();
    this.timer = setInterval(() => {
      // A round slower than the interval (brokers not answering) is not queued behind: skipped.
      if (this.ticking) return;
      this.ticking = true;
      this.running = this.tick().finally(() => (this.ticking = false));
    }, this.probeIntervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One probe round and whatever it calls for. Errors are logged; the next round retries. */
  async tick(): Promise<void> {
    try {
      await this.probeAndAct();
    } catch (err) {
      this.opts.logger.warn(
        { group: this.group.brokerName, err: (err as Error).message },
        'failover round failed',
      );
    }
  }

  private async probeAndAct(): Promise<void> {
    const now = Date.now();
    const answers = await Promise.all(
      this.group.members.map((m) =>
        this.opts.admin.status(m.addr).then(
          (status) => ({ m, status }),
          () => ({ m, status: undefined }),
        ),
      ),
    );
    const alive = new Map<string, HaStatus>();
    for (const { m, status } of answers) {
      if (status === undefined) continue;
      alive.set(m.addr, status);
      this.seen.set(m.addr, { status, at: now });
    }
    const state = this.state;
    if (state === undefined) return this.electFirst(alive, now);
    const master = alive.get(state.masterAddr);
    if (master === undefined) return this.maybeFailover(state, alive, now);
    if (master.role !== 'MASTER' || master.epoch !== state.epoch) {
      // The recorded master restarted (it comes back fenced): it takes over again, in a new epoch.
      return this.promote(state.masterAddr, master, state.epoch + 1, 'failover', state.masterAddr);
    }
    for (const m of this.group.members) {
      const s = alive.get(m.addr);
      if (s === undefined || m.addr === state.masterAddr) continue;
      if (s.role === 'SLAVE' && s.epoch === state.epoch && s.masterAddr === state.masterAddr) {
        continue;
      }
      await this.opts.admin.becomeSlave(m.addr, {
        epoch: state.epoch,
        brokerId: m.slaveId,
        masterAddr: state.masterAddr,
        masterHaAddr: master.haServerAddr,
      });
      this.emit({
        type: 'repointed',
        addr: m.addr,
        epoch: state.epoch,
        masterAddr: state.masterAddr,
      });
    }
  }

  /** No decision recorded yet: once everyone answered (or the detection time passed), elect. */
  private async electFirst(alive: Map<string, HaStatus>, now: number): Promise<void> {
    if (alive.size === 0) return;
    if (alive.size < this.group.members.length && now - this.startedAt < this.detectionTimeMs) {
      return;
    }
    const ranked = [...alive.entries()].sort(
      ([, a], [, b]) => b.epoch - a.epoch || b.maxPhyOffset - a.maxPhyOffset,
    );
    const [addr, status] = ranked[0];
    const epoch = Math.max(...[...alive.values()].map((s) => s.epoch)) + 1;
    await this.promote(addr, status, epoch, 'elected');
  }

  private async maybeFailover(
    state: GroupFailoverState,
    alive: Map<string, HaStatus>,
    now: number,
  ): Promise<void> {
    const masterSeenAt = this.seen.get(state.masterAddr)?.at ?? this.startedAt;
    if (now - masterSeenAt < this.detectionTimeMs) return;
    const followed = (s: HaStatus) =>
      s.role === 'SLAVE' && s.epoch === state.epoch && s.masterAddr === state.masterAddr;
    // Slaves that followed the master while it was last seen alive.
    const followers = this.group.members.filter((m) => {
      const seen = this.seen.get(m.addr);
      return (
        m.addr !== state.masterAddr &&
        seen !== undefined &&
        followed(seen.status) &&
        seen.at >= masterSeenAt - this.probeIntervalMs * 2
      );
    });
    const missing = followers.filter((m) => !alive.has(m.addr));
    if (followers.length === 0 || missing.length > 0) {
      this.opts.logger.warn(
        {
          group: this.group.brokerName,
          master: state.masterAddr,
          followers: followers.map((m) => m.addr),
          missing: missing.map((m) => m.addr),
        },
        'master is gone but no slave is known to hold every acknowledged write; not promoting',
      );
      return;
    }
    const [best] = followers
      .map((m) => ({ m, s: alive.get(m.addr)! }))
      .filter(({ s }) => followed(s))
      .sort((a, b) => b.s.maxPhyOffset - a.s.maxPhyOffset || a.m.slaveId - b.m.slaveId);
    if (best === undefined) return;
    await this.promote(best.m.addr, best.s, state.epoch + 1, 'failover', state.masterAddr);
  }

  /** Records the new epoch first, then tells the broker. */
  private async promote(
    addr: string,
    status: HaStatus,
    epoch: number,
    type: 'elected' | 'failover',
    oldMasterAddr = '',
  ): Promise<void> {
    const next = { epoch: Math.max(epoch, status.epoch + 1), masterAddr: addr };
    await this.opts.stateStore.save(this.group.brokerName, next);
    this.state = next;
    this.opts.logger.warn(
      { group: this.group.brokerName, ...next, oldMasterAddr, offset: status.maxPhyOffset },
      type === 'elected' ? 'master elected' : 'failing over to a new master',
    );
    await this.opts.admin.becomeMaster(addr, {
      epoch: next.epoch,
      brokerRole: this.group.masterRole,
    });
    this.emit(
      type === 'elected'
        ? { type, epoch: next.epoch, masterAddr: addr }
        : { type, epoch: next.epoch, masterAddr: addr, oldMasterAddr },
    );
  }

  private emit(e: FailoverEvent): void {
    for (const l of this.listeners) l(e);
  }
}
