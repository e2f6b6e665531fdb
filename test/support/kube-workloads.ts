import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** `k=v,…` from a StatefulSet's matchLabels. */
export const selectorOf = (sts: V1StatefulSet) =>
  Object.entries(sts.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** The ordinal of a StatefulSet pod (`<set>-<ordinal>`). */
export const ordinalOf = (sts: V1StatefulSet, pod: V1Pod) =>
  Number(pod.metadata?.name?.slice((sts.metadata?.name ?? '').length + 1));

/**
 * What the StatefulSet controller does for one missing pod: its PVCs (one per
 * volumeClaimTemplate, kept when they exist) and the pod, labelled and owned by the set.
 */
export async function createStatefulSetPod(
  core: CoreV1Api,
  namespace: string,
  sts: V1StatefulSet,
  ordinal: number,
): Promise<void> {
  const name = sts.metadata?.name ?? '';
  const pod = `${name}-${ordinal}`;
  for (const template of sts.spec?.volumeClaimTemplates ?? []) {
    await core
      .createNamespacedPersistentVolumeClaim({
        namespace,
        body: {
          metadata: {
            name: `${template.metadata?.name}-${pod}`,
            labels: { ...template.metadata?.labels, ...sts.spec?.selector.matchLabels },
          },
          spec: template.spec,
        },
      })
      .catch(() => undefined); // already there from an earlier pod
  }
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name: pod,
        labels: {
          ...sts.spec?.template.metadata?.labels,
          'apps.kubernetes.io/pod-index': String(ordinal),
        },
        annotations: sts.spec?.template.metadata?.annotations,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name,
            uid: sts.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: {
        ...(sts.spec?.template.spec ?? { containers: [] }),
        hostname: pod,
        subdomain: sts.spec?.serviceName,
      },
    },
  });
}

export async function setPodReady(
  core: CoreV1Api,
  namespace: string,
  name: string,
  ready: boolean,
): Promise<void> {
  await core.patchNamespacedPodStatus(
    {
      namespace,
      name,
      body: {
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        },
      },
    },
    mergePatch,
  );
}

export async function setStatefulSetStatus(
  apps: AppsV1Api,
  sts: V1StatefulSet,
  replicas: number,
  readyReplicas: number,
): Promise<void> {
  await apps.patchNamespacedStatefulSetStatus(
    {
      namespace: sts.metadata?.namespace ?? '',
      name: sts.metadata?.name ?? '',
      body: {
        status: {
          replicas,
          readyReplicas,
          availableReplicas: readyReplicas,
          observedGeneration: sts.metadata?.generation,
        },
      },
    },
    mergePatch,
  );
}

/**
 * Plays the StatefulSet controller and the kubelet once, for a test API server that runs none:
 * every StatefulSet in the namespace gets its pods and PVCs, all pods are marked Ready without
 * running anything, surplus pods are deleted, and the set's status reports them ready. (For pods
 * that run the real processes, see LocalKubelet in kube-kubelet.ts.)
 */
export async function settleStatefulSets(kc: KubeConfig, namespace: string): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const sets = await apps.listNamespacedStatefulSet({ namespace });
  for (const sts of sets.items) {
    const replicas = sts.spec?.replicas ?? 1;
    const existing = await core.listNamespacedPod({ namespace, labelSelector: selectorOf(sts) });
    const have = new Set(existing.items.map((p) => ordinalOf(sts, p)));
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      if (have.has(ordinal)) continue;
      await createStatefulSetPod(core, namespace, sts, ordinal);
      await setPodReady(core, namespace, `${sts.metadata?.name}-${ordinal}`, true);
    }
    for (const pod of existing.items) {
      if (ordinalOf(sts, pod) >= replicas)
        await core.deleteNamespacedPod({ namespace, name: pod.metadata?.name ?? '' });
    }
    await setStatefulSetStatus(apps, sts, replicas, replicas);
  }
}
