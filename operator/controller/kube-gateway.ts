import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  API_GROUP,
  API_VERSION,
  KIND,
  API_GROUP_VERSION,
  PLURAL,
  type OperationStatus,
  type RocketMQCluster,
  type RocketMQClusterStatus,
} from '../api/types';
import type { DesiredObject } from '../reconcile/desired';
import { FIELD_MANAGER } from '../reconcile/names';

export const isApiError = (err: unknown, code: number) =>
  err instanceof ApiException && err.code === code;

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const clusterCoordinates = (namespace: string, name: string) => ({
  group: API_GROUP,
  version: API_VERSION,
  plural: PLURAL,
  namespace,
  name,
});

export type EventType = 'Normal' | 'Warning';

/** Every Kubernetes API call the controller makes, in one place. */
export class KubeGateway {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** The cluster, or undefined once it is gone. */
  async getCluster(namespace: string, name: string): Promise<RocketMQCluster | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject(
        clusterCoordinates(namespace, name),
      )) as RocketMQCluster;
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  listClusters(namespace: string | undefined): Promise<{ items: RocketMQCluster[] }> {
    const base = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
    return namespace === undefined
      ? this.custom.listClusterCustomObject(base)
      : this.custom.listNamespacedCustomObject({ ...base, namespace });
  }

  /** Server-side apply with the operator's field manager; force takes fields over from kubectl edits. */
  apply(object: DesiredObject): Promise<KubernetesObject> {
    return this.objects.patch(
      object,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  async deleteIfPresent(object: KubernetesObject): Promise<boolean> {
    try {
      await this.objects.delete(object);
      return true;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      throw err;
    }
  }

  /** Status through the status subresource, conditional on the resourceVersion we read. */
  patchStatus(cluster: RocketMQCluster, status: RocketMQClusterStatus): Promise<RocketMQCluster> {
    return this.custom.patchNamespacedCustomObjectStatus(
      {
        ...clusterCoordinates(cluster.metadata.namespace, cluster.metadata.name),
        body: { metadata: { resourceVersion: cluster.metadata.resourceVersion }, status },
      },
      mergePatch,
    ) as Promise<RocketMQCluster>;
  }

  /** Sets (or, with null, clears) status.operation, conditional on the resourceVersion read. */
  patchOperation(
    cluster: RocketMQCluster,
    operation: OperationStatus | null,
  ): Promise<RocketMQCluster> {
    return this.custom.patchNamespacedCustomObjectStatus(
      {
        ...clusterCoordinates(cluster.metadata.namespace, cluster.metadata.name),
        body: {
          metadata: { resourceVersion: cluster.metadata.resourceVersion },
          status: { operation },
        },
      },
      mergePatch,
    ) as Promise<RocketMQCluster>;
  }

  setFinalizers(cluster: RocketMQCluster, finalizers: string[]): Promise<RocketMQCluster> {
    return this.custom.patchNamespacedCustomObject(
      {
        ...clusterCoordinates(cluster.metadata.namespace, cluster.metadata.name),
        body: { metadata: { resourceVersion: cluster.metadata.resourceVersion, finalizers } },
      },
      mergePatch,
    ) as Promise<RocketMQCluster>;
  }

  async setPodLabel(namespace: string, pod: string, key: string, value: string): Promise<void> {
    await this.core.patchNamespacedPod(
      {
        namespace,
        name: pod,
        body: { metadata: { labels: { [key]: value } } },
        fieldManager: FIELD_MANAGER,
      },
      mergePatch,
    );
  }

  /** Pods matching the selector, as the API server has them now (not a watch cache). */
  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  /**
   * Deletes a pod (its StatefulSet recreates it from the current template), only if it is still
   * the pod of that uid: a pod already recreated is not deleted again.
   */
  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    await this.core.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } });
  }

  /** Deletes the PVCs matching the selector; returns their names. */
  async deleteClaims(namespace: string, labelSelector: string): Promise<string[]> {
    const claims = await this.core.listNamespacedPersistentVolumeClaim({
      namespace,
      labelSelector,
    });
    const names = claims.items.map((c) => c.metadata?.name ?? '').filter(Boolean);
    for (const name of names) {
      try {
        await this.core.deleteNamespacedPersistentVolumeClaim({ namespace, name });
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }
    return names;
  }

  /** A core/v1 Event on the cluster object, as `kubectl describe` shows them. */
  async event(
    cluster: RocketMQCluster,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: cluster.metadata.namespace,
      body: {
        metadata: {
          generateName: `${cluster.metadata.name}.`,
          namespace: cluster.metadata.namespace,
        },
        involvedObject: {
          apiVersion: API_GROUP_VERSION,
          kind: KIND,
          name: cluster.metadata.name,
          namespace: cluster.metadata.namespace,
          uid: cluster.metadata.uid,
          resourceVersion: cluster.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: FIELD_MANAGER },
        reportingComponent: FIELD_MANAGER,
      },
    });
  }
}
