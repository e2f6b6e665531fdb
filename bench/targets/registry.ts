import { natsTarget } from './nats';
import { rabbitmqTarget } from './rabbitmq';
import { redisTarget } from './redis';
import { rocketmqTsTarget } from './rocketmq-ts';
import type { TargetKind } from './target';

export { OUR_TARGET } from './our-target';

/** Every broker the comparison knows, in table order; ours first, the ratios' reference. */
export const TARGETS: readonly TargetKind[] = [
  rocketmqTsTarget,
  natsTarget('jetstream'),
  natsTarget('request'),
  redisTarget,
  rabbitmqTarget('quorum'),
  rabbitmqTarget('classic'),
];

export function targetNamed(name: string): TargetKind {
  const kind = TARGETS.find((t) => t.name === name);
  if (!kind) {
    throw new Error(`unknown target "${name}"; known: ${TARGETS.map((t) => t.name).join(', ')}`);
  }
  return kind;
}
