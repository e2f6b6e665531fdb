import { randomUUID } from 'node:crypto';
import { applyDefaults, type SchemaProps } from '../../operator/api/schema-types';
import { parseLabelSelector, type LabelPredicate } from './kube-label-selector';
import {
  isObject,
  jsonPatch,
  type Json,
  type JsonObject,
  managedFields,
  mergePatch,
  type Ownership,
  PatchError,
  recordUpdate,
  serverSideApply,
} from './kube-patch';
import { BUILTIN_TYPES, groupVersionOf, type ResourceType, typeKey } from './kube-resources';
import { schemaErrors } from '../../operator/api/schema-check';
import type { PrinterColumn } from './kube-table';

/** An error the API returns as a metav1.Status. */
export class ApiError extends PatchError {}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
  type: WatchEventType;
  object: JsonObject;
}

interface Stored {
  object: JsonObject;
  ownership: Ownership;
}

interface HistoryEntry {
  rv: number;
  key: string;
  event: WatchEvent;
}

interface Watcher {
  key: string;
  namespace: string | undefined;
  matches: LabelPredicate;
  send(event: WatchEvent): void;
}

export interface WriteOptions {
  subresource?: 'status';
  fieldManager?: string;
  force?: boolean;
}

const meta = (o: JsonObject) => o.metadata as JsonObject;
const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
/** Everything but metadata and status: a change here bumps metadata.generation. */
const specPart = (o: JsonObject) =>
  JSON.stringify({ ...o, metadata: undefined, status: undefined });

/**
 * The state of the test API server: typed object collections with a global resourceVersion,
 * an event history for watches, finalizers, owner-reference garbage collection, CRDs that
 * register new types, defaulting and validation from CRD schemas.
 */
export class KubeStore {
  private readonly types = new Map<string, ResourceType>();
  private readonly objects = new Map<string, Map<string, Stored>>();
  private readonly history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private revision = 1;

  constructor() {
    for (const t of BUILTIN_TYPES) this.register(t);
    for (const ns of ['default', 'kube-system']) {
      this.create(this.requireType('', 'v1', 'namespaces'), undefined, { metadata: { name: ns } });
    }
  }

  allTypes(): ResourceType[] {
    return [...this.types.values()];
  }

  findType(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(typeKey(group, version, plural));
  }

  requireType(group: string, version: string, plural: string): ResourceType {
    const t = this.findType(group, version, plural);
    if (!t)
      throw new ApiError(
        `the server could not find the requested resource (${plural})`,
        404,
        'NotFound',
      );
    return t;
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  list(
    type: ResourceType,
    namespace: string | undefined,
    labelSelector?: string | null,
    fieldSelector?: string | null,
  ) {
    const matches = this.selector(labelSelector);
    const fields = parseFieldSelector(fieldSelector);
    const items = [...this.collection(type).values()]
      .map((s) => this.render(type, s))
      .filter((o) => namespace === undefined || meta(o).namespace === namespace)
      .filter((o) => matches(meta(o).labels as Record<string, string> | undefined) && fields(o));
    return {
      apiVersion: groupVersionOf(type),
      kind: `${type.kind}List`,
      metadata: { resourceVersion: this.resourceVersion },
      items,
    };
  }

  get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    return this.render(type, this.stored(type, namespace, name));
  }

