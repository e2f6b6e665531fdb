import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify as stringifyYaml } from 'yaml';
import { trackChild } from './running-children';

/**
 * A real control plane for tests, the way controller-runtime's envtest runs one: etcd and
 * kube-apiserver from the directory $KUBEBUILDER_ASSETS names (what `setup-envtest use` prints),
 * on free loopback ports, with certificates made by `openssl`, and an admin user that
 * authenticates with a client certificate in group system:masters. Like envtest it runs no
 * controller-manager and no scheduler: nothing creates pods for StatefulSets, nothing collects
 * garbage.
 */

export const ENVTEST_ASSETS_VARIABLE = 'KUBEBUILDER_ASSETS';

/** The directory holding etcd and kube-apiserver, when the variable names one. */
export function envtestAssets(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[ENVTEST_ASSETS_VARIABLE] || undefined;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export function etcdArgs(o: { clientPort: number; peerPort: number; dataDir: string }): string[] {
  const client = `http://127.0.0.1:${o.clientPort}`;
  return [
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=http://127.0.0.1:${o.peerPort}`,
    `--data-dir=${o.dataDir}`,
    // A throw-away store: envtest turns fsync off too, which makes etcd many times faster.
    '--unsafe-no-fsync=true',
  ];
}

/** envtest's defaults (controller-runtime controlplane/apiserver.go), with our certificates. */
export function kubeApiServerArgs(o: {
  securePort: number;
  etcdUrl: string;
  certs: EnvtestCerts;
}): string[] {
  const { certs } = o;
  return [
    '--advertise-address=127.0.0.1',
    '--bind-address=127.0.0.1',
    `--secure-port=${o.securePort}`,
    `--etcd-servers=${o.etcdUrl}`,
    `--cert-dir=${certs.dir}`,
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    '--authorization-mode=RBAC',
    // No controller-manager creates the default ServiceAccount, so pods could not be admitted.
    '--disable-admission-plugins=ServiceAccount',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    `--service-account-issuer=https://127.0.0.1:${o.securePort}/`,
    `--service-account-key-file=${certs.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
  ];
}

export interface EnvtestCerts {
  dir: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

/**
 * A throw-away CA; a serving certificate for 127.0.0.1 and localhost; a client certificate for
 * user `admin` in group `system:masters` (RBAC lets that group do everything); and the key pair
 * that signs service account tokens.
 */
export function generateCerts(dir: string): EnvtestCerts {
  const path = (file: string) => join(dir, file);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const days = ['-days', '2'];
  // ECDSA P-256 keys, as envtest's own CA makes: instant to generate, unlike RSA.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...newKey,
    ...days,
    '-subj',
    '/CN=envtest-ca',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
  );
  const issue = (name: string, subject: string, extensions: string) => {
    const [key, csr, crt, ext] = ['key', 'csr', 'crt', 'ext'].map((x) => path(`${name}.${x}`));
    writeFileSync(ext, extensions);
    openssl('req', ...newKey, '-subj', subject, '-keyout', key, '-out', csr);
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      ...days,
      '-extfile',
      ext,
      '-out',
      crt,
    );
  };
  issue(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  issue('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  openssl(
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    path('sa.key'),
  );
  openssl('pkey', '-in', path('sa.key'), '-pubout', '-out', path('sa.pub'));
  return {
    dir,
    caCert: path('ca.crt'),
    servingCert: path('apiserver.crt'),
    servingKey: path('apiserver.key'),
    adminCert: path('admin.crt'),
    adminKey: path('admin.key'),
    serviceAccountKey: path('sa.key'),
    serviceAccountPublicKey: path('sa.pub'),
  };
}

/** A kubeconfig for the admin user: the CA, the client certificate and its key, inline. */
export function adminKubeconfigYaml(server: string, certs: EnvtestCerts, namespace: string) {
  const data = (file: string) => readFileSync(file).toString('base64');
  return stringifyYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'envtest', cluster: { server, 'certificate-authority-data': data(certs.caCert) } },
    ],
    users: [
      {
        name: 'admin',
        user: {
          'client-certificate-data': data(certs.adminCert),
          'client-key-data': data(certs.adminKey),
        },
      },
    ],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'admin', namespace } }],
    'current-context': 'envtest',
  });
}

export interface TlsClient {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** One GET: the status code, or the error's message when no response came. */
function probe(url: string, tls: TlsClient | undefined): Promise<number | string> {
  return new Promise((resolve) => {
    const options = { timeout: 2_000, ...(tls ?? {}) };
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no response within 2 s')));
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
}

/**
 * Polls `url` until it answers 200; fails after `timeoutMs`, or at once when `process` exits,
 * with the last answer and what the process printed.
 */
export async function waitUntilHealthy(
  url: string,
  o: { tls?: TlsClient; timeoutMs?: number; process?: ManagedProcess } = {},
): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? START_TIMEOUT_MS);
  let last: number | string = 'no answer yet';
  for (;;) {
    if (o.process?.exited) {
      throw new Error(`${o.process.name} exited while starting: ${o.process.output()}`);
    }
    last = await probe(url, o.tls);
    if (last === 200) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${url} not healthy within ${o.timeoutMs ?? START_TIMEOUT_MS} ms (last: ${last})` +
          (o.process ? `; ${o.process.name} printed: ${o.process.output()}` : ''),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Free loopback ports: listen on 0 and close (the usual small race, as envtest has too). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const OUTPUT_TAIL = 4_000;

interface ManagedProcess {
  name: string;
  child: ChildProcess;
  readonly exited: boolean;
  /** The last few KB it printed. */
  output(): string;
  stop(): Promise<void>;
}

function startBinary(name: string, binary: string, args: string[]): ManagedProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-OUTPUT_TAIL));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const done = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      output += `\n${err.message}`;
      exited = true;
      resolve();
    });
  });
  return {
    name,
    child,
    get exited() {
      return exited;
    },
    output: () => output,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
    },
  };
}

