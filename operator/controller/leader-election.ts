import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger';
import { isApiError } from './kube-gateway';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  /** How often the holder renews and a candidate retries. */
  retryPeriodMs: number;
}

/**
 * A leader that has not renewed for this share of the lease duration steps down, so it stops
 * acting before a standby may take the Lease over (client-go: 10 s renew deadline, 15 s lease).
 */
const RENEW_DEADLINE_SHARE = 2 / 3;

/**
 * Leader election by a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
 * spec.renewTime; a candidate takes the Lease over once renewTime + leaseDurationSeconds has
 * passed. Every write is conditional on the resourceVersion read, so two candidates cannot both
 * win. A leader that cannot renew within the renew deadline steps down, even while a request
 * hangs. Rounds never overlap, and stop() waits for the one in flight, so a renewal that was
 * already on the wire cannot make a stopped elector lead again or keep the Lease after release.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly renewDeadlineMs: number;
  private timer: NodeJS.Timeout | undefined;
  private renewDeadline: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private leading = false;
  /** The last write made us the holder; stop() releases only then. */
  private holdsLease = false;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
    private readonly callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void },
    private readonly logger: Logger,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.renewDeadlineMs = options.leaseDurationSeconds * 1000 * RENEW_DEADLINE_SHARE;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.round = this.tick();
  }

  /** Stops campaigning; a holder releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.renewDeadline);
    // A request that hangs must not hang shutdown; the release below is conditional anyway.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      this.round,
      new Promise((r) => (waited = setTimeout(r, this.renewDeadlineMs))),
    ]);
    clearTimeout(waited);
    this.setLeading(false);
    if (this.holdsLease) await this.release();
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.leaseDurationSeconds = 1;
      await this.api.replaceNamespacedLease({ namespace, name, body: lease });
      this.holdsLease = false;
    } catch (err) {
      this.logger.warn({ err }, 'could not release the leader lease');
    }
  }

  private async tick(): Promise<void> {
    const startedAt = Date.now();
    try {
      this.holdsLease = await this.tryAcquireOrRenew(new Date(startedAt));
      if (this.holdsLease) this.renewed(startedAt);
      else this.setLeading(false);
    } catch (err) {
      // No step-down here: the renew deadline timer decides when a failing leader stops.
      this.logger.warn({ err: (err as Error).message }, 'leader election round failed');
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => (this.round = this.tick()), this.options.retryPeriodMs);
      this.timer.unref();
    }
  }

  /** Counts from when the round began: the Lease says renewTime = that moment, not later. */
  private renewed(startedAt: number): void {
    if (this.stopped) return;
    clearTimeout(this.renewDeadline);
    const remaining = this.renewDeadlineMs - (Date.now() - startedAt);
    this.renewDeadline = setTimeout(() => {
      this.logger.warn(
        { identity: this.options.identity, renewDeadlineMs: this.renewDeadlineMs },
        'leader lease not renewed within the renew deadline',
      );
      this.setLeading(false);
    }, remaining);
    this.renewDeadline.unref();
    this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.logger.info(
      { identity: this.options.identity, lease: this.options.name },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.callbacks.onStartedLeading();
    else this.callbacks.onStoppedLeading();
  }

  /** One conditional write; true when this candidate holds the Lease afterwards. */
  private async tryAcquireOrRenew(now: Date): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
      } catch (createErr) {
        if (isApiError(createErr, 409)) return false; // another candidate created it first
        throw createErr;
      }
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired =
      renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false;
    const takeover = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      ...(takeover ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.api.replaceNamespacedLease({ namespace, name, body: lease });
    } catch (err) {
      if (isApiError(err, 409)) return false;
      throw err;
    }
    return true;
  }
}