  create(
    type: ResourceType,
    namespace: string | undefined,
    body: Json,
    options: WriteOptions = {},
  ): JsonObject {
    if (!isObject(body) || !isObject(body.metadata))
      throw new ApiError('object has no metadata', 400, 'BadRequest');
    const m = { ...body.metadata };
    if (!m.name && typeof m.generateName === 'string')
      m.name = `${m.generateName}${randomUUID().slice(0, 5)}`;
    if (typeof m.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(m.name)) {
      throw new ApiError(`metadata.name: Invalid value: ${JSON.stringify(m.name)}`, 422, 'Invalid');
    }
    const ns = type.namespaced
      ? (namespace ?? (m.namespace as string | undefined) ?? 'default')
      : undefined;
    if (
      ns !== undefined &&
      !this.collection(this.requireType('', 'v1', 'namespaces')).has(objectKey(undefined, ns))
    ) {
      throw new ApiError(`namespaces "${ns}" not found`, 404, 'NotFound');
    }
    const items = this.collection(type);
    if (items.has(objectKey(ns, m.name))) {
      throw new ApiError(`${type.plural} "${m.name}" already exists`, 409, 'AlreadyExists');
    }
    const now = nowIso();
    const object = this.prepare(type, {
      ...body,
      apiVersion: groupVersionOf(type),
      kind: type.kind,
      metadata: {
        ...m,
        ...(ns !== undefined ? { namespace: ns } : {}),
        uid: randomUUID(),
        creationTimestamp: now,
        generation: 1,
        resourceVersion: '',
        managedFields: null,
      },
    });
    delete meta(object).managedFields;
    if (type.kind === 'CustomResourceDefinition') this.establish(object);
    const stored: Stored = { object, ownership: new Map() };
    recordUpdate({}, object, stored.ownership, options.fieldManager ?? 'unknown', now);
    items.set(objectKey(ns, m.name), stored);
    this.emit(type, 'ADDED', stored);
    return this.render(type, stored);
  }

