import type { RemotingClient } from '../../../common/net/client';
import {
  type Connection,
  ConnectionClosedError,
  RemotingTimeoutError,
} from '../../../common/net/connection';
import { RequestCode, ResponseCode } from '../../../common/protocol/codes';
import {
  createRequest,
  createResponse,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  type RemotingCommand,
} from '../../../common/protocol/command';
import { RemotingError } from '../../../common/protocol/errors';
import { SerializeType } from '../../../common/protocol/frame';
import { defineHeader, required } from '../../../common/protocol/header-schema';
import { jsonFrame } from '../../helpers/frames';
import { Prng } from '../../helpers/prng';
import {
  counterValue,
  newClient,
  RawPeer,
  sleep,
  startServer,
  type TestServer,
  waitFor,
} from '../../helpers/remoting';

const ECHO = 1001;
const SLOW = 1002;
const THROW_REMOTING = 1003;
const THROW_HEADER = 1004;
const THROW_PLAIN = 1005;
const THROW_NON_ERROR = 1006;
const NO_REPLY = 1007;
const UNENCODABLE = 1008;
const CALL_CLIENT = 1009;
const THROW_UNPRINTABLE = 1010;
const REJECT_UNPRINTABLE = 1011;

/** A thrown value whose message cannot even be read. */
const unprintable = {
  toString(): string {
    throw new Error('no message');
  },
};

const EchoHeader = defineHeader('EchoHeader', { n: required.int, text: required.string });

