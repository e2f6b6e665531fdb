import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envNameOf, loadConfig, parseProperties } from '../../common/config';
import { parseLenientJson } from '../../common/json';

describe('Java properties files', () => {
  it('reads the forms a broker.conf uses', () => {
    const props = parseProperties(
      [
        '# a comment',
        '! another comment',
        'brokerClusterName = DefaultCluster',
        'brokerName=broker-a',
        'brokerId:0',
        'deleteWhen 04',
        '  namesrvAddr=127.0.0.1:9876;\\',
        '    127.0.0.2:9876',
        'storePathRootDir=C\\:\\\\store',
        'unicode=\\u0041B',
        'empty=',
        '',
      ].join('\n'),
    );
    expect(Object.fromEntries(props)).toEqual({
      brokerClusterName: 'DefaultCluster',
      brokerName: 'broker-a',
      brokerId: '0',
      deleteWhen: '04',
      namesrvAddr: '127.0.0.1:9876;127.0.0.2:9876',
      storePathRootDir: 'C:\\store',
      unicode: 'AB',
      empty: '',
    });
  });
});

describe('loadConfig', () => {
  const defaults = { listenPort: 9876, brokerName: 'broker-a', autoCreateTopicEnable: true };

  it('layers file, environment and flags, coercing to the default types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rmqts-config-'));
    const file = join(dir, 'broker.conf');
    writeFileSync(
      file,
      'listenPort=10911\nbrokerName=from-file\nautoCreateTopicEnable=false\nbogusKey=1\n',
    );
    const { config, unknownKeys } = loadConfig(defaults, {
      file,
      env: { RMQ_BROKER_NAME: 'from-env' },
      flags: new Map([['listenPort', '20911']]),
    });
    expect(config).toEqual({
      listenPort: 20911,
      brokerName: 'from-env',
      autoCreateTopicEnable: false,
    });
    expect(unknownKeys).toEqual(['bogusKey']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says which key is wrong and why', () => {
    expect(() => loadConfig(defaults, { flags: new Map([['listenPort', 'abc']]) })).toThrow(
      new ConfigError('config key listenPort: expected a number, got "abc"'),
    );
    expect(() =>
      loadConfig(defaults, { flags: new Map([['autoCreateTopicEnable', 'yes']]) }),
    ).toThrow(ConfigError);
    expect(() => loadConfig(defaults, { file: '/nonexistent/broker.conf' })).toThrow(
      /cannot read config file/,
    );
  });

  it('names environment variables in upper snake case', () => {
    expect(envNameOf('listenPort', 'RMQ_')).toBe('RMQ_LISTEN_PORT');
    expect(envNameOf('diskMaxUsedSpaceRatio', 'RMQ_')).toBe('RMQ_DISK_MAX_USED_SPACE_RATIO');
  });
});

describe('parseLenientJson', () => {
  it("reads fastjson's unquoted numeric map keys", () => {
    expect(parseLenientJson('{"offsetTable":{"T@g":{0:250,1:251}}}')).toEqual({
      offsetTable: { 'T@g': { '0': 250, '1': 251 } },
    });
    expect(parseLenientJson('{"brokerAddrs":{0:"1.2.3.4:10911", -1:"x"}}')).toEqual({
      brokerAddrs: { '0': '1.2.3.4:10911', '-1': 'x' },
    });
  });

  it('leaves numbers inside strings and arrays alone', () => {
    expect(parseLenientJson('{"a":[1,2,{3:"{4:5}"}],"b":"x,6:y"}')).toEqual({
      a: [1, 2, { '3': '{4:5}' }],
      b: 'x,6:y',
    });
  });
});
