import { drainDecision } from '../../operator/scaling/scale-in';

/** When a removed group's drain ends: pure. */

test('nothing left to consume: removed, drain time or not, forced or not', () => {
  expect(drainDecision(0, 0, 600_000, false)).toBe('Removing');
  expect(drainDecision(0, 900_000, 600_000, false)).toBe('Removing');
});

test('messages left within the drain time: keep draining, even with force', () => {
  expect(drainDecision(5, 1000, 600_000, false)).toBe('Draining');
  expect(drainDecision(5, 1000, 600_000, true)).toBe('Draining');
});

test('messages left after the drain time: blocked unless forced', () => {
  expect(drainDecision(5, 600_000, 600_000, false)).toBe('Blocked');
  expect(drainDecision(5, 600_000, 600_000, true)).toBe('Removing');
  expect(drainDecision(1, 0, 0, false)).toBe('Blocked');
});
