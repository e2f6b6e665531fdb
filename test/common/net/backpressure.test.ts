import type { Connection } from '../../../common/net/connection';
import { createRequest, createResponse } from '../../../common/protocol/command';
import { jsonFrame } from '../../helpers/frames';
import {
  newClient,
  RawPeer,
  sleep,
  startServer,
  type TestServer,
  waitFor,
} from '../../helpers/remoting';

const BIG_SYNC = 2001;
const BIG_ASYNC = 2002;
const SMALL = 2003;
const REPLY_SIZE = 64 * 1024;

/** Samples `read` until it has not changed for `stableMs` (the server has stopped). */
async function settle(read: () => number, stableMs = 300, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  while (Date.now() - since < stableMs) {
    if (Date.now() > deadline) throw new Error(`still changing after ${timeoutMs} ms: ${last}`);
    await sleep(20);
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

describe('backpressure', () => {
  let t: TestServer;
  let handled = 0;

  beforeEach(async () => {
    handled = 0;
    t = await startServer((server) =>
      server
        .register(BIG_SYNC, (req) => {
          handled++;
          return createResponse(req, 0, { body: Buffer.alloc(REPLY_SIZE, 1) });
        })
        .register(BIG_ASYNC, async (req) => {
          handled++;
          await sleep(0);
          return createResponse(req, 0, { body: Buffer.alloc(REPLY_SIZE, 2) });
        })
        .register(SMALL, (req) => createResponse(req, 0)),
    );
  });

  afterEach(async () => {
    await t.server.close();
  });

  it.each([
    ['synchronous', BIG_SYNC],
    ['asynchronous', BIG_ASYNC],
  ])(
    'stops reading from a peer that never reads large replies (%s handler)',
    async (_kind, code) => {
      const peer = await RawPeer.connect(t.port, { read: false });
      const count = 20_000;
      const frames = Array.from({ length: count }, (_, i) =>
        jsonFrame({ code, opaque: i + 1, flag: 0, language: 'JAVA', version: 409 }),
      );
      const sent = Buffer.concat(frames);
      peer.write(sent);
      await waitFor(() => t.server.openConnections.size === 1);
      const [serverConn] = [...t.server.openConnections] as Connection[];

      const handledWhenStopped = await settle(() => handled);
      const bytesRead = serverConn.socket.bytesRead;
      const buffered = serverConn.socket.writableLength;
      const unbounded = count * REPLY_SIZE; // 1.25 GB if the server read everything
      process.stdout.write(
        `backpressure (${_kind}): handled ${handledWhenStopped}/${count}, read ${bytesRead}/${sent.length} B, buffered ${buffered} B\n`,
      );
      // The server stopped reading long before the end of what was sent…
      expect(handledWhenStopped).toBeLessThan(count);
      expect(bytesRead).toBeLessThan(sent.length);
      expect(serverConn.socket.isPaused()).toBe(true);
      // …and what it buffers for the peer is bounded by the replies it did produce.
      expect(buffered).toBeLessThanOrEqual(handledWhenStopped * (REPLY_SIZE + 200));
      expect(buffered).toBeLessThan(unbounded / 4);
      if (code === BIG_SYNC) {
        // Replies written as each request is handled: dispatching stops at the high-water mark.
        expect(buffered).toBeLessThan(4 * REPLY_SIZE + serverConn.socket.writableHighWaterMark);
      } else {
        // Asynchronous replies arrive after every request read in the same event-loop turn has
        // been dispatched: the bound is what one turn reads (a few socket reads), not the stream.
        expect(bytesRead).toBeLessThan(sent.length / 2);
      }

      // Once the peer reads, everything it asked for arrives, in full and matched by opaque.
      peer.socket.resume();
      const replies = await peer.waitForResponses(count, 60_000);
      expect(handled).toBe(count);
      const opaques = new Set(replies.map((r) => r.opaque));
      expect(opaques.size).toBe(count);
      expect(replies.every((r) => r.body?.length === REPLY_SIZE)).toBe(true);
      peer.destroy();
    },
    90_000,
  );

  it('does not deadlock a client whose requests are big and whose replies are many', async () => {
    // The client writes faster than the server reads while the server's replies pile up on the
    // client: if the client paused reading while its own writes were congested, both sides
    // would stop reading and every call would time out.
    const client = newClient();
    try {
      const body = Buffer.alloc(256 * 1024, 3);
      const calls = Array.from({ length: 400 }, () =>
        client.invoke(t.address, createRequest(BIG_SYNC, {}, body), 10_000),
      );
      const replies = await Promise.all(calls);
      expect(replies.every((r) => r.code === 0 && r.body?.length === REPLY_SIZE)).toBe(true);
    } finally {
      client.close();
    }
  }, 60_000);

  it('keeps answering small requests on other connections while one peer is stalled', async () => {
    const stalled = await RawPeer.connect(t.port, { read: false });
    stalled.write(
      Array.from({ length: 5000 }, (_, i) => jsonFrame({ code: BIG_SYNC, opaque: i + 1, flag: 0 })),
    );
    await settle(() => handled);
    const client = newClient();
    try {
      const res = await client.invoke(t.address, createRequest(SMALL), 2000);
      expect(res.code).toBe(0);
    } finally {
      client.close();
      stalled.destroy();
    }
  });
});