  /** PUT: a full replacement, conditional on metadata.resourceVersion when given. */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: Json,
    options: WriteOptions = {},
  ): JsonObject {
    if (!isObject(body) || !isObject(body.metadata))
      throw new ApiError('object has no metadata', 400, 'BadRequest');
    const stored = this.stored(type, namespace, name);
    const rv = body.metadata.resourceVersion;
    if (rv && rv !== meta(stored.object).resourceVersion) {
      throw new ApiError(
        `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        409,
        'Conflict',
      );
    }
    return this.write(type, stored, body, options);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    patch: Json,
    options: WriteOptions = {},
  ): JsonObject {
    const isApply = contentType.startsWith('application/apply-patch');
    const existing = this.collection(type).get(
      objectKey(type.namespaced ? namespace : undefined, name),
    );
    if (isApply) {
      if (!options.fieldManager)
        throw new ApiError('fieldManager is required for apply requests', 422, 'Invalid');
      if (!isObject(patch)) throw new ApiError('apply patch must be an object', 400, 'BadRequest');
      // Status is applied only through the status subresource, spec only through the main one.
      const config =
        options.subresource === 'status'
          ? { metadata: patch.metadata ?? {}, status: patch.status ?? {} }
          : { ...patch };
      if (type.statusSubresource && options.subresource !== 'status') delete config.status;
      if (!existing) {
        const created = this.create(type, namespace, config, options);
        const stored = this.stored(type, namespace, name);
        stored.ownership.clear();
        serverSideApply(
          stored.object,
          config as JsonObject,
          stored.ownership,
          options.fieldManager,
          true,
          nowIso(),
        );
        return created;
      }
      const next = serverSideApply(
        existing.object,
        config as JsonObject,
        existing.ownership,
        options.fieldManager,
        options.force ?? false,
        nowIso(),
      );
      return this.write(type, existing, next, options, false);
    }
    if (!existing) throw new ApiError(`${type.plural} "${name}" not found`, 404, 'NotFound');
    let next: Json;
    if (contentType.startsWith('application/json-patch+json'))
      next = jsonPatch(existing.object, patch);
    else if (
      contentType.startsWith('application/merge-patch+json') ||
      contentType.startsWith('application/strategic-merge-patch+json')
    ) {
      next = mergePatch(existing.object, patch);
    } else
      throw new ApiError(
        `the body of the request was in an unknown format: ${contentType}`,
        415,
        'UnsupportedMediaType',
      );
    if (isObject(next) && isObject(next.metadata)) {
      const rv =
        (isObject(patch) && isObject(patch.metadata) && patch.metadata.resourceVersion) ||
        undefined;
      if (rv && rv !== meta(existing.object).resourceVersion) {
        throw new ApiError(
          `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified`,
          409,
          'Conflict',
        );
      }
    }
    return this.write(type, existing, next, options);
  }

  /** DELETE: with finalizers the object only gets a deletionTimestamp until they are removed. */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    propagationPolicy = 'Background',
  ): JsonObject {
    const stored = this.stored(type, namespace, name);
    const m = meta(stored.object);
    if (Array.isArray(m.finalizers) && m.finalizers.length > 0) {
      if (!m.deletionTimestamp) {
        m.deletionTimestamp = nowIso();
        m.deletionGracePeriodSeconds = 0;
        this.emit(type, 'MODIFIED', stored);
      }
      return this.render(type, stored);
    }
    this.remove(type, stored, propagationPolicy === 'Orphan');
    return {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Success',
      details: { name, kind: type.plural, uid: m.uid },
    };
  }

  /** Sends events from `sinceVersion` on (or the current objects as ADDED when absent); returns the unsubscribe. */
  watch(
    type: ResourceType,
    namespace: string | undefined,
    labelSelector: string | null,
    sinceVersion: string | null,
    send: (event: WatchEvent) => void,
  ): () => void {
    const key = typeKey(type.group, type.version, type.plural);
    const watcher: Watcher = { key, namespace, matches: this.selector(labelSelector), send };
    if (!sinceVersion || sinceVersion === '0') {
      for (const item of this.list(type, namespace, labelSelector).items)
        send({ type: 'ADDED', object: item });
    } else {
      const since = Number(sinceVersion);
      if (!Number.isFinite(since))
        throw new ApiError(`invalid resourceVersion ${sinceVersion}`, 400, 'BadRequest');
      for (const entry of this.history)
        if (entry.rv > since && entry.key === key) this.deliver(watcher, entry.event);
    }
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private selector(labelSelector: string | null | undefined): LabelPredicate {
    try {
      return parseLabelSelector(labelSelector);
    } catch (err) {
      throw new ApiError((err as Error).message, 400, 'BadRequest');
    }
  }

  private deliver(watcher: Watcher, event: WatchEvent): void {
    const m = meta(event.object);
    if (watcher.namespace !== undefined && m.namespace !== watcher.namespace) return;
    if (!watcher.matches(m.labels as Record<string, string> | undefined)) return;
    watcher.send(event);
  }

  private register(t: ResourceType): void {
    this.types.set(typeKey(t.group, t.version, t.plural), t);
    if (!this.objects.has(typeKey(t.group, t.version, t.plural)))
      this.objects.set(typeKey(t.group, t.version, t.plural), new Map());
  }

  private collection(type: ResourceType): Map<string, Stored> {
    const items = this.objects.get(typeKey(type.group, type.version, type.plural));
    if (!items)
      throw new ApiError(
        `the server could not find the requested resource (${type.plural})`,
        404,
        'NotFound',
      );
    return items;
  }

  private stored(type: ResourceType, namespace: string | undefined, name: string): Stored {
    const stored = this.collection(type).get(
      objectKey(type.namespaced ? namespace : undefined, name),
    );
    if (!stored) {
      throw new ApiError(
        `${type.plural}${type.group ? `.${type.group}` : ''} "${name}" not found`,
        404,
        'NotFound',
      );
    }
    return stored;
  }

  private render(type: ResourceType, stored: Stored): JsonObject {
    const copy = structuredClone(stored.object);
    const fields = managedFields(stored.ownership, groupVersionOf(type));
    if (fields.length > 0) meta(copy).managedFields = fields;
    return copy;
  }

  /** Defaulting and validation from the CRD schema, for custom resources. */
  private prepare(type: ResourceType, object: JsonObject): JsonObject {
    if (!type.schema) return object;
    const defaulted = applyDefaults(type.schema, object) as JsonObject;
    const errors = schemaErrors(type.schema, { ...defaulted, metadata: {} });
    if (errors.length > 0) {
      throw new ApiError(
        `${type.kind} "${String(meta(object).name)}" is invalid: ${errors.join('; ')}`,
        422,
        'Invalid',
      );
    }
    return defaulted;
  }

  /** `trackOwnership` is false for apply, which has recorded its own ownership already. */
  private write(
    type: ResourceType,
    stored: Stored,
    body: Json,
    options: WriteOptions,
    trackOwnership = true,
  ): JsonObject {
    if (!isObject(body)) throw new ApiError('body must be an object', 400, 'BadRequest');
    const before = stored.object;
    const oldMeta = meta(before);
    const bodyMeta = isObject(body.metadata) ? body.metadata : {};
    let next: JsonObject;
    if (options.subresource === 'status') {
      next = { ...before, status: body.status ?? null };
    } else {
      next = { ...body, metadata: { ...bodyMeta } };
      if (type.statusSubresource) {
        if (before.status === undefined) delete next.status;
        else next.status = before.status;
      }
    }
    // Identity and server-managed fields never change by a write.
    const m = meta(next);
    for (const key of [
      'name',
      'namespace',
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ]) {
      if (oldMeta[key] === undefined) delete m[key];
      else m[key] = oldMeta[key];
    }
    delete m.managedFields;
    next.apiVersion = groupVersionOf(type);
    next.kind = type.kind;
    next = options.subresource === 'status' ? next : this.prepare(type, next);
    if (
      oldMeta.deletionTimestamp &&
      Array.isArray(m.finalizers) &&
      m.finalizers.length > ((oldMeta.finalizers as Json[] | undefined) ?? []).length
    ) {
      throw new ApiError(
        'no new finalizers can be added if the object is being deleted',
        422,
        'Forbidden',
      );
    }
    if (JSON.stringify(next) === JSON.stringify(before)) return this.render(type, stored);
    if (type.kind === 'StatefulSet') checkStatefulSetUpdate(before, next);
    if (specPart(next) !== specPart(before))
      meta(next).generation = Number(oldMeta.generation ?? 0) + 1;
    if (trackOwnership) {
      recordUpdate(before, next, stored.ownership, options.fieldManager ?? 'unknown', nowIso());
    }
    stored.object = next;
    if (type.kind === 'CustomResourceDefinition') this.establish(next);
    const finalizers = meta(next).finalizers;
    if (meta(next).deletionTimestamp && (!Array.isArray(finalizers) || finalizers.length === 0)) {
      this.remove(type, stored, false);
      return this.render(type, stored);
    }
    this.emit(type, 'MODIFIED', stored);
    return this.render(type, stored);
  }

  private emit(type: ResourceType, eventType: WatchEventType, stored: Stored): void {
    this.revision++;
    meta(stored.object).resourceVersion = String(this.revision);
    const key = typeKey(type.group, type.version, type.plural);
    const event: WatchEvent = { type: eventType, object: this.render(type, stored) };
    this.history.push({ rv: this.revision, key, event });
    for (const watcher of this.watchers) if (watcher.key === key) this.deliver(watcher, event);
  }

  private remove(type: ResourceType, stored: Stored, orphan: boolean): void {
    const m = meta(stored.object);
    this.collection(type).delete(objectKey(m.namespace as string | undefined, m.name as string));
    this.emit(type, 'DELETED', stored);
    if (type.kind === 'CustomResourceDefinition') this.unregisterCrd(stored.object);
    if (type.kind === 'Namespace') this.emptyNamespace(m.name as string);
    if (orphan) this.orphanDependents(m.uid as string);
    else setImmediate(() => this.collectGarbage());
  }

  /** Deletes objects whose owners are all gone, as the garbage collector does (background). */
  private collectGarbage(): void {
    const uids = new Set<string>();
    for (const items of this.objects.values())
      for (const s of items.values()) uids.add(meta(s.object).uid as string);
    for (const [key, items] of this.objects) {
      const type = this.types.get(key);
      if (!type) continue;
      for (const s of [...items.values()]) {
        const owners = meta(s.object).ownerReferences;
        if (!Array.isArray(owners) || owners.length === 0) continue;
        if (owners.some((o) => isObject(o) && uids.has(o.uid as string))) continue;
        if (meta(s.object).deletionTimestamp) continue;
        this.delete(
          type,
          meta(s.object).namespace as string | undefined,
          meta(s.object).name as string,
        );
      }
    }
  }

  private orphanDependents(uid: string): void {
    for (const [key, items] of this.objects) {
      const type = this.types.get(key);
      if (!type) continue;
      for (const s of items.values()) {
        const owners = meta(s.object).ownerReferences;
        if (!Array.isArray(owners) || !owners.some((o) => isObject(o) && o.uid === uid)) continue;
        meta(s.object).ownerReferences = owners.filter((o) => !isObject(o) || o.uid !== uid);
        this.emit(type, 'MODIFIED', s);
      }
    }
  }

  private emptyNamespace(namespace: string): void {
    for (const [key, items] of this.objects) {
      const type = this.types.get(key);
      if (!type?.namespaced) continue;
      for (const s of [...items.values()]) {
        if (meta(s.object).namespace === namespace)
          this.delete(type, namespace, meta(s.object).name as string);
      }
    }
  }

  /** A CRD serves its versions at once and reports Established, as a real API server soon does. */
  private establish(crd: JsonObject): void {
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    for (const version of (spec.versions as JsonObject[]).filter((v) => v.served)) {
      const schema = (version.schema as JsonObject | undefined)?.openAPIV3Schema as
        SchemaProps | undefined;
      this.register({
        group: spec.group as string,
        version: version.name as string,
        plural: names.plural as string,
        singular: (names.singular as string | undefined) ?? (names.kind as string).toLowerCase(),
        kind: names.kind as string,
        shortNames: names.shortNames as string[] | undefined,
        namespaced: spec.scope === 'Namespaced',
        statusSubresource:
          isObject(version.subresources) && version.subresources.status !== undefined,
        ...(schema ? { schema } : {}),
        printerColumns:
          (version.additionalPrinterColumns as unknown as PrinterColumn[] | undefined) ?? [],
      });
    }
    crd.status = {
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          reason: 'NoConflicts',
          message: 'no conflicts found',
          lastTransitionTime: nowIso(),
        },
        {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
          lastTransitionTime: nowIso(),
        },
      ],
      acceptedNames: names,
      storedVersions: (spec.versions as JsonObject[])
        .filter((v) => v.storage)
        .map((v) => v.name as string),
    };
  }

  private unregisterCrd(crd: JsonObject): void {
    const spec = crd.spec as JsonObject;
    for (const version of spec.versions as JsonObject[]) {
      const key = typeKey(
        spec.group as string,
        version.name as string,
        (spec.names as JsonObject).plural as string,
      );
      this.types.delete(key);
      this.objects.delete(key);
    }
  }
}

/** Fields of a StatefulSet spec an update may change; the API server forbids all others. */
const MUTABLE_STATEFULSET_FIELDS = new Set([
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
]);

function checkStatefulSetUpdate(before: JsonObject, after: JsonObject): void {
  const a = isObject(before.spec) ? before.spec : {};
  const b = isObject(after.spec) ? after.spec : {};
  const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (key) =>
      !MUTABLE_STATEFULSET_FIELDS.has(key) && JSON.stringify(a[key]) !== JSON.stringify(b[key]),
  );
  if (changed.length > 0) {
    throw new ApiError(
      `StatefulSet.apps "${String(meta(after).name)}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than ${[...MUTABLE_STATEFULSET_FIELDS].map((f) => `'${f}'`).join(', ')} are forbidden (changed: ${changed.join(', ')})`,
      422,
      'Invalid',
    );
  }
}

function parseFieldSelector(selector: string | null | undefined): (o: JsonObject) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((term) => {
    const match = /^(metadata\.name|metadata\.namespace)(==|=|!=)(.*)$/.exec(term.trim());
    if (!match) throw new ApiError(`field label not supported: ${term}`, 400, 'BadRequest');
    const [, field, op, value] = match;
    const key = field.split('.')[1];
    return (o: JsonObject) => (meta(o)[key] === value) === (op !== '!=');
  });
  return (o) => terms.every((t) => t(o));
}
