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
 * Leader election by a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
 * spec.renewTime; a candidate takes the Lease over once renewTime + leaseDurationSeconds has
 * passed. Every write is conditional on the resourceVersion read, so two candidates cannot both
 * win. A leader that fails to renew within the lease duration steps down.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
    private readonly callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void },
    private readonly logger: Logger,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.api.readNamespacedLease({
        namespace: this.options.namespace,
        name: this.options.name,
      });
      if (lease.spec?.holderIdentity === this.options.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        await this.api.replaceNamespacedLease({
          namespace: this.options.namespace,
          name: this.options.name,
          body: lease,
        });
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not release the leader lease');
    }
  }

  private async tick(): Promise<void> {
    try {
      if (await this.tryAcquireOrRenew()) this.lastRenew = Date.now();
      else if (this.leading) this.setLeading(false);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'leader election round failed');
      if (this.leading && Date.now() - this.lastRenew > this.options.leaseDurationSeconds * 1000)
        this.setLeading(false);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs);
      this.timer.unref();
    }
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

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
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
      this.setLeading(true);
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
    this.setLeading(true);
    return true;
  }
}
