/**
 * Runs an ali-ons 3.12.0 scenario against a running name server and broker and prints its
 * counts as one JSON line. It runs as its own process (the compiled `dist/` copy, started by
 * ali-ons.e2e.test.ts) because ali-ons leaves sockets and timers behind after close(), which
 * would keep a jest worker alive.
 *
 *   node dist/test/broker/ali-ons-driver.js '{"nameSrv":"127.0.0.1:9876","scenario":"steady",…}'
 */
interface OnsMessage {
  body: Buffer;
  reconsumeTimes: number;
  tags: string;
  /** Read back as the space-joined KEYS property. */
  keys: string;
}
interface OnsClient {
  ready(): Promise<void>;
  close(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface OnsProducer extends OnsClient {
  send(msg: object): Promise<{ sendStatus: string }>;
}
interface OnsConsumer extends OnsClient {
  subscribe(topic: string, expression: string, handler: (msg: OnsMessage) => Promise<void>): void;
}
// ali-ons is plain JavaScript without types; these are the parts of it the driver uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ons = require('ali-ons') as {
  Producer: new (options: object) => OnsProducer;
  Consumer: new (options: object) => OnsConsumer;
  Message: new (topic: string, tags: string, body: string) => { keys: string[] };
};

export interface DriverInput {
  nameSrv: string;
  /**
   * `steady`: three members settle before sending; `join`: two members join mid-send;
   * `failing`: one member whose handler always throws, so every message goes back to the
   * broker (CONSUMER_SEND_MSG_BACK) until it reaches the DLQ.
   */
  scenario: 'steady' | 'join' | 'failing';
  /** ali-ons `maxReconsumeTimes` (default 16); sent with every send-back. */
  maxReconsumeTimes?: number;
  topic: string;
  group: string;
  total: number;
  /** How long to wait for every message (ms). */
  timeoutMs: number;
}

export interface DriverResult {
  sent: number;
  /** Distinct message bodies received by the group. */
  unique: number;
  /** Bodies received more than once. */
  duplicates: number;
  /** Messages received per member, in member order. */
  perMember: number[];
  /** Sends not SEND_OK, and messages whose tags or keys were not the ones sent. */
  wrong: string[];
  /** Distinct bodies a `TagA` subscriber in another group received, and any it should not have. */
  tagA: number;
  tagAWrong: number;
  /** `failing`: handler calls in all, and the distinct reconsumeTimes the handler saw. */
  deliveries?: number;
  reconsumeTimes?: number[];
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
// ali-ons asserts an HTTP client exists even when `nameSrv` is given; it is never called.
const httpclient = {
  request() {
    throw new Error('ali-ons must not look up name servers over HTTP here');
  },
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const tagOf = (n: number) => (n % 3 === 0 ? 'TagB' : 'TagA');

async function run(input: DriverInput): Promise<DriverResult> {
  const options = (extra: object) => ({
    httpclient,
    nameSrv: input.nameSrv,
    logger: quiet,
    // Every second instead of every 10 or 30 s, so members settle quickly.
    rebalanceInterval: 1000,
    heartbeatBrokerInterval: 1000,
    pollNameServerInteval: 1000,
    persistConsumerOffsetInterval: 1000,
    ...(input.maxReconsumeTimes === undefined
      ? {}
      : { maxReconsumeTimes: input.maxReconsumeTimes }),
    ...extra,
  });
  const clients: OnsClient[] = [];
  const track = <T extends OnsClient>(client: T): T => {
    // The retry topic has no route until the broker saw the first heartbeat: ali-ons reports
    // that as an error event (remoting.md §8.1) and carries on.
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const result: DriverResult = {
    sent: 0,
    unique: 0,
    duplicates: 0,
    perMember: [],
    wrong: [],
    tagA: 0,
    tagAWrong: 0,
  };
  const received = new Map<string, number>();
  if (input.scenario === 'failing') {
    const failed = await failEveryTime(input, options, track, result);
    await Promise.all(clients.map((c) => c.close()));
    return failed;
  }
  const member = async (name: string) => {
    const index = result.perMember.length;
    result.perMember.push(0);
    const c = track(new ons.Consumer(options({ consumerGroup: input.group, instanceName: name })));
    c.subscribe(input.topic, '*', async (msg) => {
      const body = msg.body.toString();
      received.set(body, (received.get(body) ?? 0) + 1);
      result.perMember[index]++;
      const n = Number(body.slice(4));
      if (msg.tags !== tagOf(n) || msg.keys !== `key-${n}`) {
        result.wrong.push(`${body}: tags ${msg.tags}, keys ${msg.keys}`);
      }
    });
    await c.ready();
  };
  const tagA = new Set<string>();
  const tagConsumer = track(
    new ons.Consumer(options({ consumerGroup: `${input.group}_TAGA`, instanceName: 'tag-a' })),
  );
  tagConsumer.subscribe(input.topic, 'TagA', async (msg) => {
    tagA.add(msg.body.toString());
    if (msg.tags !== 'TagA') result.tagAWrong++;
  });
  await tagConsumer.ready();

  await member('m0');
  if (input.scenario === 'steady') {
    await Promise.all([member('m1'), member('m2')]);
  }
  const producer = track(new ons.Producer(options({ producerGroup: `${input.group}_P` })));
  await producer.ready();
  // Let the members see each other before sending, so no queue moves while messages flow.
  if (input.scenario === 'steady') await sleep(3000);

  let next = 0;
  const sender = async () => {
    while (next < input.total) {
      const n = next++;
      if (input.scenario === 'join' && n === Math.floor(input.total / 2)) {
        await Promise.all([member('m1'), member('m2')]);
      }
      const msg = new ons.Message(input.topic, tagOf(n), `msg-${n}`);
      msg.keys = [`key-${n}`];
      const sent = await producer.send(msg);
      if (sent.sendStatus === 'SEND_OK') result.sent++;
      else result.wrong.push(`send ${n}: ${sent.sendStatus}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, sender));

  const expectedTagA = Array.from({ length: input.total }, (_, n) => n).filter(
    (n) => tagOf(n) === 'TagA',
  ).length;
  const deadline = Date.now() + input.timeoutMs;
  while ((received.size < input.total || tagA.size < expectedTagA) && Date.now() < deadline) {
    await sleep(50);
  }
  // A short quiet period so late duplicates are counted too.
  await sleep(500);
  result.unique = received.size;
  result.duplicates = [...received.values()].filter((count) => count > 1).length;
  result.tagA = tagA.size;
  await Promise.all(clients.map((c) => c.close()));
  return result;
}

/**
 * Sends `total` messages to a consumer that always throws; waits until each was handed to it
 * `maxReconsumeTimes + 1` times (the original and every retry) or the timeout passes.
 */
async function failEveryTime(
  input: DriverInput,
  options: (extra: object) => object,
  track: <T extends OnsClient>(client: T) => T,
  result: DriverResult,
): Promise<DriverResult> {
  const perMessage = (input.maxReconsumeTimes ?? 16) + 1;
  const received = new Map<string, number>();
  const reconsumeTimes = new Set<number>();
  let deliveries = 0;
  const consumer = track(
    new ons.Consumer(options({ consumerGroup: input.group, instanceName: 'failing' })),
  );
  consumer.subscribe(input.topic, '*', async (msg) => {
    const body = msg.body.toString();
    received.set(body, (received.get(body) ?? 0) + 1);
    reconsumeTimes.add(msg.reconsumeTimes);
    deliveries++;
    throw new Error(`failing on purpose: ${body}`);
  });
  await consumer.ready();
  const producer = track(new ons.Producer(options({ producerGroup: `${input.group}_P` })));
  await producer.ready();
  for (let n = 0; n < input.total; n++) {
    const sent = await producer.send(new ons.Message(input.topic, tagOf(n), `msg-${n}`));
    if (sent.sendStatus === 'SEND_OK') result.sent++;
    else result.wrong.push(`send ${n}: ${sent.sendStatus}`);
  }
  const deadline = Date.now() + input.timeoutMs;
  const done = () =>
    received.size === input.total && [...received.values()].every((c) => c >= perMessage);
  while (!done() && Date.now() < deadline) await sleep(50);
  // A quiet period: a message handed over once too often would show up here.
  await sleep(1500);
  result.unique = received.size;
  result.deliveries = deliveries;
  result.reconsumeTimes = [...reconsumeTimes].sort((a, b) => a - b);
  return result;
}

run(JSON.parse(process.argv[2] ?? '{}') as DriverInput).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
