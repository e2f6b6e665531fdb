import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { type Json, PatchError } from './kube-patch';
import {
  apiGroupList,
  apiResourceList,
  apiVersions,
  groupVersionOf,
  type ResourceType,
} from './kube-resources';
import { ApiError, KubeStore, type WatchEvent } from './kube-store';
import { toTable } from './kube-table';

/** A request path split into the parts the REST routes use. */
interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  plural?: string;
  name?: string;
  subresource?: string;
}

function parsePath(pathname: string): ResourcePath | 'api' | 'apis' | 'openapi' | undefined {
  const parts = pathname.split('/').filter(Boolean);
  if (parts[0] === 'openapi') return 'openapi';
  if (parts.length === 1 && parts[0] === 'api') return 'api';
  if (parts.length === 1 && parts[0] === 'apis') return 'apis';
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2)
    [group, version, rest] = ['', parts[1], parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3)
    [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  else return undefined;
  // /namespaces/{ns}/{plural}/… is namespaced; /namespaces/{name} is the Namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    return {
      group,
      version,
      namespace: rest[1],
      plural: rest[2],
      name: rest[3],
      subresource: rest[4],
    };
  }
  return { group, version, plural: rest[0], name: rest[1], subresource: rest[2] };
}

async function readBody(req: IncomingMessage): Promise<Json | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  const contentType = req.headers['content-type'] ?? 'application/json';
  try {
    // Apply patches may be YAML; YAML is a superset of JSON.
    return (contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (err) {
    throw new ApiError(
      `the body of the request could not be decoded: ${(err as Error).message}`,
      400,
      'BadRequest',
    );
  }
}

/** `kubectl get` asks for a server-side Table (`Accept: application/json;as=Table;…`). */
const wantsTable = (req: IncomingMessage) => /as=Table/.test(req.headers.accept ?? '');

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function statusOf(err: ApiError) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    code: err.code,
  };
}

/**
 * An HTTP server speaking enough of the Kubernetes API for the real @kubernetes/client-node:
 * discovery, CRUD with resourceVersion conflicts, watch streams, merge/JSON/apply patches, the
 * status subresource, label selectors, finalizers, owner-reference garbage collection,
 * namespaces, and CRDs that become served types. No controllers run in it (no pods appear for a
 * StatefulSet); tests play that part where they need it. Plain HTTP, no authentication.
 */
export class KubeApiServer {
  readonly store = new KubeStore();
  private readonly server: Server;
  private readonly openWatches = new Set<ServerResponse>();
  /** Every request as "METHOD path", for tests that check how a client behaves. */
  readonly requestLog: string[] = [];