describe('RemotingServer + RemotingClient over TCP', () => {
  let t: TestServer;
  let client: RemotingClient;
  const received: RemotingCommand[] = [];
  const serverSide: Connection[] = [];
  const rng = new Prng(7);

  beforeEach(async () => {
    received.length = 0;
    serverSide.length = 0;
    t = await startServer((server) => {
      server
        .register(ECHO, (req, conn) => {
          received.push(req);
          serverSide.push(conn);
          const header = EchoHeader.decode(req.extFields);
          return createResponse(req, ResponseCode.SUCCESS, {
            extFields: EchoHeader.encode(header),
            body: req.body,
          });
        })
        .register(SLOW, async (req) => {
          await sleep(rng.int(0, 30));
          return createResponse(req, 0, { extFields: { n: req.extFields?.n ?? '' } });
        })
        .register(THROW_REMOTING, () => {
          throw new RemotingError(ResponseCode.TOPIC_NOT_EXIST, 'No topic route info of T');
        })
        .register(THROW_HEADER, (req) => {
          EchoHeader.decode(req.extFields);
          return createResponse(req, 0);
        })
        .register(THROW_PLAIN, async () => {
          await sleep(1);
          throw new Error('disk on fire');
        })
        .register(THROW_NON_ERROR, () => {
          throw undefined;
        })
        .register(THROW_UNPRINTABLE, () => {
          throw unprintable;
        })
        .register(REJECT_UNPRINTABLE, () => Promise.reject(unprintable))
        .register(NO_REPLY, (req) => {
          received.push(req);
          return undefined;
        })
        .register(UNENCODABLE, (req) =>
          // A header over 16 MiB cannot be framed (24-bit header length).
          createResponse(req, 0, { remark: 'x'.repeat(0x1000000) }),
        )
        .register(CALL_CLIENT, (req, conn) => {
          serverSide.push(conn);
          return createResponse(req, 0);
        });
    });
    client = newClient();
  });

  afterEach(async () => {
    client.close();
    await t.server.close();
  });

  it('matches many concurrent responses answered out of order by opaque', async () => {
    const count = 300;
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client.invoke(t.address, createRequest(SLOW, { n: String(i) }), 5000),
      ),
    );
    responses.forEach((res, i) => {
      expect(res.code).toBe(0);
      expect(res.flag & FLAG_RESPONSE).toBe(FLAG_RESPONSE);
      expect(res.extFields?.n).toBe(String(i));
    });
    expect(t.server.openConnections.size).toBe(1);
  });

  it('echoes a typed header and body', async () => {
    const res = await client.invoke(
      t.address,
      createRequest(ECHO, { n: '5', text: 'héllo' }, Buffer.from('payload')),
    );
    expect(res).toMatchObject({ code: 0, extFields: { n: '5', text: 'héllo' }, version: 409 });
    expect(res.body?.toString()).toBe('payload');
    expect(await counterValue(t.metrics.requests, { code: String(ECHO) })).toBe(1);
  });

  it('delivers a body sent as several buffers as one body, both ways', async () => {
    const parts = [
      Buffer.from('one,'),
      Buffer.alloc(0),
      Buffer.from('two,'),
      Buffer.alloc(70_000, 'z'),
    ];
    const res = await client.invoke(t.address, createRequest(ECHO, { n: '1', text: 't' }, parts));
    expect(received[0].body).toEqual(Buffer.concat(parts));
    expect(res.body).toEqual(Buffer.concat(parts));
  });

  it('answers a binary (ROCKETMQ) request in binary', async () => {
    const req = {
      ...createRequest(ECHO, { n: '9', text: 'bin' }),
      serializeType: SerializeType.ROCKETMQ,
    };
    const res = await client.invoke(t.address, req);
    expect(received[0].serializeType).toBe(SerializeType.ROCKETMQ);
    expect(res.serializeType).toBe(SerializeType.ROCKETMQ);
    expect(res.extFields).toEqual({ n: '9', text: 'bin' });
  });

  it('sends no reply to a oneway request, even when the handler returns one', async () => {
    const peer = await RawPeer.connect(t.port);
    try {
      peer.write(
        jsonFrame({ code: ECHO, opaque: 1, flag: FLAG_ONEWAY, extFields: { n: '1', text: 'a' } }),
      );
      peer.write(jsonFrame({ code: ECHO, opaque: 2, flag: 0, extFields: { n: '2', text: 'b' } }));
      const [reply] = await peer.waitForResponses(1);
      expect(reply.opaque).toBe(2);
      await sleep(50);
      expect(peer.received).toHaveLength(1);
      expect(received.map((r) => r.extFields?.n)).toEqual(['1', '2']);
    } finally {
      peer.destroy();
    }
  });

  it('delivers oneway requests from the client', async () => {
    await client.invokeOneway(t.address, createRequest(NO_REPLY, { x: '1' }));
    await waitFor(() => received.length === 1);
    expect(received[0].flag & FLAG_ONEWAY).toBe(FLAG_ONEWAY);
  });

  it('delivers, in order, oneway requests written in one tick just before the connection closes', async () => {
    const conn = await client.connection(t.address);
    const sent = Array.from({ length: 50 }, (_, i) => String(i));
    for (const x of sent) conn.invokeOneway(createRequest(NO_REPLY, { x }));
    conn.close();
    await waitFor(() => received.length === sent.length);
    expect(received.map((r) => r.extFields?.x)).toEqual(sent);
  });

  it('answers a code without a handler with REQUEST_CODE_NOT_SUPPORTED and a remark', async () => {
    const res = await client.invoke(t.address, createRequest(4242));
    expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(res.remark).toBe(' request type 4242 not supported');
  });

  it('does not create a metric label per unknown request code', async () => {
    for (let code = 50_000; code < 50_050; code++) {
      await client.invoke(t.address, createRequest(code));
    }
    const { values } = await t.metrics.requests.get();
    expect(values.length).toBeLessThanOrEqual(2);
    expect(await counterValue(t.metrics.requests)).toBe(50);
  });

  it('answers a RemotingError with its code and message', async () => {
    const res = await client.invoke(t.address, createRequest(THROW_REMOTING));
    expect(res.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(res.remark).toBe('No topic route info of T');
  });

  it('answers a HeaderError with SYSTEM_ERROR, counts it, and keeps the connection', async () => {
    const res = await client.invoke(t.address, createRequest(THROW_HEADER, { n: 'x', text: 't' }));
    expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(res.remark).toMatch(/n/);
    const missing = await client.invoke(t.address, createRequest(THROW_HEADER, { n: '1' }));
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/missing header field text/);
    const ok = await client.invoke(t.address, createRequest(THROW_HEADER, { n: '1', text: 't' }));
    expect(ok.code).toBe(0);
    expect(t.server.openConnections.size).toBe(1);
    expect(await counterValue(t.metrics.badFrames, { reason: 'bad_header_field' })).toBe(2);
  });

  it('answers any other handler failure with SYSTEM_ERROR', async () => {
    const res = await client.invoke(t.address, createRequest(THROW_PLAIN));
    expect(res).toMatchObject({ code: ResponseCode.SYSTEM_ERROR, remark: 'disk on fire' });
    const odd = await client.invoke(t.address, createRequest(THROW_NON_ERROR));
    expect(odd.code).toBe(ResponseCode.SYSTEM_ERROR);
  });

  it('answers SYSTEM_ERROR for a thrown value that cannot be printed, sync or async', async () => {
    for (const code of [THROW_UNPRINTABLE, REJECT_UNPRINTABLE]) {
      const res = await client.invoke(t.address, createRequest(code));
      expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
    }
    const ok = await client.invoke(t.address, createRequest(ECHO, { n: '1', text: 't' }));
    expect(ok.code).toBe(0);
    expect(t.server.openConnections.size).toBe(1);
  });

  it('answers SYSTEM_ERROR when the reply cannot be encoded, without an unhandled rejection', async () => {
    const res = await client.invoke(t.address, createRequest(UNENCODABLE));
    expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
    const ok = await client.invoke(t.address, createRequest(ECHO, { n: '1', text: 't' }));
    expect(ok.code).toBe(0);
  });

  it('times out an invoke nobody answers and ignores a late reply', async () => {
    const err = await client.invoke(t.address, createRequest(NO_REPLY), 100).catch((e) => e);
    expect(err).toBeInstanceOf(RemotingTimeoutError);
    // The connection is still usable after a timeout.
    const ok = await client.invoke(t.address, createRequest(ECHO, { n: '1', text: 't' }));
    expect(ok.code).toBe(0);
  });

  it('lets the server invoke the client, answered by onRequest', async () => {
    client.close();
    const clientSeen: RemotingCommand[] = [];
    client = newClient({
      onRequest: (req) => {
        clientSeen.push(req);
        return createResponse(req, 0, { extFields: { answer: `re:${req.extFields?.q}` } });
      },
    });
    await client.invoke(t.address, createRequest(CALL_CLIENT));
    const conn = serverSide[0];
    const res = await conn.invoke(
      createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, { q: '42' }),
      2000,
    );
    expect(res).toMatchObject({ code: 0, extFields: { answer: 're:42' } });
    expect(clientSeen[0].code).toBe(RequestCode.GET_CONSUMER_RUNNING_INFO);
    expect(clientSeen[0].opaque).toBe(res.opaque);
    expect(clientSeen[0].opaque).not.toBe(0);
    // A oneway notification reaches onRequest and expects nothing back.
    conn.invokeOneway(createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { q: 'n' }));
    await waitFor(() => clientSeen.length === 2);
    expect(clientSeen[1].flag & FLAG_ONEWAY).toBe(FLAG_ONEWAY);
  });

  it('answers server requests with REQUEST_CODE_NOT_SUPPORTED when the client has no onRequest', async () => {
    await client.invoke(t.address, createRequest(CALL_CLIENT));
    const res = await serverSide[0].invoke(
      createRequest(RequestCode.CHECK_TRANSACTION_STATE),
      2000,
    );
    expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  });

  it('reconnects on the next invoke after the server closed the connection', async () => {
    await client.invoke(t.address, createRequest(CALL_CLIENT));
    const first = await client.connection(t.address);
    serverSide[0].close();
    await new Promise<void>((resolve) => first.onClosed(() => resolve()));
    expect(first.isClosed).toBe(true);
    const res = await client.invoke(t.address, createRequest(CALL_CLIENT));
    expect(res.code).toBe(0);
    const second = await client.connection(t.address);
    expect(second).not.toBe(first);
    expect(serverSide[1]).not.toBe(serverSide[0]);
  });

  it('fails pending invokes with ConnectionClosedError when the connection drops', async () => {
    const pending = client.invoke(t.address, createRequest(NO_REPLY), 5000);
    await waitFor(() => received.length === 1);
    for (const conn of t.server.openConnections) conn.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('reports a refused connection and connects once the server is there', async () => {
    const port = t.port;
    await t.server.close();
    await expect(client.invoke(`127.0.0.1:${port}`, createRequest(ECHO))).rejects.toThrow(
      /connect to/,
    );
    t = await startServer((s) => s.register(ECHO, (req) => createResponse(req, 0)));
    expect((await client.invoke(t.address, createRequest(ECHO))).code).toBe(0);
  });

  it('closes the connection and counts a malformed frame; other connections keep working', async () => {
    const peer = await RawPeer.connect(t.port);
    await client.invoke(t.address, createRequest(ECHO, { n: '1', text: 't' }));
    peer.write(jsonFrame('{"code":1,'));
    await peer.closed;
    expect(await counterValue(t.metrics.badFrames, { reason: 'bad_json' })).toBe(1);
    const ok = await client.invoke(t.address, createRequest(ECHO, { n: '2', text: 't' }));
    expect(ok.code).toBe(0);
  });

  it('counts a bad frame once even when more bytes follow it', async () => {
    const peer = await RawPeer.connect(t.port);
    const bad = jsonFrame('not json');
    const good = jsonFrame({ code: ECHO, opaque: 1, flag: 0, extFields: { n: '1', text: 'a' } });
    peer.write(Buffer.concat([bad, good, bad, good, Buffer.alloc(100_000, 0xff)]));
    await peer.closed;
    await sleep(20);
    expect(await counterValue(t.metrics.badFrames)).toBe(1);
    expect(received).toHaveLength(0);
    expect(peer.received).toHaveLength(0);
  });

  it('ignores responses whose opaque nobody waits for', async () => {
    const peer = await RawPeer.connect(t.port);
    try {
      peer.write(jsonFrame({ code: 0, opaque: 123456, flag: FLAG_RESPONSE }));
      peer.write(jsonFrame({ code: ECHO, opaque: 3, flag: 0, extFields: { n: '3', text: 'c' } }));
      const [reply] = await peer.waitForResponses(1);
      expect(reply.opaque).toBe(3);
    } finally {
      peer.destroy();
    }
  });
});

