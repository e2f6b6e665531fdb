import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { KubeApiServer } from '../support/kube-api-server';

/** The test API server, driven by the real @kubernetes/client-node. */

let api: KubeApiServer;
let objects: KubernetesObjectApi;
let core: CoreV1Api;

beforeAll(async () => {
  api = await KubeApiServer.start();
  const kc = api.kubeConfig();
  objects = KubernetesObjectApi.makeApiClient(kc);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(() => api.stop());

const configMap = (
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {},
): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels },
  data,
});

async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('discovery lets the generic object client find core and grouped kinds', async () => {
  const created = await objects.create(configMap('disco', { a: '1' }));
  expect(created.metadata?.uid).toBeTruthy();
  const read = (await objects.read({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'disco', namespace: 'default' },
  })) as V1ConfigMap;
  expect(read.data).toEqual({ a: '1' });
  const lease = await objects.create<KubernetesObject>({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'l', namespace: 'default' },
  });
  expect(lease.metadata?.resourceVersion).toMatch(/^\d+$/);
  expect(api.requestLog).toContain('GET /apis/coordination.k8s.io/v1');
});

test('create conflicts, stale updates conflict, missing objects are 404, unknown namespaces refused', async () => {
  await objects.create(configMap('crud', { v: '1' }));
  expect(await codeOf(objects.create(configMap('crud', { v: '1' })))).toBe(409);
  const current = (await core.readNamespacedConfigMap({
    name: 'crud',
    namespace: 'default',
  })) as V1ConfigMap;
  const updated = await core.replaceNamespacedConfigMap({
    name: 'crud',
    namespace: 'default',
    body: { ...current, data: { v: '2' } },
  });
  expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
    Number(current.metadata?.resourceVersion),
  );
  expect(
    await codeOf(
      core.replaceNamespacedConfigMap({
        name: 'crud',
        namespace: 'default',
        body: { ...current, data: { v: '3' } },
      }),
    ),
  ).toBe(409);
  expect(await codeOf(core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }))).toBe(
    404,
  );
  expect(
    await codeOf(core.createNamespacedConfigMap({ namespace: 'ghost', body: configMap('x', {}) })),
  ).toBe(404);
});

test('label selectors filter lists', async () => {
  await objects.create(configMap('sel-a', {}, { app: 'x', tier: 'web' }));
  await objects.create(configMap('sel-b', {}, { app: 'x', tier: 'db' }));
  await objects.create(configMap('sel-c', {}, { app: 'y' }));
  const names = async (labelSelector: string) =>
    (await core.listNamespacedConfigMap({ namespace: 'default', labelSelector })).items
      .map((i) => i.metadata?.name)
      .sort();
  expect(await names('app=x')).toEqual(['sel-a', 'sel-b']);
  expect(await names('app=x,tier!=web')).toEqual(['sel-b']);
  expect(await names('tier in (web,db)')).toEqual(['sel-a', 'sel-b']);
  expect(await names('app,!tier')).toEqual(['sel-c']);
  expect(await codeOf(names('app in x'))).toBe(400);
});

