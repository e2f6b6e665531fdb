import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { parseProperties } from '../../common/config';
import { PodNetwork } from './kube-pod-network';
import {
  createStatefulSetPod,
  ordinalOf,
  setPodReady,
  setStatefulSetStatus,
} from './kube-workloads';
import { removeDir, startCli, type RunningProcess } from './processes';

/** One pod's container: the real namesrv or broker process. */
interface Container {
  podUid: string;
  proc: RunningProcess | undefined;
  /** The process's /readyz, known once it logged that it started. */
  readyUrl: string | undefined;
  ready: boolean;
  restarts: number;
  /** The pod's terminationGracePeriodSeconds, in ms. */
  graceMs: number;
}

const TICK_MS = 150;

/** SIGTERM, then SIGKILL once the grace period is over, as a kubelet stops a deleted pod. */
async function terminate(proc: RunningProcess, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'over'>((resolve) => {
    timer = setTimeout(() => resolve('over'), graceMs);
  });
  const outcome = await Promise.race([proc.stop(), graceOver]);
  clearTimeout(timer);
  if (outcome === 'over') await proc.kill();
}

/**
 * The StatefulSet controller and a kubelet for the test API server that run each pod's real
 * process: the compiled CLI with the pod's container args, `$(POD_NAME)` expanded and the config
 * file read from the pod's ConfigMap volume. Addresses are remapped through a {@link PodNetwork}:
 * the process listens on loopback at the port the pod's DNS name maps to (brokerIP1=127.0.0.1),
 * and namesrvAddr is rewritten to those ports. Store directories belong to the PVC, so a
 * recreated pod finds its data. Readiness is the process's /readyz. Deleting a pod stops its
 * process with SIGTERM (SIGKILL after the pod's termination grace period) before a pod of the
 * same name is created again from the StatefulSet's current template — pods are never replaced
 * because the template changed (OnDelete); a lost node is {@link powerOff} (SIGKILL). A process
 * that exits on its own is restarted.
 */
