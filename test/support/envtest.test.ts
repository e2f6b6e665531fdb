import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VersionApi } from '@kubernetes/client-node';
import { Envtest, etcdArgs, generateCerts, kubeApiServerArgs } from './envtest';

/**
 * The envtest start-up without the real binaries (none on this machine): the flags, the
 * certificates and the admin kubeconfig, readiness polling and stopping, against stand-ins for
 * etcd and kube-apiserver that check what the real ones would (the health URL, TLS with a
 * client certificate signed by the given CA).
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rmqts-envtest-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('kube-apiserver gets the flags envtest uses, pointing at our etcd and certificates', () => {
  const certs = generateCerts(dir);
  const args = kubeApiServerArgs({ securePort: 6443, etcdUrl: 'http://127.0.0.1:2379', certs });
  expect(args).toEqual(
    expect.arrayContaining([
      '--secure-port=6443',
      '--bind-address=127.0.0.1',
      '--etcd-servers=http://127.0.0.1:2379',
      `--client-ca-file=${certs.caCert}`,
      `--tls-cert-file=${certs.servingCert}`,
      '--authorization-mode=RBAC',
      '--disable-admission-plugins=ServiceAccount',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://127.0.0.1:6443/',
      `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    ]),
  );
  expect(etcdArgs({ clientPort: 2379, peerPort: 2380, dataDir: '/d' })).toEqual([
    '--listen-client-urls=http://127.0.0.1:2379',
    '--advertise-client-urls=http://127.0.0.1:2379',
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--data-dir=/d',
    '--unsafe-no-fsync=true',
  ]);
});

/** A node script standing in for a binary, taking `--name=value` flags as the real one does. */
function fakeBinary(name: string, body: string): void {
  const file = join(dir, name);
  writeFileSync(
    file,
    `#!/usr/bin/env node
const flag = (n) => process.argv.find((a) => a.startsWith('--' + n + '='))?.slice(n.length + 3);
const fs = require('node:fs');
${body}
`,
  );
  chmodSync(file, 0o755);
}

const FAKE_ETCD = `
const url = new URL(flag('listen-client-urls'));
require('node:http')
  .createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end('{"health":"true"}'))
  .listen(Number(url.port), url.hostname);
`;

/** Answers only a client whose certificate the --client-ca-file CA signed, like kube-apiserver. */
const FAKE_API_SERVER = `
require('node:https')
  .createServer(
    {
      cert: fs.readFileSync(flag('tls-cert-file')),
      key: fs.readFileSync(flag('tls-private-key-file')),
      ca: fs.readFileSync(flag('client-ca-file')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const subject = req.socket.getPeerCertificate().subject;
      if (req.url === '/readyz') return res.end('ok');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ major: '1', minor: '31', gitVersion: 'v1.31.0-' + subject.O + '-' + subject.CN }));
    },
  )
  .listen(Number(flag('secure-port')), flag('bind-address'));
`;

test('starts etcd then kube-apiserver, waits for them, and hands back an admin kubeconfig', async () => {
  fakeBinary('etcd', FAKE_ETCD);
  fakeBinary('kube-apiserver', FAKE_API_SERVER);
  const envtest = await Envtest.start(dir);
  try {
    expect(envtest.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // The real client verifies the serving certificate against the CA and presents the admin's.
    const version = await envtest.kubeConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.31.0-system:masters-admin');
  } finally {
    await envtest.stop();
  }
}, 60_000);

test('a binary that exits while starting fails the start at once with what it printed', async () => {
  fakeBinary('etcd', `console.error('etcd: bad flag ' + flag('data-dir')); process.exit(2);`);
  fakeBinary('kube-apiserver', FAKE_API_SERVER);
  await expect(Envtest.start(dir)).rejects.toThrow(/etcd exited while starting: etcd: bad flag /);
});

test('a missing binary is named', async () => {
  fakeBinary('etcd', FAKE_ETCD);
  await expect(Envtest.start(dir)).rejects.toThrow(
    `KUBEBUILDER_ASSETS=${dir} has no kube-apiserver binary`,
  );
});
