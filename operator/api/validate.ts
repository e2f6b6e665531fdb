import { specSchema } from './schema';
import { schemaErrors } from './schema-check';
import type { RocketMQCluster } from './types';

/** broker.conf keys the operator derives itself; an override would break the cluster's wiring. */
export const OPERATOR_OWNED_BROKER_KEYS = [
  'brokerClusterName',
  'brokerName',
  'brokerId',
  'brokerRole',
  'namesrvAddr',
  'listenPort',
  'storePathRootDir',
  'httpPort',
  'enableControllerMode',
] as const;

/** Ports a broker listens on besides metrics: fast (listenPort-2), main, HA (listenPort+1). */
const BROKER_PORTS = [10909, 10911, 10912];
/** Longest cluster name whose derived object names (`<name>-broker-<g>-<ordinal>`) stay legal. */
const MAX_NAME_LENGTH = 40;
const SYSCTL_NAME = /^[a-z][a-z0-9_.\-/]*$/;
/** Values end up in the init container's shell script, so only plain words and numbers. */
const SYSCTL_VALUE = /^[A-Za-z0-9_.-]+( [A-Za-z0-9_.-]+)*$/;

/**
 * The schema's own rules, then those it cannot express (cross-field, shell safety). Each message says
 * what to fix; a non-empty result makes the operator refuse the spec with a Degraded condition.
 * Expects a defaulted cluster (see withDefaults).
 */
export function validateSpec(cluster: RocketMQCluster): string[] {
  const { spec, metadata } = cluster;
  // The rules below assume well-typed fields; a spec that slipped past schema validation is
  // reported field by field instead.
  const typeProblems = schemaErrors(specSchema, spec, 'spec');
  if (typeProblems.length > 0) return typeProblems;
  const problems: string[] = [];
  if (metadata.name.length > MAX_NAME_LENGTH) {
    problems.push(
      `metadata.name must be at most ${MAX_NAME_LENGTH} characters (derived pod names must stay valid)`,
    );
  }
  if (spec.broker.replicationMode === 'SYNC' && spec.broker.replicasPerGroup < 2) {
    problems.push(
      'spec.broker.replicationMode SYNC needs spec.broker.replicasPerGroup >= 2: a SYNC master acknowledges only after a slave has the message',
    );
  }
  for (const [key, value] of Object.entries(spec.broker.config)) {
    if (/[\r\n]/.test(value) || !/^[A-Za-z0-9_.-]+$/.test(key)) {
      problems.push(
        `spec.broker.config.${key}: keys are plain words and values hold no line breaks`,
      );
    }
  }
  for (const key of OPERATOR_OWNED_BROKER_KEYS) {
    if (key in spec.broker.config) {
      problems.push(`spec.broker.config.${key} is set by the operator; remove it`);
    }
  }
  if (spec.metrics.port === spec.nameServer.port) {
    problems.push('spec.metrics.port must differ from spec.nameServer.port');
  }
  if (BROKER_PORTS.includes(spec.metrics.port)) {
    problems.push(
      `spec.metrics.port must not be one of the broker ports ${BROKER_PORTS.join(', ')}`,
    );
  }
  if (spec.metrics.serviceMonitor.enabled && !spec.metrics.enabled) {
    problems.push('spec.metrics.serviceMonitor.enabled needs spec.metrics.enabled');
  }
  for (const [name, value] of Object.entries(spec.osTuning.sysctls)) {
    if (!SYSCTL_NAME.test(name))
      problems.push(`spec.osTuning.sysctls: "${name}" is not a sysctl name`);
    if (!SYSCTL_VALUE.test(value)) {
      problems.push(
        `spec.osTuning.sysctls.${name}: value "${value}" may hold only letters, digits, . _ - and single spaces`,
      );
    }
  }
  return problems;
}
