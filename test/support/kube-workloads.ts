import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1StatefulSet,
} from '@kubernetes/client-node';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * Plays the StatefulSet controller and the kubelet once, for a test API server that runs none:
 * every StatefulSet in the namespace gets its pods (template labels, owned by the set) and one
 * PVC per volumeClaimTemplate and pod, all pods are marked Ready, surplus pods are deleted, and
 * the set's status reports them ready.
 */
export async function settleStatefulSets(kc: KubeConfig, namespace: string): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const sets = await apps.listNamespacedStatefulSet({ namespace });
  for (const sts of sets.items) await settle(apps, core, namespace, sts);
}

async function settle(
  apps: AppsV1Api,
  core: CoreV1Api,
  namespace: string,
  sts: V1StatefulSet,
): Promise<void> {
  const name = sts.metadata?.name ?? '';
  const replicas = sts.spec?.replicas ?? 1;
  const labels = sts.spec?.template.metadata?.labels ?? {};
  const existing = await core.listNamespacedPod({
    namespace,
    labelSelector: Object.entries(sts.spec?.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  });
  const have = new Set(existing.items.map((p) => p.metadata?.name));
  for (let ordinal = 0; ordinal < replicas; ordinal++) {
    const pod = `${name}-${ordinal}`;
    for (const template of sts.spec?.volumeClaimTemplates ?? []) {
      const claim = `${template.metadata?.name}-${pod}`;
      await core
        .createNamespacedPersistentVolumeClaim({
          namespace,
          body: {
            metadata: {
              name: claim,
              labels: { ...template.metadata?.labels, ...sts.spec?.selector.matchLabels },
            },
            spec: template.spec,
          },
        })
        .catch(() => undefined); // already there from an earlier settle
    }
    if (have.has(pod)) continue;
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: pod,
          labels: { ...labels, 'apps.kubernetes.io/pod-index': String(ordinal) },
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
        spec: sts.spec?.template.spec ?? { containers: [] },
      },
    });
    await core.patchNamespacedPodStatus(
      {
        namespace,
        name: pod,
        body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
      },
      mergePatch,
    );
  }
  for (const pod of existing.items) {
    const ordinal = Number(pod.metadata?.name?.slice(name.length + 1));
    if (ordinal >= replicas)
      await core.deleteNamespacedPod({ namespace, name: pod.metadata?.name ?? '' });
  }
  await apps.patchNamespacedStatefulSetStatus(
    {
      namespace,
      name,
      body: {
        status: {
          replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          observedGeneration: sts.metadata?.generation,
        },
      },
    },
    mergePatch,
  );
}
