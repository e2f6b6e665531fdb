import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { deflateSync } from 'node:zlib';
import { NamesrvClient } from '../../client/namesrv-client';
import { RemotingClient } from '../../common/net/client';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { RawPeer, silentLogger, sleep } from '../helpers/remoting';
import { Prng, seedFromEnv } from '../helpers/prng';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { topicConfig, topicTable } from './fixtures';
import { NamesrvFuzzFrames, type AnsweredFrame } from './fuzz-frames';

/**
 * Throws well over 100,000 random and mutated frames at a real name server process, over a
 * few long connections (many frames each, every answer checked) and over thousands of short
 * ones (a few frames each), while a broker stays registered and a client keeps asking for
 * its route. Afterwards the server must still answer, have counted and logged the rejects,
 * and have stayed under 100 MiB of resident memory throughout.
 */

const KNOWN_TOPIC = 'FuzzKnownTopic';
const KNOWN_BROKER = 'fuzz-known-broker';
const RSS_LIMIT_BYTES = 100 * 1024 * 1024;

/** Long connections and their answered frames each, sent in pipelined batches. */
const STREAM_CONNECTIONS = 4;
const STREAM_FRAMES_EACH = 10_000;
const STREAM_BATCH = 250;
/** Frames spread over short connections, a few at a time, by parallel workers. */
const SHORT_FRAMES = 65_000;
const SHORT_WORKERS = 12;

interface Tally {
  frames: number;
  answered: number;
  headerErrors: number;
  /** Connections the server had to close because they end with a rejected frame. */
  rejectConnections: number;
  /** Of those, how many the server did close on its own. */
  closedByServer: number;
  shortConnections: number;
}

/** Samples a process's resident set size from /proc, keeping the maximum. */
function sampleRss(pid: number, intervalMs: number) {
  let max = 0;
  const read = () => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    max = Math.max(max, kib * 1024);
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      read();
      return max;
    },
  };
}

/** `rmqts_remoting_bad_frames_total` from the process's /metrics, by reason. */
async function badFramesByReason(httpPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const byReason = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('rmqts_remoting_bad_frames_total{')) continue;
    const reason = /reason="([^"]*)"/.exec(line)?.[1] ?? '';
    byReason.set(reason, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return byReason;
}

function sumExcept(counts: Map<string, number>, excluded: string): number {
  let sum = 0;
  for (const [reason, n] of counts) if (reason !== excluded) sum += n;
  return sum;
}

/** Writes `data` in up to three chunks, so frames also arrive split at random points. */
function writeSplit(write: (b: Buffer) => void, data: Buffer, rng: Prng): void {
  const cuts = [0, rng.int(0, data.length), rng.int(0, data.length), data.length].sort(
    (a, b) => a - b,
  );
  for (let i = 0; i < 3; i++) if (cuts[i + 1] > cuts[i]) write(data.subarray(cuts[i], cuts[i + 1]));
}

/**
 * One long connection: batches of answered frames, each answer checked against its opaque's
 * expected code; then one rejected frame, which must make the server close the connection.
 */
async function streamConnection(
  port: number,
  gen: NamesrvFuzzFrames,
  rng: Prng,
  tally: Tally,
): Promise<void> {
  const peer = await RawPeer.connect(port);
  try {
    const expected = new Map<number, AnsweredFrame>();
    let opaque = 1;
    for (let sent = 0; sent < STREAM_FRAMES_EACH; sent += STREAM_BATCH) {
      const batch: Buffer[] = [];
      for (let i = 0; i < STREAM_BATCH; i++) {
        const frame = gen.answered(opaque++);
        expected.set(frame.opaque, frame);
        batch.push(frame.bytes);
        if (frame.headerError) tally.headerErrors++;
      }
      writeSplit((b) => peer.write(b), Buffer.concat(batch), rng);
      tally.frames += STREAM_BATCH;
      await peer.waitForResponses(opaque - 1, 30_000);
    }
    for (const response of peer.received) {
      const frame = expected.get(response.opaque);
      if (!frame) throw new Error(`answer with unknown opaque ${response.opaque}`);
      if (response.code !== frame.expectedCode) {
        throw new Error(
          `frame ${frame.bytes.toString('hex')} answered ${response.code} (${response.remark}), ` +
            `expected ${frame.expectedCode}`,
        );
      }
      expected.delete(response.opaque);
    }
    expect(expected.size).toBe(0);
    tally.answered += peer.received.length;

    peer.write(gen.rejected());
    tally.frames++;
    tally.rejectConnections++;
    await withTimeout(peer.closed, 10_000, 'server to close a stream after a rejected frame');
    tally.closedByServer++;
  } finally {
    peer.destroy();
  }
}