export class Envtest {
  private constructor(
    readonly url: string,
    private readonly certs: EnvtestCerts,
    private readonly dir: string,
    private readonly processes: ManagedProcess[],
  ) {}

  /** Starts etcd, then kube-apiserver, and resolves once /readyz answers 200 to the admin. */
  static async start(assets: string): Promise<Envtest> {
    const binary = (name: string) => {
      const path = join(assets, name);
      if (!existsSync(path)) {
        throw new Error(`${ENVTEST_ASSETS_VARIABLE}=${assets} has no ${name} binary`);
      }
      return path;
    };
    const etcdBinary = binary('etcd');
    const apiServerBinary = binary('kube-apiserver');
    const dir = mkdtempSync(join(tmpdir(), 'rmqts-envtest-'));
    const processes: ManagedProcess[] = [];
    try {
      const certs = generateCerts(dir);
      const [clientPort, peerPort, securePort] = await freePorts(3);
      const etcdUrl = `http://127.0.0.1:${clientPort}`;
      const etcd = startBinary(
        'etcd',
        etcdBinary,
        etcdArgs({ clientPort, peerPort, dataDir: join(dir, 'etcd') }),
      );
      processes.push(etcd);
      await waitUntilHealthy(`${etcdUrl}/health`, { process: etcd });
      const apiServer = startBinary(
        'kube-apiserver',
        apiServerBinary,
        kubeApiServerArgs({ securePort, etcdUrl, certs }),
      );
      processes.unshift(apiServer); // stopped before etcd
      const url = `https://127.0.0.1:${securePort}`;
      const tls = {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.adminCert),
        key: readFileSync(certs.adminKey),
      };
      await waitUntilHealthy(`${url}/readyz`, { tls, process: apiServer });
      return new Envtest(url, certs, dir, processes);
    } catch (err) {
      for (const p of processes) await p.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  kubeconfigYaml(namespace = 'default'): string {
    return adminKubeconfigYaml(this.url, this.certs, namespace);
  }

  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml(namespace));
    return kc;
  }

  async stop(): Promise<void> {
    for (const p of this.processes) await p.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