export class LocalKubelet {
  readonly network = new PodNetwork();
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly containers = new Map<string, Container>();
  private readonly root = mkdtempSync(join(tmpdir(), 'rmqts-kubelet-'));
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Pods whose node is down: no process, not ready, until powered on again. */
  private readonly down = new Set<string>();

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  start(): void {
    this.timer = setInterval(
      () => void this.serialized(() => this.tick()).catch(() => undefined),
      TICK_MS,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await Promise.all([...this.containers.values()].map((c) => c.proc?.kill()));
    this.containers.clear();
    removeDir(this.root);
  }

  /**
   * The pod's node goes down: its process is SIGKILLed and nothing runs it (the pod stays, not
   * ready) until {@link powerOn}, as when a node is lost rather than a pod deleted.
   */
  powerOff(pod: string): Promise<void> {
    return this.serialized(async () => {
      this.down.add(pod);
      const c = this.containers.get(pod);
      this.containers.delete(pod);
      await c?.proc?.kill();
    });
  }

  powerOn(pod: string): Promise<void> {
    return this.serialized(async () => {
      this.down.delete(pod);
    });
  }

  private serialized(work: () => Promise<void>): Promise<void> {
    const done = this.running.then(work);
    this.running = done.catch(() => undefined);
    return done;
  }

  /** The running process of a pod, e.g. to read its logs. */
  process(pod: string): RunningProcess | undefined {
    return this.containers.get(pod)?.proc;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const namespace = this.namespace;
    const sets = (await this.apps.listNamespacedStatefulSet({ namespace })).items;
    const pods = (await this.core.listNamespacedPod({ namespace })).items;
    const live = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
    // Pods that are gone (or replaced by a new pod of the same name) lose their process.
    for (const [name, c] of this.containers) {
      if (live.get(name)?.metadata?.uid !== c.podUid) {
        this.containers.delete(name);
        if (c.proc !== undefined) await terminate(c.proc, c.graceMs);
      }
    }
    for (const sts of sets) {
      const replicas = sts.spec?.replicas ?? 1;
      const mine = pods.filter((p) => p.metadata?.ownerReferences?.[0]?.uid === sts.metadata?.uid);
      const have = new Set(mine.map((p) => ordinalOf(sts, p)));
      for (let ordinal = 0; ordinal < replicas; ordinal++) {
        if (!have.has(ordinal)) await createStatefulSetPod(this.core, namespace, sts, ordinal);
      }
      for (const pod of mine) {
        if (ordinalOf(sts, pod) >= replicas) {
          await this.core.deleteNamespacedPod({ namespace, name: pod.metadata?.name ?? '' });
        } else if (this.down.has(pod.metadata?.name ?? '')) {
          if (pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) {
            await setPodReady(this.core, namespace, pod.metadata?.name ?? '', false);
          }
        } else {
          await this.run(sts, pod);
        }
      }
      const ready = mine.filter(
        (p) => ordinalOf(sts, p) < replicas && this.containers.get(p.metadata?.name ?? '')?.ready,
      ).length;
      const current = mine.filter((p) => ordinalOf(sts, p) < replicas).length;
      if (sts.status?.readyReplicas !== ready || sts.status?.replicas !== current) {
        await setStatefulSetStatus(this.apps, sts, current, ready);
      }
    }
  }

  /** Starts the pod's process when it has none (or it exited) and reports its readiness. */
  private async run(sts: V1StatefulSet, pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    let c = this.containers.get(name);
    if (c === undefined) {
      c = {
        podUid: pod.metadata?.uid ?? '',
        proc: undefined,
        readyUrl: undefined,
        ready: false,
        restarts: 0,
        graceMs: (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000,
      };
      this.containers.set(name, c);
    }
    const exited =
      c.proc !== undefined && (c.proc.child.exitCode !== null || c.proc.child.signalCode !== null);
    if (c.proc === undefined || exited) {
      if (exited) c.restarts++;
      c.readyUrl = undefined;
      c.proc = await this.launch(sts, pod);
      const container = c;
      const proc = c.proc;
      void proc
        .waitForLog((l) => l.msg === 'broker started' || l.msg === 'name server started', 60_000)
        .then(
          (line) => {
            if (container.proc === proc)
              container.readyUrl = `http://127.0.0.1:${String(line.httpPort)}/readyz`;
          },
          () => undefined,
        );
    }
    const ready =
      c.readyUrl !== undefined &&
      (await fetch(c.readyUrl, { signal: AbortSignal.timeout(500) }).then(
        (r) => r.ok,
        () => false,
      ));
    const reported = pod.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
    c.ready = ready;
    if (ready !== reported || pod.status?.phase !== 'Running') {
      await setPodReady(this.core, this.namespace, name, ready);
    }
  }

  /** The container's args with the config file taken from the ConfigMap and ports remapped. */
  private async launch(sts: V1StatefulSet, pod: V1Pod): Promise<RunningProcess> {
    const name = pod.metadata?.name ?? '';
    const container = pod.spec?.containers[0];
    const args = (container?.args ?? []).map((a) => a.replaceAll('$(POD_NAME)', name));
    const [verb] = args;
    if (verb !== 'broker' && verb !== 'namesrv') {
      throw new Error(
        `pod ${name}: the local kubelet runs "broker" or "namesrv" args, got ${args.join(' ')}`,
      );
    }
    const podDir = join(this.root, 'pods', name);
    mkdirSync(podDir, { recursive: true });
    const configArg = args.indexOf('-c');
    const conf = configArg >= 0 ? await this.configFile(pod, args[configArg + 1]) : {};
    const localConf = join(podDir, 'local.conf');
    writeFileSync(
      localConf,
      Object.entries(conf)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const dns = `${name}.${sts.spec?.serviceName}.${this.namespace}.svc`;
    const containerPort = Number(conf.listenPort ?? (verb === 'broker' ? 10911 : 9876));
    const port = await this.network.portFor(dns, containerPort);
    const flags: Record<string, string | number> = {
      listenPort: port,
      bindAddress: '127.0.0.1',
      httpPort: 0,
    };
    if (verb === 'broker') {
      // Every NameServer in namesrvAddr gets its port now, even one whose pod does not exist yet.
      for (const addr of (conf.namesrvAddr ?? '').split(';').filter(Boolean)) {
        const [host, p] = addr.split(':');
        await this.network.portFor(host, Number(p));
      }
      const claim = `${sts.spec?.volumeClaimTemplates?.[0]?.metadata?.name ?? 'store'}-${name}`;
      flags.brokerIP1 = '127.0.0.1';
      flags.namesrvAddr = this.network.resolveList(conf.namesrvAddr ?? '');
      flags.storePathRootDir = join(this.root, 'claims', claim);
    } else {
      flags.kvConfigPath = join(podDir, 'kvConfig.json');
    }
    const cli = [
      verb,
      ...(configArg >= 0 ? ['-c', localConf] : []),
      ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`),
    ];
    return startCli(cli, { LOG_LEVEL: 'info' });
  }

  /** The key/values of the file `path` as mounted from the pod's ConfigMap volume. */
  private async configFile(pod: V1Pod, path: string): Promise<Record<string, string>> {
    const mount = pod.spec?.containers[0].volumeMounts?.find((m) =>
      path.startsWith(`${m.mountPath}/`),
    );
    const volume = pod.spec?.volumes?.find((v) => v.name === mount?.name);
    const configMap = volume?.configMap?.name;
    if (!mount || !configMap)
      throw new Error(`pod ${pod.metadata?.name}: ${path} is not on a ConfigMap volume`);
    const cm = await this.core.readNamespacedConfigMap({
      namespace: this.namespace,
      name: configMap,
    });
    const text = cm.data?.[path.slice(mount.mountPath.length + 1)];
    if (text === undefined) throw new Error(`ConfigMap ${configMap} has no ${path}`);
    return Object.fromEntries(parseProperties(text));
  }
}
