import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { startHttpEndpoint, type HttpEndpoint } from '../common/http';
import type { Logger } from '../common/logger';
import { createRegistry } from '../common/metrics';
import { ClusterController } from './controller/controller';
import type { FailoverManagerOptions } from './failover/failover-manager';
import { createOperatorMetrics } from './controller/metrics';
import { LeaderElector } from './controller/leader-election';

const CONTROLLER_RESTART_MS = 2000;

/** Operator settings; from `-c operator.conf`, `RMQ_*` environment variables or `--key=value`. */
export function defaultOperatorConfig() {
  return {
    /** Namespace to watch; empty for all namespaces. */
    watchNamespace: '',
    /** Where the leader Lease lives. */
    leaseNamespace: 'default',
    leaseName: 'rocketmq-ts-operator',
    leaseDurationSeconds: 15,
    leaseRetryMs: 2000,
    httpHost: '0.0.0.0',
    /** /metrics, /healthz, /readyz; 0 picks a free port. */
    httpPort: 8080,
    /** Clusters reconciled at the same time. */
    concurrency: 2,
  };
}

export type OperatorConfig = ReturnType<typeof defaultOperatorConfig>;

/**
 * The operator process: the HTTP endpoint from the start, and the controller only while this
 * replica holds the Lease (a standby replica is live and ready, and waits).
 */
export class Operator {
  private readonly registry = createRegistry('operator');
  /** Outlive leadership changes: counters keep counting across controllers. */
  private readonly metrics = createOperatorMetrics(this.registry, {
    clusterCount: () => this.controller?.clusterCount ?? 0,
    isLeader: () => this.elector.isLeader,
    clusterReadiness: () => this.controller?.clusterReadiness() ?? [],
  });
  private readonly elector: LeaderElector;
  private controller: ClusterController | undefined;
  private http: HttpEndpoint | undefined;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly kc: KubeConfig,
    private readonly config: OperatorConfig,
    private readonly logger: Logger,
    /** How failover reaches brokers; tests running pods as local processes remap addresses. */
    private readonly failoverOptions: FailoverManagerOptions = {},
  ) {
    const identity = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.elector = new LeaderElector(
      kc,
      {
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity,
        leaseDurationSeconds: config.leaseDurationSeconds,
        retryPeriodMs: config.leaseRetryMs,
      },
      { onStartedLeading: () => this.lead(), onStoppedLeading: () => this.standDown() },
      logger,
    );
  }

  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** Resolves when the leading controller has nothing queued or running. */
  async idle(): Promise<void> {
    await this.transition;
    await this.controller?.idle();
  }

  async start(): Promise<void> {
    this.http = await startHttpEndpoint({
      host: this.config.httpHost,
      port: this.config.httpPort,
      registry: this.registry,
      // A standby is ready; a leader is ready once its watches have listed.
      ready: () => !this.elector.isLeader || (this.controller?.synced ?? false),
    });
    this.elector.start();
    this.logger.info(
      { httpPort: this.http.port, lease: this.config.leaseName },
      'operator started',
    );
  }

  async stop(): Promise<void> {
    await this.elector.stop();
    await this.transition;
    await this.http?.close();
  }

  private lead(): void {
    this.transition = this.transition.then(async () => {
      const controller = new ClusterController(
        this.kc,
        {
          namespace: this.config.watchNamespace || undefined,
          concurrency: this.config.concurrency,
          ...this.failoverOptions,
        },
        this.metrics,
        this.logger,
      );
      this.controller = controller;
      try {
        await controller.start();
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'controller failed to start; retrying');
        await controller.stop();
        this.controller = undefined;
        setTimeout(() => {
          if (this.elector.isLeader && !this.controller) this.lead();
        }, CONTROLLER_RESTART_MS).unref();
      }
    });
  }

  private standDown(): void {
    this.transition = this.transition.then(async () => {
      await this.controller?.stop();
      this.controller = undefined;
    });
  }
}
