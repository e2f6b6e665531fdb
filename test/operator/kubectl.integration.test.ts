import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../common/logger';
import { defaultOperatorConfig, Operator } from '../../operator/operator';
import { describeEachKubeTarget } from '../support/kube-target';
import { settleStatefulSets } from '../support/kube-workloads';
import { eventually } from './kube-wait';

/**
 * The README's walk-through with the real kubectl: apply the CRD and the example, watch
 * `kubectl get rocketmqclusters` go Ready. Against our test API server, and against a real
 * kube-apiserver too when KUBEBUILDER_ASSETS is set (envtest). Skipped where kubectl is not
 * installed.
 */

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const kubectlAvailable = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
})();

describeEachKubeTarget('kubectl', (kind) => {
  (kubectlAvailable ? test : test.skip)(
    'kubectl apply the example and see it go Ready',
    async () => {
      const target = await kind.start({ installCrds: false });
      const dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
      const operator = new Operator(
        target.kubeConfig(),
        { ...defaultOperatorConfig(), httpHost: '127.0.0.1', httpPort: 0, leaseRetryMs: 100 },
        createLogger('kubectl-test', 'silent'),
      );
      try {
        writeFileSync(join(dir, 'config'), target.kubeconfigYaml());
        const kubectl = async (...args: string[]) =>
          (
            await run('kubectl', args, {
              env: { ...process.env, KUBECONFIG: join(dir, 'config') },
              cwd: root,
            })
          ).stdout;
        // The test server serves no OpenAPI documents, so client-side validation is off.
        await kubectl(
          'apply',
          '--server-side',
          '--validate=false',
          '-f',
          'crds/rocketmqclusters.rocketmq-ts.dev.yaml',
        );
        await eventually(
          'CRD established',
          async () =>
            (await kubectl(
              'get',
              'crd',
              'rocketmqclusters.rocketmq-ts.dev',
              '-o',
              'jsonpath={.status.conditions[?(@.type=="Established")].status}',
            )) === 'True',
        );
        await operator.start();
        await kubectl(
          'apply',
          '--server-side',
          '--validate=false',
          '-f',
          'examples/rocketmq-cluster.yaml',
        );
        await eventually(
          'StatefulSets',
          async () => (await kubectl('get', 'statefulsets', '-o', 'name')).split('\n').length === 4,
        );
        await settleStatefulSets(target.kubeConfig(), 'default');
        const table = await eventually('Ready', async () => {
          const out = await kubectl('get', 'rocketmqclusters');
          return /^demo\s+True\s+2\s+2\/2\s+2\s+SYNC\s+\d+s$/m.test(out) ? out : undefined;
        });
        expect(table.split('\n')[0].split(/\s+/)).toEqual([
          'NAME',
          'READY',
          'NAMESERVERS',
          'GROUPS',
          'REPLICAS',
          'MODE',
          'AGE',
        ]);
        expect(
          await kubectl(
            'get',
            'rmq',
            'demo',
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
          ),
        ).toBe('AllReplicasReady');
      } finally {
        await operator.stop();
        await target.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
