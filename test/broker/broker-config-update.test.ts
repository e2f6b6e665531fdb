/**
 * GET_BROKER_CONFIG / UPDATE_BROKER_CONFIG (remoting.md §3.6) against a real broker process:
 * live keys change behaviour at once, the rest wait for a restart, every update is persisted
 * in `<storePathRootDir>/config/broker.properties` and survives the restart, bad updates get
 * clear errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../common/logger';
import { parseProperties } from '../../common/config';
import { RemotingClient } from '../../common/net/client';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { sendV2Header, startBroker, type RunningBroker } from './support';

const logger = createLogger('test', 'silent');

describe('broker config over the wire', () => {
  let namesrv: RunningNamesrv;
  let broker: RunningBroker;
  const client = new RemotingClient({ logger });
  const invoke = (code: number, body?: string, ext?: Record<string, string>) =>
    client.invoke(
      broker.addr,
      createRequest(code, ext, body === undefined ? undefined : Buffer.from(body)),
      5000,
    );
  const getConfig = async () => {
    const response = await invoke(RequestCode.GET_BROKER_CONFIG);
    expect(response.code).toBe(ResponseCode.SUCCESS);
    return {
      config: parseProperties(response.body!.toString()),
      version: JSON.parse(response.extFields!.version) as { counter: number },
    };
  };
  const send = () => invoke(RequestCode.SEND_MESSAGE_V2, 'hello', sendV2Header('ConfigTopic'));

  beforeAll(async () => {
    namesrv = await startNamesrv();
    broker = await startBroker(namesrv.addr);
  });

  afterAll(async () => {
    client.close();
    await broker?.stop();
    await namesrv?.stop();
    removeDir(broker.dataDir);
    removeDir(namesrv.dataDir);
  });

  it('applies live keys at once, persists every update and keeps them across a restart', async () => {
    const before = await getConfig();
    expect(before.config.get('brokerPermission')).toBe('6');
    expect((await send()).code).toBe(ResponseCode.SUCCESS);

    const update = await invoke(
      RequestCode.UPDATE_BROKER_CONFIG,
      'brokerPermission=4\nmaxMessageSize=100000\nnoSuchKey=1\n',
    );
    expect(update.code).toBe(ResponseCode.SUCCESS);
    expect(update.remark).toMatch(/next start: maxMessageSize/);
    expect(update.remark).toMatch(/unknown keys ignored: noSuchKey/);
    // Read-only at once: sends are refused.
    expect((await send()).code).toBe(ResponseCode.NO_PERMISSION);
    const after = await getConfig();
    expect(after.config.get('brokerPermission')).toBe('4');
    expect(after.version.counter).toBe(before.version.counter + 1);

    const persisted = readFileSync(join(broker.dataDir, 'config', 'broker.properties'), 'utf8');
    expect(parseProperties(persisted)).toEqual(
      new Map([
        ['brokerPermission', '4'],
        ['maxMessageSize', '100000'],
      ]),
    );

    expect(await broker.stop()).toBe(0);
    broker = await startBroker(namesrv.addr, { listenPort: broker.port }, broker.dataDir);
    const restarted = await getConfig();
    expect(restarted.config.get('brokerPermission')).toBe('4');
    expect(restarted.config.get('maxMessageSize')).toBe('100000');
    expect((await send()).code).toBe(ResponseCode.NO_PERMISSION);

    expect((await invoke(RequestCode.UPDATE_BROKER_CONFIG, 'brokerPermission=6')).code).toBe(
      ResponseCode.SUCCESS,
    );
    expect((await send()).code).toBe(ResponseCode.SUCCESS);
  });

  it('refuses updates it cannot apply, with a reason', async () => {
    const notNumber = await invoke(RequestCode.UPDATE_BROKER_CONFIG, 'brokerPermission=abc');
    expect(notNumber.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(notNumber.remark).toMatch(/brokerPermission: expected a number/);
    const path = await invoke(RequestCode.UPDATE_BROKER_CONFIG, 'storePathRootDir=/tmp/elsewhere');
    expect(path.code).toBe(ResponseCode.NO_PERMISSION);
    expect(path.remark).toMatch(/black list: storePathRootDir/);
    const empty = await invoke(RequestCode.UPDATE_BROKER_CONFIG);
    expect(empty.code).toBe(ResponseCode.SYSTEM_ERROR);
    // Nothing of the refused updates was applied.
    expect((await getConfig()).config.get('brokerPermission')).toBe('6');
  });
});