  private constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const apiError =
          err instanceof PatchError
            ? err
            : new ApiError(String((err as Error).message ?? err), 500, 'InternalError');
        if (!res.headersSent) sendJson(res, apiError.code, statusOf(apiError));
        else res.end();
      });
    });
  }

  static async start(): Promise<KubeApiServer> {
    const api = new KubeApiServer();
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(0, '127.0.0.1', () => resolve());
    });
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig document pointing at this server, for a process started with KUBECONFIG. */
  kubeconfigYaml(namespace = 'default'): string {
    return stringifyYaml({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain HTTP unless TLS verification is (vacuously) skipped.
      clusters: [{ name: 'test', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'test', user: {} }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', namespace } }],
      'current-context': 'test',
    });
  }

  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml(namespace));
    return kc;
  }

  /** Installs a CRD document unchanged, as `kubectl apply -f crd.yaml` would. */
  installCrd(crd: Json): void {
    this.store.create(
      this.store.requireType('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'),
      undefined,
      crd,
    );
  }

  async stop(): Promise<void> {
    for (const res of this.openWatches) res.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    this.requestLog.push(`${method} ${url.pathname}`);
    const path = parsePath(url.pathname);
    if (path === 'api') return sendJson(res, 200, apiVersions());
    if (path === 'apis') return sendJson(res, 200, apiGroupList(this.store.allTypes()));
    if (path === 'openapi') {
      // No OpenAPI documents: kubectl then validates nothing client-side (use --validate=false).
      throw new ApiError(
        'OpenAPI documents are not served by the test API server',
        404,
        'NotFound',
      );
    }
    if (!path)
      throw new ApiError(
        `the server could not find the requested resource ${url.pathname}`,
        404,
        'NotFound',
      );
    if (!path.plural) {
      const types = this.store
        .allTypes()
        .filter((t) => t.group === path.group && t.version === path.version);
      if (types.length === 0)
        throw new ApiError(`no resources in ${path.group}/${path.version}`, 404, 'NotFound');
      return sendJson(res, 200, apiResourceList(groupVersionOf(types[0]), types));
    }
    const type = this.store.requireType(path.group, path.version, path.plural);
    if (
      path.subresource !== undefined &&
      (path.subresource !== 'status' || !type.statusSubresource)
    ) {
      throw new ApiError(`${path.plural} has no subresource ${path.subresource}`, 404, 'NotFound');
    }
    const q = url.searchParams;
    const options = {
      fieldManager: q.get('fieldManager') ?? undefined,
      force: q.get('force') === 'true',
      ...(path.subresource === 'status' ? { subresource: 'status' as const } : {}),
    };
    const { namespace, name } = path;
    if (!name) {
      if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1'))
        return this.watch(req, res, type, namespace, q);
      if (method === 'GET') {
        const list = this.store.list(
          type,
          namespace,
          q.get('labelSelector'),
          q.get('fieldSelector'),
        );
        return sendJson(
          res,
          200,
          wantsTable(req)
            ? toTable(list.items, type.printerColumns ?? [], list.metadata.resourceVersion)
            : list,
        );
      }
      if (method === 'POST')
        return sendJson(
          res,
          201,
          this.store.create(type, namespace, (await readBody(req)) ?? null, options),
        );
      throw new ApiError(`method ${method} not allowed on a collection`, 405, 'MethodNotAllowed');
    }
    switch (method) {
      case 'GET': {
        const object = this.store.get(type, namespace, name);
        return sendJson(
          res,
          200,
          wantsTable(req)
            ? toTable([object], type.printerColumns ?? [], this.store.resourceVersion)
            : object,
        );
      }
      case 'PUT':
        return sendJson(
          res,
          200,
          this.store.update(type, namespace, name, (await readBody(req)) ?? null, options),
        );
      case 'PATCH': {
        const contentType = req.headers['content-type'] ?? '';
        const body = (await readBody(req)) ?? null;
        return sendJson(
          res,
          200,
          this.store.patch(type, namespace, name, contentType, body, options),
        );
      }
      case 'DELETE': {
        const body = await readBody(req);
        const policy =
          q.get('propagationPolicy') ??
          (body && typeof body === 'object' && !Array.isArray(body)
            ? (body.propagationPolicy as string | undefined)
            : undefined);
        return sendJson(res, 200, this.store.delete(type, namespace, name, policy ?? 'Background'));
      }
      default:
        throw new ApiError(`method ${method} not allowed`, 405, 'MethodNotAllowed');
    }
  }

  /** A watch: newline-delimited JSON events on a chunked response until the client goes away. */
  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    q: URLSearchParams,
  ): void {
    // Subscribe first so a bad selector or version is still an ordinary error response.
    const backlog: WatchEvent[] = [];
    let streaming = false;
    const unsubscribe = this.store.watch(
      type,
      namespace,
      q.get('labelSelector'),
      q.get('resourceVersion'),
      (event) => {
        if (streaming) res.write(`${JSON.stringify(event)}\n`);
        else backlog.push(event);
      },
    );
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // The client waits for the headers before it reads events; send them now, not with the first event.
    res.flushHeaders();
    this.openWatches.add(res);
    for (const event of backlog) res.write(`${JSON.stringify(event)}\n`);
    streaming = true;
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0);
    const timer =
      timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    const close = () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      this.openWatches.delete(res);
    };
    req.on('close', close);
    res.on('close', close);
  }
}
