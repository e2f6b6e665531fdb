import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { isApiError } from '../../operator/controller/kube-gateway';
import { eventually } from '../operator/kube-wait';
import { ENVTEST_ASSETS_VARIABLE, Envtest, envtestAssets } from './envtest';
import { KubeApiServer } from './kube-api-server';
import type { Json } from './kube-patch';

/**
 * The Kubernetes API the operator tests talk to: our test API server always, and a real
 * kube-apiserver (envtest) too when $KUBEBUILDER_ASSETS names its binaries. The same test
 * bodies run against each; `describeEachKubeTarget` makes one describe block per target and
 * skips, with its reason in the title, a target this machine cannot run.
 */
export interface KubeTarget {
  readonly name: string;
  kubeConfig(namespace?: string): KubeConfig;
  /** The same as a kubeconfig document, for kubectl or a child process. */
  kubeconfigYaml(namespace?: string): string;
  /**
   * Whether objects whose owner is deleted are collected. Our test server does it; envtest runs
   * no kube-controller-manager, so tests play the garbage collector (collectOwnedBy).
   */
  readonly collectsGarbage: boolean;
  stop(): Promise<void>;
}

export interface KubeTargetKind {
  name: string;
  /** Why this target cannot run here; undefined when it can. */
  skipReason: string | undefined;
  /** Starts it; with `installCrds`, the CustomResourceDefinitions in crds/ are established. */
  start(options?: { installCrds?: boolean }): Promise<KubeTarget>;
}

const CRD_DIR = resolve(__dirname, '../../crds');

/** Every CustomResourceDefinition document in crds/. */
export function crdDocuments(): V1CustomResourceDefinition[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(CRD_DIR, f), 'utf8')))
    .map((doc) => doc.toJS() as V1CustomResourceDefinition);
}

/** Creates each CRD and waits until the API server reports it Established. */
export async function installCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crdDocuments()) {
    await api.createCustomResourceDefinition({ body: crd });
    const name = crd.metadata?.name ?? '';
    await eventually(`CRD ${name} established`, async () => {
      const current = await api.readCustomResourceDefinition({ name });
      return current.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
    });
  }
}

const testApiServer: KubeTargetKind = {
  name: 'the test API server',
  skipReason: undefined,
  async start({ installCrds: withCrds = true } = {}) {
    const api = await KubeApiServer.start();
    if (withCrds) for (const crd of crdDocuments()) api.installCrd(crd as unknown as Json);
    return {
      name: this.name,
      kubeConfig: (namespace) => api.kubeConfig(namespace),
      kubeconfigYaml: (namespace) => api.kubeconfigYaml(namespace),
      collectsGarbage: true,
      stop: () => api.stop(),
    };
  },
};

const envtest: KubeTargetKind = {
  name: 'kube-apiserver (envtest)',
  skipReason: envtestAssets()
    ? undefined
    : `${ENVTEST_ASSETS_VARIABLE} is not set; set it to a directory with etcd and kube-apiserver`,
  async start({ installCrds: withCrds = true } = {}) {
    const server = await Envtest.start(envtestAssets() ?? '');
    try {
      if (withCrds) await installCrds(server.kubeConfig());
    } catch (err) {
      await server.stop();
      throw err;
    }
    return {
      name: this.name,
      kubeConfig: (namespace) => server.kubeConfig(namespace),
      kubeconfigYaml: (namespace) => server.kubeconfigYaml(namespace),
      collectsGarbage: false,
      stop: () => server.stop(),
    };
  },
};

export const KUBE_TARGETS: readonly KubeTargetKind[] = [testApiServer, envtest];

/**
 * One describe block per target, titled `<title> against <target>`; a target that cannot run
 * here becomes a skipped block whose title gives the reason.
 */
export function describeEachKubeTarget(
  title: string,
  body: (kind: KubeTargetKind) => void,
  targets: readonly KubeTargetKind[] = KUBE_TARGETS,
): void {
  for (const kind of targets) {
    if (kind.skipReason)
      describe.skip(`${title} against ${kind.name}, skipped: ${kind.skipReason}`, () => body(kind));
    else describe(`${title} against ${kind.name}`, () => body(kind));
  }
}

const ownedBy = (meta: V1ObjectMeta | undefined, uids: Set<string>) =>
  (meta?.ownerReferences ?? []).some((ref) => uids.has(ref.uid));

/**
 * Plays the garbage collector for a target without one, for the kinds the operator creates:
 * deletes the StatefulSets, Services and ConfigMaps owned by `ownerUid`, then the pods of those
 * StatefulSets. Returns how many objects it deleted.
 */
export async function collectOwnedBy(
  kc: KubeConfig,
  namespace: string,
  ownerUid: string,
): Promise<number> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const owner = new Set([ownerUid]);
  const sets = (await apps.listNamespacedStatefulSet({ namespace })).items.filter((s) =>
    ownedBy(s.metadata, owner),
  );
  const services = (await core.listNamespacedService({ namespace })).items.filter((s) =>
    ownedBy(s.metadata, owner),
  );
  const maps = (await core.listNamespacedConfigMap({ namespace })).items.filter((c) =>
    ownedBy(c.metadata, owner),
  );
  const setUids = new Set(sets.map((s) => s.metadata?.uid ?? ''));
  const pods = (await core.listNamespacedPod({ namespace })).items.filter((p) =>
    ownedBy(p.metadata, setUids),
  );
  const name = (meta: V1ObjectMeta | undefined) => meta?.name ?? '';
  // Gone already is fine: that is what the deletion was for.
  const gone = (err: unknown) => {
    if (!isApiError(err, 404)) throw err;
  };
  await Promise.all([
    ...sets.map((s) =>
      apps.deleteNamespacedStatefulSet({ namespace, name: name(s.metadata) }).catch(gone),
    ),
    ...services.map((s) =>
      core.deleteNamespacedService({ namespace, name: name(s.metadata) }).catch(gone),
    ),
    ...maps.map((c) =>
      core.deleteNamespacedConfigMap({ namespace, name: name(c.metadata) }).catch(gone),
    ),
    ...pods.map((p) =>
      core
        .deleteNamespacedPod({ namespace, name: name(p.metadata), gracePeriodSeconds: 0 })
        .catch(gone),
    ),
  ]);
  return sets.length + services.length + maps.length + pods.length;
}
