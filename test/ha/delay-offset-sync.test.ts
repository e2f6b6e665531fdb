import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemotingClient } from '../../common/net/client';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { type RunningBroker, waitFor } from '../broker/support';
import { removeDir, type RunningNamesrv, startNamesrv } from '../support/processes';
import { silent, startMaster, startSlave } from './support';

/**
 * GET_ALL_DELAY_OFFSET before any delayed message was delivered: the master has no
 * `delayOffset.json` yet and answers as a Java broker does, SUCCESS with an empty table; its
 * slave takes that as "no offsets yet" and its metadata sync goes on without an error.
 */
describe('delay offsets of a master that has delivered nothing yet', () => {
  let namesrv: RunningNamesrv;
  let master: RunningBroker;
  let slave: RunningBroker;
  let remoting: RemotingClient;

  beforeAll(async () => {
    namesrv = await startNamesrv();
    master = await startMaster(namesrv.addr);
    slave = await startSlave(namesrv.addr, 1);
    remoting = new RemotingClient({ logger: silent });
  });

  afterAll(async () => {
    remoting.close();
    await slave.stop();
    await master.stop();
    await namesrv.stop();
    for (const p of [namesrv, master, slave]) removeDir(p.dataDir);
  });

  const delayOffsetFile = (broker: RunningBroker) =>
    join(broker.dataDir, 'config', 'delayOffset.json');

  it('the master answers SUCCESS with an empty offset table', async () => {
    expect(existsSync(delayOffsetFile(master))).toBe(false);
    const response = await remoting.invoke(
      master.addr,
      createRequest(RequestCode.GET_ALL_DELAY_OFFSET),
      5000,
    );
    expect(response.code).toBe(ResponseCode.SUCCESS);
    expect(JSON.parse(response.body!.toString('utf8'))).toEqual({ offsetTable: {} });
  });

  it('the slave copies the empty table and its metadata sync reports no failure', async () => {
    // The delay offsets are the last step of a sync pass: the file is there once a pass is done.
    await waitFor(
      () => existsSync(delayOffsetFile(slave)),
      15_000,
      "the master's delay offsets on the slave",
    );
    expect(JSON.parse(readFileSync(delayOffsetFile(slave), 'utf8'))).toEqual({ offsetTable: {} });
    expect(slave.logs.filter((l) => l.msg === 'metadata sync failed')).toEqual([]);
  });
});
