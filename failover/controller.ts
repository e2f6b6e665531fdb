/**
 * The failover controller of one broker group, written once for every platform: it only talks
 * to brokers through the admin client (HA_* requests) and records decisions through a
 * {@link FailoverStateStore} (a state file locally, the custom resource's status on Kubernetes).
 *
 * Every probe interval it asks each member for its HA status. A master silent for the detection
 * time is replaced by the slave that followed it in the current epoch with the highest CommitLog
 * end, and only if every slave that followed it answers: SYNC_MASTER acknowledges once any one
 * slave has the bytes, so an unreachable follower could be the only one holding them. Before
 * choosing, every follower is fenced (HA_FENCE with the next epoch): a master that is alive but
 * unreachable from here (partition, long pause) could otherwise keep streaming to a follower
 * that acknowledges writes after its end was read. The new epoch is saved before the slave is
 * told; members that do not follow the recorded master of the recorded epoch (a returning old
 * master, a restarted or fenced broker) are told to.
 *
 * A planned {@link FailoverController.switchover} fences the master (no new writes), waits for
 * the target slave to hold its whole CommitLog and promotes it; probe rounds and switchovers
 * never run at the same time.
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
  /** How long a switchover waits for its target to catch up; default 10 000 ms. */
  switchoverTimeoutMs?: number;
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
  /** The probe round or switchover in progress: they run one at a time. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private ticking = false;
  private startedAt = 0;
  private readonly listeners: ((e: FailoverEvent) => void)[] = [];
  private readonly detectionTimeMs: number;
  private readonly probeIntervalMs: number;
  private readonly switchoverTimeoutMs: number;

  constructor(
    private readonly group: FailoverGroup,
    private readonly opts: FailoverControllerOptions,
  ) {
    this.detectionTimeMs = opts.detectionTimeMs ?? 3000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 500;
    this.switchoverTimeoutMs = opts.switchoverTimeoutMs ?? 10_000;
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
      await this.serialized(() => this.probeAndAct());
    } catch (err) {
      this.opts.logger.warn(
        { group: this.group.brokerName, err: (err as Error).message },
        'failover round failed',
      );
    }
  }

  /**
   * Planned change of master (a rolling update): fences the master so it takes no new writes,
   * waits until `targetAddr` (default: the in-sync follower with the highest CommitLog end)
   * holds its whole CommitLog, then records and promotes it in the next epoch and tells the
   * others, the old master included, to follow it. If the target does not catch up within the
   * switchover timeout the old master is made master again in a new epoch, and this rejects.
   */
  switchover(targetAddr?: string): Promise<{ epoch: number; masterAddr: string }> {
    return this.serialized(() => this.runSwitchover(targetAddr));
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const next = this.exclusive.catch(() => undefined).then(task);
    this.exclusive = next;
    return next;
  }

  private async probe(): Promise<Map<string, HaStatus>> {
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
    return alive;
  }

  private async probeAndAct(): Promise<void> {
    const alive = await this.probe();
    const now = Date.now();
    const state = this.state;
    if (state === undefined) return this.electFirst(alive, now);
    const master = alive.get(state.masterAddr);
    if (master === undefined) return this.maybeFailover(state, alive, now);
    if (master.role !== 'MASTER' || master.epoch !== state.epoch || master.fencedEpoch > 0) {
      // The recorded master restarted (it comes back fenced), or a switchover fenced it and did
      // not finish: it takes over again, in a new epoch.
      return this.promote(state.masterAddr, master, state.epoch + 1, 'failover', state.masterAddr);
    }
    await this.repointOthers(state, master.haServerAddr, alive);
  }

  /** Tells every answering member that does not follow the recorded master to follow it. */
  private async repointOthers(
    state: GroupFailoverState,
    masterHaAddr: string,
    alive: Map<string, HaStatus>,
  ): Promise<void> {
    for (const m of this.group.members) {
      const s = alive.get(m.addr);
      if (s === undefined || m.addr === state.masterAddr) continue;
      if (follows(s, state)) continue;
      await this.opts.admin.becomeSlave(m.addr, {
        epoch: state.epoch,
        brokerId: m.slaveId,
        masterAddr: state.masterAddr,
        masterHaAddr,
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
    // Slaves that followed the master while it was last seen alive (a follower fenced by an
    // unfinished round still reports the master it followed).
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
    // Fence every answering member, so none replicates from the old master any more: their
    // answers are final CommitLog ends, and whatever the old master acknowledged is in one.
    const epoch = state.epoch + 1;
    const fenced = await Promise.all(
      this.group.members
        .filter((m) => m.addr !== state.masterAddr && alive.has(m.addr))
        .map((m) =>
          this.opts.admin.fence(m.addr, { epoch }).then(
            (s) => ({ m, s, err: undefined }),
            (err: unknown) => ({ m, s: undefined, err: (err as Error).message }),
          ),
        ),
    );
    const unfenced = fenced.filter((f) => f.s === undefined);
    if (unfenced.some((f) => followers.includes(f.m))) {
      this.opts.logger.warn(
        {
          group: this.group.brokerName,
          master: state.masterAddr,
          epoch,
          unfenced: unfenced.map((f) => ({ addr: f.m.addr, err: f.err })),
        },
        'master is gone but a follower could not be fenced: it might still take writes from the old master; not promoting',
      );
      return;
    }
    const [best] = fenced
      .flatMap(({ m, s }) =>
        s !== undefined && followers.includes(m) && followed(s) ? [{ m, s }] : [],
      )
      .sort((a, b) => b.s.maxPhyOffset - a.s.maxPhyOffset || a.m.slaveId - b.m.slaveId);
    if (best === undefined) return;
    await this.promote(best.m.addr, best.s, epoch, 'failover', state.masterAddr);
  }

  private async runSwitchover(
    targetAddr: string | undefined,
  ): Promise<{ epoch: number; masterAddr: string }> {
    const state = this.state;
    const group = this.group.brokerName;
    if (state === undefined) throw new Error(`group ${group}: no master elected yet`);
    const alive = await this.probe();
    const master = alive.get(state.masterAddr);
    if (master?.role !== 'MASTER' || master.epoch !== state.epoch) {
      throw new Error(
        `group ${group}: the recorded master ${state.masterAddr} of epoch ${state.epoch} is not serving`,
      );
    }
    const inSync = this.group.members
      .filter((m) => m.addr !== state.masterAddr)
      .flatMap((m) => {
        const s = alive.get(m.addr);
        return s !== undefined && follows(s, state) ? [{ m, s }] : [];
      })
      .sort((a, b) => b.s.maxPhyOffset - a.s.maxPhyOffset || a.m.slaveId - b.m.slaveId);
    const target =
      targetAddr === undefined ? inSync[0] : inSync.find(({ m }) => m.addr === targetAddr);
    if (target === undefined) {
      throw new Error(
        targetAddr === undefined
          ? `group ${group}: no in-sync slave follows ${state.masterAddr} in epoch ${state.epoch}`
          : `group ${group}: ${targetAddr} is not an in-sync slave of ${state.masterAddr} in epoch ${state.epoch}`,
      );
    }
    const epoch = state.epoch + 1;
    const log = { group, master: state.masterAddr, target: target.m.addr, epoch };
    this.opts.logger.warn(log, 'switchover: fencing the master');
    let fenced = await this.opts.admin.fence(state.masterAddr, { epoch });
    const deadline = Date.now() + this.switchoverTimeoutMs;
    let caughtUp = target.s;
    // The fenced master writes nothing new, so its end stops moving; the target follows it. The
    // master's acknowledged offset is awaited too, so puts waiting for a slave are answered.
    while (
      caughtUp.maxPhyOffset < fenced.maxPhyOffset ||
      fenced.confirmOffset < fenced.maxPhyOffset
    ) {
      if (Date.now() >= deadline) {
        return this.abandonSwitchover(
          state.masterAddr,
          fenced,
          `${target.m.addr} holds ${caughtUp.maxPhyOffset} of ${fenced.maxPhyOffset} bytes after ${this.switchoverTimeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(50, this.probeIntervalMs)));
      // An unanswered poll counts as no progress; the deadline decides.
      [fenced, caughtUp] = await Promise.all([
        this.opts.admin.status(state.masterAddr).catch(() => fenced),
        this.opts.admin.status(target.m.addr).catch(() => caughtUp),
      ]);
    }
    try {
      await this.promote(target.m.addr, caughtUp, epoch, 'switchover', state.masterAddr);
    } catch (err) {
      // Recorded but perhaps never told: the old master, fenced with everything, takes over.
      return this.abandonSwitchover(
        state.masterAddr,
        fenced,
        `${target.m.addr} did not become master: ${(err as Error).message}`,
      );
    }
    const next = this.state!;
    const others = this.group.members.filter((m) => m.addr !== next.masterAddr);
    for (const m of others) {
      // A member that cannot be told now is re-pointed by the next probe round.
      await this.opts.admin
        .becomeSlave(m.addr, {
          epoch: next.epoch,
          brokerId: m.slaveId,
          masterAddr: next.masterAddr,
          masterHaAddr: caughtUp.haServerAddr,
        })
        .then(
          () => this.emit({ type: 'repointed', addr: m.addr, ...next }),
          (err: unknown) =>
            this.opts.logger.warn(
              { ...log, addr: m.addr, err: (err as Error).message },
              'switchover: could not re-point a member yet',
            ),
        );
    }
    return { epoch: next.epoch, masterAddr: next.masterAddr };
  }

  /** Gives the fenced master its writes back in an epoch above any recorded, and rejects. */
  private async abandonSwitchover(
    masterAddr: string,
    status: HaStatus,
    reason: string,
  ): Promise<never> {
    const group = this.group.brokerName;
    this.opts.logger.warn({ group, master: masterAddr, reason }, 'switchover abandoned');
    await this.promote(masterAddr, status, this.state!.epoch + 1, 'resumed');
    throw new Error(
      `group ${group}: switchover abandoned (${reason}); ${masterAddr} is master again`,
    );
  }

  /** Records the new epoch first, then tells the broker. */
  private async promote(
    addr: string,
    status: HaStatus,
    epoch: number,
    type: keyof typeof PROMOTION_LOG,
    oldMasterAddr = '',
  ): Promise<void> {
    const next = { epoch: Math.max(epoch, status.epoch + 1), masterAddr: addr };
    await this.opts.stateStore.save(this.group.brokerName, next);
    this.state = next;
    this.opts.logger.warn(
      { group: this.group.brokerName, ...next, oldMasterAddr, offset: status.maxPhyOffset },
      PROMOTION_LOG[type],
    );
    await this.opts.admin.becomeMaster(addr, {
      epoch: next.epoch,
      brokerRole: this.group.masterRole,
    });
    // A switchover (or its undoing) is reported as an election: the platform counts only
    // unplanned failovers.
    this.emit(
      type === 'failover'
        ? { type, epoch: next.epoch, masterAddr: addr, oldMasterAddr }
        : { type: 'elected', epoch: next.epoch, masterAddr: addr },
    );
  }

  private emit(e: FailoverEvent): void {
    for (const l of this.listeners) l(e);
  }
}

const PROMOTION_LOG = {
  elected: 'master elected',
  failover: 'failing over to a new master',
  switchover: 'switching over to a new master',
  resumed: 'switchover abandoned: the old master resumes in a new epoch',
} as const;

/** The member follows the recorded master of the recorded epoch and is not fenced. */
function follows(s: HaStatus, state: GroupFailoverState): boolean {
  return (
    s.role === 'SLAVE' &&
    s.epoch === state.epoch &&
    s.masterAddr === state.masterAddr &&
    s.fencedEpoch === 0
  );
}
