import type { ClusterCondition, ConditionStatus, ConditionType } from '../api/types';

export interface ConditionUpdate {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Sets conditions the Kubernetes way: lastTransitionTime moves only when the status flips;
 * reason, message and observedGeneration always follow the latest reconcile. Order is stable.
 */
export function setConditions(
  existing: readonly ClusterCondition[] | undefined,
  updates: readonly ConditionUpdate[],
  generation: number,
  now: string,
): ClusterCondition[] {
  const result = [...(existing ?? [])];
  for (const update of updates) {
    const index = result.findIndex((c) => c.type === update.type);
    const previous = index >= 0 ? result[index] : undefined;
    const next: ClusterCondition = {
      ...update,
      lastTransitionTime:
        previous && previous.status === update.status ? previous.lastTransitionTime : now,
      observedGeneration: generation,
    };
    if (index >= 0) result[index] = next;
    else result.push(next);
  }
  return result;
}

export function conditionOf(
  conditions: readonly ClusterCondition[] | undefined,
  type: ConditionType,
) {
  return conditions?.find((c) => c.type === type);
}
