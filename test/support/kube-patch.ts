/** Patch semantics of the test API server: JSON merge patch, JSON patch, and server-side apply. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isEmptyObject = (v: unknown) => isObject(v) && Object.keys(v).length === 0;

export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** RFC 7386. Strategic merge patch is served with the same rules (lists replaced whole). */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 add/remove/replace/test on a copy of `doc`. */
export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array', 400, 'BadRequest');
  const root: { v: Json } = { v: structuredClone(doc) };
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new PatchError('json patch operation needs op and path', 400, 'BadRequest');
    }
    const keys = ['v', ...pointer(op.path)];
    const last = keys.pop() as string;
    let parent: Json = root as unknown as Json;
    for (const k of keys) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(k)]
        : isObject(parent)
          ? parent[k]
          : undefined;
      if (next === undefined)
        throw new PatchError(`json patch path ${op.path} does not exist`, 422, 'Invalid');
      parent = next;
    }
    const container = parent as JsonObject | Json[];
    const current = Array.isArray(container) ? container[Number(last)] : container[last];
    switch (op.op) {
      case 'add':
        if (Array.isArray(container))
          container.splice(last === '-' ? container.length : Number(last), 0, op.value ?? null);
        else container[last] = op.value ?? null;
        break;
      case 'replace':
      case 'remove':
        if (current === undefined)
          throw new PatchError(`json patch path ${op.path} does not exist`, 422, 'Invalid');
        if (op.op === 'replace') {
          if (Array.isArray(container)) container[Number(last)] = op.value ?? null;
          else container[last] = op.value ?? null;
        } else if (Array.isArray(container)) container.splice(Number(last), 1);
        else delete container[last];
        break;
      case 'test':
        if (JSON.stringify(current) !== JSON.stringify(op.value)) {
          throw new PatchError(`json patch test failed at ${op.path}`, 422, 'Invalid');
        }
        break;
      default:
        throw new PatchError(`json patch op ${op.op} is not supported`, 400, 'BadRequest');
    }
  }
  return root.v;
}

/**
 * Field ownership for server-side apply, approximated: a field is a leaf path (a scalar, a list —
 * lists are atomic here — or an empty object); each manager owns a set of them.
 */
export type Ownership = Map<
  string,
  { operation: 'Apply' | 'Update'; fields: Set<string>; time: string }
>;

const IGNORED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'managedFields',
]);

export function leafPaths(
  value: Json,
  prefix: string[] = [],
  out = new Set<string>(),
): Set<string> {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) {
      if (prefix.length === 1 && prefix[0] === 'metadata' && IGNORED_METADATA.has(key)) continue;
      if (prefix.length === 0 && (key === 'apiVersion' || key === 'kind')) continue;
      leafPaths(child, [...prefix, key], out);
    }
  } else if (prefix.length > 0) {
    out.add(JSON.stringify(prefix));
  }
  return out;
}

function getPath(obj: Json, path: string[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const key of path) cur = isObject(cur) ? cur[key] : undefined;
  return cur;
}

function setPath(obj: JsonObject, path: string[], value: Json): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (!isObject(cur[key])) cur[key] = {};
    cur = cur[key] as JsonObject;
  }
  cur[path[path.length - 1]] = structuredClone(value);
}

/** Deletes the leaf and then any objects left empty above it. */
function deletePath(obj: JsonObject, path: string[]): void {
  const parents: JsonObject[] = [obj];
  for (const key of path.slice(0, -1)) {
    const next = parents[parents.length - 1][key];
    if (!isObject(next)) return;
    parents.push(next);
  }
  delete parents[parents.length - 1][path[path.length - 1]];
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]).length > 0) break;
    delete parents[i - 1][path[i - 1]];
  }
}

/**
 * Applies `config` as `manager`: fields another manager owns with a different value conflict
 * (409) unless `force` takes them over; fields this manager applied before and omits now are
 * removed unless someone else also owns them.
 */
export function serverSideApply(
  current: JsonObject,
  config: JsonObject,
  ownership: Ownership,
  manager: string,
  force: boolean,
  now: string,
): JsonObject {
  const applied = leafPaths(config);
  const conflicts: string[] = [];
  for (const leaf of applied) {
    const path = JSON.parse(leaf) as string[];
    if (isEmptyObject(getPath(config, path))) continue;
    if (JSON.stringify(getPath(current, path)) === JSON.stringify(getPath(config, path))) continue;
    for (const [other, entry] of ownership) {
      if (other !== manager && entry.fields.has(leaf))
        conflicts.push(`.${path.join('.')} (owned by "${other}")`);
    }
  }
  if (conflicts.length > 0 && !force) {
    throw new PatchError(
      `Apply failed with ${conflicts.length} conflict(s): ${conflicts.join(', ')}`,
      409,
      'Conflict',
    );
  }
  const result = structuredClone(current);
  const previous = ownership.get(manager)?.fields ?? new Set<string>();
  for (const leaf of previous) {
    if (applied.has(leaf)) continue;
    const sharedWithOthers = [...ownership].some(
      ([other, entry]) => other !== manager && entry.fields.has(leaf),
    );
    if (!sharedWithOthers) deletePath(result, JSON.parse(leaf) as string[]);
  }
  for (const leaf of applied) {
    const path = JSON.parse(leaf) as string[];
    const value = getPath(config, path) as Json;
    // An empty object only asks for the object to exist; it does not clear what others put in it.
    if (!(isEmptyObject(value) && isObject(getPath(result, path)))) setPath(result, path, value);
    if (force)
      for (const [other, entry] of ownership) if (other !== manager) entry.fields.delete(leaf);
  }
  ownership.set(manager, { operation: 'Apply', fields: applied, time: now });
  return result;
}

/** A non-apply write moves every field it changed to `manager` (operation Update). */
export function recordUpdate(
  before: Json,
  after: Json,
  ownership: Ownership,
  manager: string,
  now: string,
): void {
  const beforeLeaves = leafPaths(before);
  const changed = new Set<string>();
  for (const leaf of leafPaths(after)) {
    const path = JSON.parse(leaf) as string[];
    if (
      !beforeLeaves.has(leaf) ||
      JSON.stringify(getPath(before, path)) !== JSON.stringify(getPath(after, path))
    ) {
      changed.add(leaf);
    }
  }
  if (changed.size === 0) return;
  for (const entry of ownership.values()) for (const leaf of changed) entry.fields.delete(leaf);
  const mine = ownership.get(manager);
  if (mine) {
    for (const leaf of changed) mine.fields.add(leaf);
    mine.time = now;
  } else ownership.set(manager, { operation: 'Update', fields: changed, time: now });
}

/** metadata.managedFields in the FieldsV1 shape (`f:` keys), computed from the ownership sets. */
export function managedFields(ownership: Ownership, apiVersion: string): JsonObject[] {
  return [...ownership]
    .filter(([, entry]) => entry.fields.size > 0)
    .map(([manager, entry]) => {
      const fieldsV1: JsonObject = {};
      for (const leaf of entry.fields) {
        let node = fieldsV1;
        for (const key of JSON.parse(leaf) as string[]) {
          const k = `f:${key}`;
          if (!isObject(node[k])) node[k] = {};
          node = node[k] as JsonObject;
        }
      }
      return {
        manager,
        operation: entry.operation,
        apiVersion,
        time: entry.time,
        fieldsType: 'FieldsV1',
        fieldsV1,
      };
    });
}
