import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { defaultOperatorConfig, Operator } from '../operator/operator';
import type { ParsedArgs } from './args';
import { runUntilSignal } from './lifecycle';

/**
 * `rocketmq-ts operator [-c operator.conf] [--watchNamespace=ns] [--httpPort=8080] [--kubeconfig=path]`
 * The kubeconfig is found the standard way: --kubeconfig, then $KUBECONFIG, ~/.kube/config, or
 * the in-cluster service account.
 */
export async function runOperator(args: ParsedArgs): Promise<void> {
  const logger = createLogger('operator');
  const kubeconfig = args.long.get('kubeconfig');
  const flags = new Map(args.long);
  flags.delete('kubeconfig');
  const { config, unknownKeys } = loadConfig(defaultOperatorConfig(), {
    file: args.short.get('c'),
    env: process.env,
    flags,
  });
  if (unknownKeys.length > 0) logger.warn({ unknownKeys }, 'ignoring unknown config keys');
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  logger.info({ server: kc.getCurrentCluster()?.server }, 'using Kubernetes API server');
  const operator = new Operator(kc, config, logger);
  await operator.start();
  await runUntilSignal(logger, () => operator.stop());
}