test('merge patch and JSON patch', async () => {
  await objects.create(configMap('patched', { a: '1', b: '2' }));
  const merged = (await objects.patch(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'patched', namespace: 'default' },
      data: { a: '9', b: null },
    } as unknown as KubernetesObject,
    undefined,
    undefined,
    undefined,
    undefined,
    PatchStrategy.MergePatch,
  )) as V1ConfigMap;
  expect(merged.data).toEqual({ a: '9' });
  const jsonPatched = await core.patchNamespacedConfigMap(
    { name: 'patched', namespace: 'default', body: [{ op: 'add', path: '/data/c', value: '3' }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  expect(jsonPatched.data).toEqual({ a: '9', c: '3' });
});

test('server-side apply: field ownership, removal of dropped fields, conflicts and force', async () => {
  const apply = (data: Record<string, string>, manager: string, force = false) =>
    objects.patch(
      configMap('applied', data),
      undefined,
      undefined,
      manager,
      force,
      PatchStrategy.ServerSideApply,
    ) as Promise<V1ConfigMap>;
  expect((await apply({ a: '1', b: '2' }, 'one')).data).toEqual({ a: '1', b: '2' });
  expect((await apply({ a: '1' }, 'one')).data).toEqual({ a: '1' });
  const other = await apply({ c: '3' }, 'two');
  expect(other.data).toEqual({ a: '1', c: '3' });
  expect(other.metadata?.managedFields?.map((f) => f.manager).sort()).toEqual(['one', 'two']);
  expect(await codeOf(apply({ a: 'changed' }, 'two'))).toBe(409);
  expect((await apply({ a: 'changed', c: '3' }, 'two', true)).data).toEqual({
    a: 'changed',
    c: '3',
  });
  // "one" lost field a to the forced apply, so dropping it now leaves it alone.
  expect((await apply({}, 'one')).data).toEqual({ a: 'changed', c: '3' });
});

test('watch streams events from a resourceVersion; the informer keeps a cache', async () => {
  const start = await core.listNamespacedConfigMap({ namespace: 'default' });
  const seen: string[] = [];
  const watch = new Watch(api.kubeConfig());
  const request = await watch.watch(
    '/api/v1/namespaces/default/configmaps',
    { resourceVersion: start.metadata?.resourceVersion, labelSelector: 'watched=yes' },
    (type, obj: V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`),
    () => undefined,
  );
  const informer = makeInformer(
    api.kubeConfig(),
    '/api/v1/namespaces/default/configmaps',
    () => core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'watched=yes' }),
    'watched=yes',
  );
  const informed: string[] = [];
  informer.on('add', (o) => informed.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => informed.push(`update ${o.metadata?.name}`));
  informer.on('delete', (o) => informed.push(`delete ${o.metadata?.name}`));
  await informer.start();
  await objects.create(configMap('w1', { x: '1' }, { watched: 'yes' }));
  await objects.create(configMap('unwatched', {}));
  await core.patchNamespacedConfigMap(
    { name: 'w1', namespace: 'default', body: { data: { x: '2' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'default' });
  await eventually(() => seen.length === 3 && informed.length === 3);
  expect(seen).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
  expect(informed).toEqual(['add w1', 'update w1', 'delete w1']);
  expect(informer.list()).toEqual([]);
  request.abort();
  await informer.stop();
});

test('CRDs become served types with defaults, validation and a status subresource', async () => {
  // client-node's typed serializer drops schema keys it spells differently (`default`), so a CRD
  // is installed the way kubectl does it: the JSON document as is.
  api.installCrd({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.dev' },
    spec: {
      group: 'example.dev',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer', minimum: 1, default: 3 },
                    color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
                  },
                },
                status: { type: 'object', properties: { phase: { type: 'string' } } },
              },
            },
          },
        },
      ],
    },
  });
  const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const coords = { group: 'example.dev', version: 'v1', namespace: 'default', plural: 'widgets' };
  const created = await custom.createNamespacedCustomObject({
    ...coords,
    body: { apiVersion: 'example.dev/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} },
  });
  expect(created.spec).toEqual({ size: 3, color: 'red' });
  expect(created.metadata.generation).toBe(1);
  const invalid = custom.createNamespacedCustomObject({
    ...coords,
    body: {
      apiVersion: 'example.dev/v1',
      kind: 'Widget',
      metadata: { name: 'bad' },
      spec: { size: 0, color: 'green' },
    },
  });
  expect(await codeOf(invalid)).toBe(422);

  const withStatus = await custom.patchNamespacedCustomObjectStatus(
    { ...coords, name: 'w', body: { status: { phase: 'Running' }, spec: { size: 99 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(withStatus.status).toEqual({ phase: 'Running' });
  expect(withStatus.spec.size).toBe(3);
  expect(withStatus.metadata.generation).toBe(1);
  const main = await custom.patchNamespacedCustomObject(
    { ...coords, name: 'w', body: { status: { phase: 'Ignored' }, spec: { size: 5 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(main.status).toEqual({ phase: 'Running' });
  expect(main.spec.size).toBe(5);
  expect(main.metadata.generation).toBe(2);
});

test('finalizers hold deletion; owner references garbage-collect dependents', async () => {
  const owner = await objects.create(configMap('owner', {}));
  await objects.create({
    ...configMap('dependent', {}),
    metadata: {
      name: 'dependent',
      namespace: 'default',
      finalizers: ['example.dev/hold'],
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' },
      ],
    },
  });
  await core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'default' });
  await eventually(async () => {
    const dep = await core.readNamespacedConfigMap({ name: 'dependent', namespace: 'default' });
    return dep.metadata?.deletionTimestamp !== undefined;
  });
  await core.patchNamespacedConfigMap(
    { name: 'dependent', namespace: 'default', body: { metadata: { finalizers: null } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(
    await codeOf(core.readNamespacedConfigMap({ name: 'dependent', namespace: 'default' })),
  ).toBe(404);
});

test('deleting a namespace deletes what is in it', async () => {
  await core.createNamespace({ body: { metadata: { name: 'scratch' } } });
  await core.createNamespacedConfigMap({ namespace: 'scratch', body: configMap('inside', {}) });
  await core.deleteNamespace({ name: 'scratch' });
  expect(await codeOf(core.readNamespacedConfigMap({ name: 'inside', namespace: 'scratch' }))).toBe(
    404,
  );
});
