import { ConfigError, loadConfig, parseProperties } from '../../common/config';
import type { DataVersion } from '../../common/protocol/bodies';
import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import type { BrokerConfig } from '../broker-config';
import { readBrokerConfigUpdates, writeBrokerConfigUpdates } from '../broker-config-updates';
import type { BrokerContext } from '../broker-context';
import { newDataVersion, nextDataVersion } from '../metadata/data-version';

/**
 * Keys whose new value takes effect at once: the request processors read them from the shared
 * config on every request. Every other key is persisted and applies at the next start (ports,
 * names, store layout and sizes, timers that are set up once).
 */
const LIVE_KEYS: ReadonlySet<keyof BrokerConfig> = new Set<keyof BrokerConfig>([
  'brokerPermission',
  'autoCreateTopicEnable',
  'rejectTransactionMessage',
  'notifyConsumerIdsChangedEnable',
  'enablePropertyFilter',
  'longPollingEnable',
  'shortPollingTimeMills',
  'slaveReadEnable',
  'channelExpiredTimeout',
  'regionId',
  // The operator pushes a new NameServer list after scaling NameServers; no restart needed.
  'namesrvAddr',
  'traceOn',
]);

/** Keys never changed remotely: a new value would orphan the stored data. */
const REFUSED_KEYS: ReadonlySet<string> = new Set(['storePathRootDir', 'storePathCommitLog']);

/**
 * GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25): the configuration as properties text,
 * with a DataVersion that moves on every update (remoting.md §3.6). Updates are persisted
 * (broker-config-updates.ts) and applied at once where that is safe (LIVE_KEYS).
 */
export class BrokerConfigProcessor {
  private version: DataVersion = newDataVersion();
  private readonly persisted: Map<string, string>;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly updatesPath: string,
  ) {
    this.persisted = readBrokerConfigUpdates(updatesPath);
  }

  getBrokerConfig = (request: RemotingCommand): OutgoingCommand => {
    const { config } = this.ctx;
    const text = Object.keys(config)
      .sort()
      .map((key) => `${key}=${String(config[key as keyof BrokerConfig])}`)
      .join('\n');
    return createResponse(request, ResponseCode.SUCCESS, {
      extFields: { version: JSON.stringify(this.version) },
      body: Buffer.from(`${text}\n`, 'utf8'),
    });
  };

  updateBrokerConfig = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const { ctx } = this;
    if (!request.body || request.body.length === 0) {
      throw new RemotingError(ResponseCode.SYSTEM_ERROR, 'string2Properties error: empty body');
    }
    const requested = [...readProperties(request.body)];
    const refused = requested.filter(([key]) => REFUSED_KEYS.has(key)).map(([key]) => key);
    if (refused.length > 0) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `Can not update config in black list: ${refused.join(', ')}`,
      );
    }
    let updated: BrokerConfig;
    let unknownKeys: string[];
    try {
      ({ config: updated, unknownKeys } = loadConfig(ctx.config, { flags: new Map(requested) }));
    } catch (err) {
      if (err instanceof ConfigError)
        throw new RemotingError(ResponseCode.SYSTEM_ERROR, err.message);
      throw err;
    }
    const known = requested.filter(([key]) => !unknownKeys.includes(key));
    const live: string[] = [];
    const onRestart: string[] = [];
    for (const [key] of known) {
      const name = key as keyof BrokerConfig;
      this.persisted.set(key, String(updated[name]));
      if (!LIVE_KEYS.has(name)) {
        onRestart.push(key);
      } else if (ctx.config[name] !== updated[name]) {
        Object.assign(ctx.config, { [name]: updated[name] });
        live.push(key);
      }
    }
    await writeBrokerConfigUpdates(this.updatesPath, this.persisted);
    this.version = nextDataVersion(this.version);
    ctx.logger.info({ live, onRestart, unknownKeys }, 'broker config updated');
    // Name servers learn a permission change (new ones learn of the broker) now, not at the next
    // periodic registration.
    if (live.includes('brokerPermission')) await ctx.topics.touch();
    if (live.includes('brokerPermission') || live.includes('namesrvAddr')) {
      await ctx.registerBroker();
    }
    const remark = [
      onRestart.length > 0 ? `applied at the next start: ${onRestart.join(', ')}` : '',
      unknownKeys.length > 0 ? `unknown keys ignored: ${unknownKeys.join(', ')}` : '',
    ]
      .filter((s) => s !== '')
      .join('; ');
    return createResponse(request, ResponseCode.SUCCESS, remark ? { remark } : {});
  };
}

function readProperties(body: Buffer): Map<string, string> {
  // parseProperties is lenient by design; a body that is not text at all still has to fail.
  const text = body.toString('utf8');
  if (text.includes('\u0000') || text.includes('\ufffd')) {
    throw new RemotingError(ResponseCode.SYSTEM_ERROR, 'string2Properties error: body is not text');
  }
  return parseProperties(text);
}