describe('idle timeout', () => {
  it('closes a connection idle for idleTimeoutMs', async () => {
    const t = await startServer((s) => s.register(ECHO, (req) => createResponse(req, 0)), {
      idleTimeoutMs: 150,
    });
    const client = newClient();
    try {
      await client.invoke(t.address, createRequest(ECHO));
      const conn = await client.connection(t.address);
      const closedByServer = new Promise<void>((resolve) => conn.onClosed(() => resolve()));
      const closes: Connection[] = [];
      t.server.onConnectionClosed((c) => closes.push(c));
      await closedByServer;
      await waitFor(() => closes.length === 1);
      expect(t.server.openConnections.size).toBe(0);
      expect(await counterValue(t.metrics.connections, { event: 'close' })).toBe(1);
    } finally {
      client.close();
      await t.server.close();
    }
  });

  it('keeps a busy connection open', async () => {
    const t = await startServer((s) => s.register(ECHO, (req) => createResponse(req, 0)), {
      idleTimeoutMs: 200,
    });
    const client = newClient();
    try {
      const conn = await client.connection(t.address);
      for (let i = 0; i < 10; i++) {
        await client.invoke(t.address, createRequest(ECHO));
        await sleep(50);
      }
      expect(conn.isClosed).toBe(false);
    } finally {
      client.close();
      await t.server.close();
    }
  });
});
