/**
 * Removes and returns the leading items of `list` (ordered by `end`) whose `end` is at or below
 * `offset`: the waiters an advancing write, sync or dispatch position has satisfied.
 */
export function takeReached<T extends { end: number }>(list: T[], offset: number): T[] {
  let n = 0;
  while (n < list.length && list[n].end <= offset) n++;
  return n === 0 ? [] : list.splice(0, n);
}