/**
 * One short connection; resolves with the number of frames sent. Either a few answered frames and then a rejected one (the server must
 * close it by itself), or a mix of answered, rejected and mutated frames or plain random bytes
 * (we half-close, and the server must close too).
 */
function shortConnection(
  port: number,
  gen: NamesrvFuzzFrames,
  rng: Prng,
  tally: Tally,
): Promise<number> {
  const frames: Buffer[] = [];
  const mustReject = rng.bool(0.4);
  if (mustReject) {
    for (let i = rng.int(0, 6); i > 0; i--) frames.push(gen.answered(rng.int32()).bytes);
    frames.push(gen.rejected());
  } else {
    for (let i = rng.int(1, 14); i > 0; i--) {
      const kind = rng.weighted([
        [3, 'answered'],
        [1, 'rejected'],
        [6, 'mutated'],
      ] as const);
      frames.push(
        kind === 'answered'
          ? gen.answered(rng.int32()).bytes
          : kind === 'rejected'
            ? gen.rejected()
            : gen.mutated(),
      );
    }
  }
  tally.frames += frames.length;
  tally.shortConnections++;
  if (mustReject) tally.rejectConnections++;

  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let endedByUs = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`short connection not closed (${mustReject ? 'reject' : 'mixed'})`));
    }, 15_000);
    socket.on('data', () => undefined); // read whatever the server answers
    socket.on('error', () => undefined); // a reset from the server is an answer too
    socket.on('close', () => {
      clearTimeout(timer);
      if (mustReject && !endedByUs) tally.closedByServer++;
      resolve(frames.length);
    });
    socket.once('connect', () => {
      writeSplit((b) => socket.write(b), Buffer.concat(frames), rng);
      if (!mustReject) {
        endedByUs = true;
        socket.end();
      }
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('name server under fuzzed input', () => {
  let ns: RunningNamesrv;
  const remoting = new RemotingClient({ logger: silentLogger });
  const client = new NamesrvClient(remoting);
  // The broker has its own connection, as a real one does: its close would drop the broker.
  const brokerRemoting = new RemotingClient({ logger: silentLogger });
  const broker = new NamesrvClient(brokerRemoting);

  beforeAll(async () => {
    ns = await startNamesrv();
  });
  afterAll(async () => {
    remoting.close();
    brokerRemoting.close();
    await ns?.stop();
    if (ns) removeDir(ns.dataDir);
  });

  it('keeps serving, counts and logs the rejects, and stays under 100 MiB', async () => {
    const seed = seedFromEnv('FUZZ_SEED', 'namesrv fuzz');
    const started = Date.now();

    await broker.registerBroker(
      ns.addr,
      {
        clusterName: 'FuzzCluster',
        brokerName: KNOWN_BROKER,
        brokerAddr: '127.0.0.1:10911',
        brokerId: 0,
        haServerAddr: '127.0.0.1:10912',
        compressed: false,
      },
      {
        filterServerList: [],
        topicConfigSerializeWrapper: topicTable([topicConfig(KNOWN_TOPIC)]),
      },
    );
    const before = await badFramesByReason(ns.httpPort);
    const rss = sampleRss(ns.child.pid!, 50);
    const port = Number(ns.addr.split(':')[1]);
    const tally: Tally = {
      frames: 0,
      answered: 0,
      headerErrors: 0,
      rejectConnections: 0,
      closedByServer: 0,
      shortConnections: 0,
    };

    // A well-behaved client on its own long-lived connection, asking all along.
    let fuzzing = true;
    let routeAnswers = 0;
    const monitor = (async () => {
      while (fuzzing) {
        const route = await client.getRouteInfo(ns.addr, KNOWN_TOPIC);
        expect(route?.brokerDatas[0].brokerAddrs).toEqual({ '0': '127.0.0.1:10911' });
        routeAnswers++;
        await sleep(20);
      }
    })();

    let maxRss: number;
    try {
      // Each connection gets its own generator stream, so the run replays from the seed.
      const streams = Array.from({ length: STREAM_CONNECTIONS }, (_, i) => {
        const r = new Prng(seed + 1 + i);
        return streamConnection(port, new NamesrvFuzzFrames(r, KNOWN_TOPIC), r, tally);
      });
      const workers = Array.from({ length: SHORT_WORKERS }, async (_, i) => {
        const r = new Prng(seed + 1000 + i);
        const gen = new NamesrvFuzzFrames(r, KNOWN_TOPIC);
        for (let sent = 0; sent < SHORT_FRAMES / SHORT_WORKERS;) {
          sent += await shortConnection(port, gen, r, tally);
        }
      });
      await Promise.all([...streams, ...workers]);
    } finally {
      fuzzing = false;
      await monitor;
      maxRss = rss.stop();
    }

    const after = await badFramesByReason(ns.httpPort);
    const elapsed = Date.now() - started;
    process.stdout.write(
      `namesrv fuzz: seed ${seed}, ${tally.frames} frames over ` +
        `${tally.shortConnections + STREAM_CONNECTIONS} connections in ${elapsed} ms; ` +
        `${tally.answered} stream answers checked, ${routeAnswers} route answers meanwhile; ` +
        `max RSS ${(maxRss / 1024 / 1024).toFixed(1)} MiB; bad frames by reason ` +
        `${JSON.stringify(Object.fromEntries(after))}\n`,
    );

    expect(tally.frames).toBeGreaterThanOrEqual(100_000);
    expect(tally.answered).toBe(STREAM_CONNECTIONS * STREAM_FRAMES_EACH);
    expect(tally.closedByServer).toBe(tally.rejectConnections);
    expect(routeAnswers).toBeGreaterThan(10);
    expect(maxRss).toBeLessThan(RSS_LIMIT_BYTES);

    // Every connection that ended in a rejected frame was counted once; every mistyped
    // header that was answered was counted too.
    const delta = (reason: string) => (after.get(reason) ?? 0) - (before.get(reason) ?? 0);
    expect(
      sumExcept(after, 'bad_header_field') - sumExcept(before, 'bad_header_field'),
    ).toBeGreaterThanOrEqual(tally.rejectConnections);
    expect(delta('bad_header_field')).toBeGreaterThanOrEqual(tally.headerErrors);
    expect(ns.logs.some((l) => l.msg === 'malformed frame, closing connection')).toBe(true);
    expect(ns.logs.some((l) => l.msg === 'invalid request header')).toBe(true);

    // Still alive, still serving, and the broker's registration survived.
    expect(ns.child.exitCode).toBeNull();
    const route = await client.getRouteInfo(ns.addr, KNOWN_TOPIC);
    expect(route?.queueDatas).toEqual([
      { brokerName: KNOWN_BROKER, perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 },
    ]);
    expect((await client.getClusterInfo(ns.addr)).clusterAddrTable.FuzzCluster).toEqual([
      KNOWN_BROKER,
    ]);
  });

  it('refuses frame-sized bad bodies and zlib bombs without blowing its memory', async () => {
    const rss = sampleRss(ns.child.pid!, 20);
    const identity = {
      brokerName: 'fz-big',
      brokerAddr: '127.0.0.1:1',
      clusterName: 'fz-big-cluster',
      haServerAddr: '127.0.0.1:2',
      brokerId: '0',
    };
    const frameSized = 15 * 1024 * 1024;
    const oneChunk = (length: number) => {
      const raw = Buffer.alloc(length);
      raw.writeInt32BE(length - 4, 0);
      return deflateSync(raw);
    };
    // What each must be refused with: the remark shows where the decoder stopped.
    const bodies: [string, Buffer, boolean, RegExp][] = [
      // Not JSON, as large as a frame allows: once made the lenient JSON parser build a rope
      // of one node per character (590 MiB and seconds of CPU for 15 MiB).
      ['garbage', Buffer.alloc(frameSized, '{ab,'), false, /body is not JSON/],
      // 64 MiB of zeros in 64 KiB of zlib: refused once the output passes the frame size.
      ['zlib bomb', deflateSync(Buffer.alloc(64 * 1024 * 1024)), true, /does not inflate/],
      // Inflates within bounds, to one field that claims 8 MiB.
      ['huge field', oneChunk(8 * 1024 * 1024), true, /bad length of dataVersion/],
    ];
    let maxRss: number;
    try {
      for (const [what, body, compressed, remark] of bodies) {
        const response = await remoting.invoke(
          ns.addr,
          createRequest(
            RequestCode.REGISTER_BROKER,
            { ...identity, compressed: String(compressed) },
            body,
          ),
          60_000,
        );
        expect([what, response.code]).toEqual([what, ResponseCode.SYSTEM_ERROR]);
        expect(response.remark).toMatch(remark);
      }
    } finally {
      maxRss = rss.stop();
    }
    process.stdout.write(
      `namesrv hostile bodies: max RSS ${(maxRss / 1024 / 1024).toFixed(1)} MiB\n`,
    );
    // A frame-sized body is held as received chunks, joined, and decoded to text: about three
    // copies of it, on top of what the fuzz bound allows.
    expect(maxRss).toBeLessThan(RSS_LIMIT_BYTES + 4 * frameSized);
    expect(await client.getRouteInfo(ns.addr, KNOWN_TOPIC)).toBeDefined();
  });
});
