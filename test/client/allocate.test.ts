import {
  allocateAveragely,
  allocateAveragelyByCircle,
  type AllocateStrategy,
} from '../../client/allocate';
import type { MessageQueue } from '../../client/message-queue';

const queues = (n: number): MessageQueue[] =>
  Array.from({ length: n }, (_, queueId) => ({ topic: 'T', brokerName: 'b', queueId }));
const cids = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);

/** Queue ids each consumer gets, in consumer order. */
function split(strategy: AllocateStrategy, m: number, c: number): number[][] {
  const mqAll = queues(m);
  const cidAll = cids(c);
  return cidAll.map((cid) => strategy.allocate(cid, mqAll, cidAll).map((q) => q.queueId));
}

describe('AllocateMessageQueueAveragely', () => {
  test.each([
    [
      8,
      3,
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
      ],
    ],
    [
      8,
      2,
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ],
    ],
    [4, 4, [[0], [1], [2], [3]]],
    [3, 5, [[0], [1], [2], [], []]],
    [
      10,
      4,
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
        [8, 9],
      ],
    ],
    [1, 1, [[0]]],
    [0, 2, [[], []]],
  ])('%i queues over %i consumers', (m, c, expected) => {
    expect(split(allocateAveragely, m, c)).toEqual(expected);
  });
});

describe('AllocateMessageQueueAveragelyByCircle', () => {
  test.each([
    [
      8,
      3,
      [
        [0, 3, 6],
        [1, 4, 7],
        [2, 5],
      ],
    ],
    [4, 4, [[0], [1], [2], [3]]],
    [3, 5, [[0], [1], [2], [], []]],
    [
      5,
      2,
      [
        [0, 2, 4],
        [1, 3],
      ],
    ],
  ])('%i queues over %i consumers', (m, c, expected) => {
    expect(split(allocateAveragelyByCircle, m, c)).toEqual(expected);
  });
});

test.each([allocateAveragely, allocateAveragelyByCircle])(
  '$name gives every queue to exactly one consumer, and nothing to a stranger',
  (strategy) => {
    for (let m = 0; m <= 17; m++) {
      for (let c = 1; c <= 6; c++) {
        const all = split(strategy, m, c)
          .flat()
          .sort((a, b) => a - b);
        expect(all).toEqual(queues(m).map((q) => q.queueId));
      }
    }
    expect(strategy.allocate('stranger', queues(4), cids(2))).toEqual([]);
  },
);
