/**
 * Bad input against a real broker process while a well-behaved producer keeps sending: garbage
 * bytes, a frame announcing more than `frameMaxLength`, a header that is not JSON and an
 * oversized message each get an error response or a closed connection plus a log line, and
 * every send of the other client succeeds throughout (DESIGN.md "Bad input never crashes").
 */
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../common/logger';
import { encodeProperties } from '../../common/message/properties';
import { RemotingClient } from '../../common/net/client';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { jsonFrame, rawFrame } from '../helpers/frames';
import { RawPeer } from '../helpers/remoting';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { createTopic, sendV2Header, startBroker, type RunningBroker } from './support';

const logger = createLogger('test', 'silent');
const TOPIC = 'BadInputTopic';

const sendHeader = () => sendV2Header(TOPIC, { properties: encodeProperties({ TAGS: 'T' }) });

describe('bad input against a running broker', () => {
  let namesrv: RunningNamesrv;
  let broker: RunningBroker;
  const client = new RemotingClient({ logger });

  beforeAll(async () => {
    namesrv = await startNamesrv();
    broker = await startBroker(namesrv.addr, { frameMaxLength: 8 * 1024 * 1024 });
    await createTopic(client, broker.addr, TOPIC, 1);
  });

  afterAll(async () => {
    client.close();
    expect(await broker?.stop()).toBe(0);
    await namesrv?.stop();
    removeDir(broker.dataDir);
    removeDir(namesrv.dataDir);
  });

  it('answers or drops the bad clients and keeps serving a good one', async () => {
    let sending = true;
    const codes: number[] = [];
    const goodClient = (async () => {
      while (sending) {
        const response = await client.invoke(
          broker.addr,
          createRequest(RequestCode.SEND_MESSAGE_V2, sendHeader(), Buffer.from('good')),
          5000,
        );
        codes.push(response.code);
      }
    })();

    const garbage = await RawPeer.connect(broker.port);
    garbage.write(randomBytes(4096));
    await garbage.closed;

    const huge = await RawPeer.connect(broker.port);
    const prefix = Buffer.alloc(8);
    prefix.writeInt32BE(0x7fffffff, 0);
    huge.write(prefix);
    await huge.closed;

    const notJson = await RawPeer.connect(broker.port);
    notJson.write(rawFrame(0, Buffer.from('{"code":10,', 'utf8')));
    await notJson.closed;

    // A well-formed frame whose message is over maxMessageSize (4 MiB) gets MESSAGE_ILLEGAL and
    // the connection stays usable.
    const oversized = await RawPeer.connect(broker.port);
    const request = {
      code: RequestCode.SEND_MESSAGE_V2,
      language: 'JAVA',
      version: 0,
      opaque: 1,
      flag: 0,
    };
    oversized.write(
      jsonFrame({ ...request, extFields: sendHeader() }, Buffer.alloc(5 * 1024 * 1024)),
    );
    oversized.write(
      jsonFrame({ ...request, opaque: 2, extFields: sendHeader() }, Buffer.from('ok')),
    );
    const [tooBig, fine] = await oversized.waitForResponses(2, 10_000);
    expect(tooBig.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(tooBig.remark).toMatch(/over the limit/);
    expect(fine.code).toBe(ResponseCode.SUCCESS);
    oversized.destroy();

    sending = false;
    await goodClient;
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((code) => code === ResponseCode.SUCCESS)).toBe(true);
    const closedForBadFrames = broker.logs.filter(
      (l) => l.msg === 'malformed frame, closing connection',
    );
    expect(closedForBadFrames.length).toBeGreaterThanOrEqual(3);
  });
});
