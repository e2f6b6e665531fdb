import { ResponseCode } from '../../../common/protocol/codes';
import { createRequest, createResponse } from '../../../common/protocol/command';
import { newClient, startServer, type TestServer } from '../../helpers/remoting';

const PING = 1101;

describe('RemotingClient connection pool', () => {
  let servers: TestServer[];
  const client = newClient();

  beforeAll(async () => {
    servers = await Promise.all(
      [0, 1].map(() =>
        startServer((s) =>
          s.register(PING, (req, conn) =>
            createResponse(req, ResponseCode.SUCCESS, { remark: conn.remoteAddress }),
          ),
        ),
      ),
    );
  });
  afterAll(async () => {
    client.close();
    await Promise.all(servers.map((t) => t.server.close()));
  });

  it('keeps one connection per address, shared by concurrent first callers', async () => {
    const [a, b] = servers;
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.invoke((i % 2 === 0 ? a : b).address, createRequest(PING)),
      ),
    );
    expect(replies.every((r) => r.code === ResponseCode.SUCCESS)).toBe(true);
    expect(a.server.openConnections.size).toBe(1);
    expect(b.server.openConnections.size).toBe(1);
    // Each server saw every request come from the one local port of its pooled connection.
    const fromA = new Set(replies.filter((_, i) => i % 2 === 0).map((r) => r.remark));
    const fromB = new Set(replies.filter((_, i) => i % 2 === 1).map((r) => r.remark));
    expect(fromA.size).toBe(1);
    expect(fromB.size).toBe(1);
    expect(await client.connection(a.address)).not.toBe(await client.connection(b.address));
  });

  it('refuses new calls once closed', async () => {
    const closed = newClient();
    closed.close();
    await expect(closed.invoke(servers[0].address, createRequest(PING))).rejects.toThrow(/closed/);
  });
});
