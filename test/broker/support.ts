import { mkdtempSync } from 'node:fs';
import { freeBrokerPort } from '../../common/net/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemotingClient } from '../../common/net/client';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { decodeRecords, type MessageRecord } from '../../common/message/record';
import type { HeaderOf } from '../../common/protocol/header-schema';
import {
  CreateTopicRequestHeader,
  PullMessageRequestHeader,
  SendMessageRequestHeader,
} from '../../common/protocol/headers';
import { startCli, type RunningProcess } from '../support/processes';

export interface RunningBroker extends RunningProcess {
  addr: string;
  port: number;
  httpPort: number;
  dataDir: string;
}

export { freeBrokerPort };

/**
 * A real broker process on loopback with its own store directory: a new temp one, or the
 * `storePathRootDir` flag's (a restart), which is then the `dataDir` the caller removes.
 */
export async function startBroker(
  namesrvAddr: string,
  flags: Record<string, string | number | boolean> = {},
  dataDir = storeDirOf(flags),
): Promise<RunningBroker> {
  const args = Object.entries({
    namesrvAddr,
    brokerName: 'broker-a',
    brokerIP1: '127.0.0.1',
    bindAddress: '127.0.0.1',
    listenPort: await freeBrokerPort(),
    httpPort: 0,
    storePathRootDir: dataDir,
    ...flags,
  }).map(([k, v]) => `--${k}=${v}`);
  const proc = startCli(['broker', ...args]);
  const started = await proc.waitForLog((l) => l.msg === 'broker started');
  return {
    ...proc,
    addr: started.brokerAddr as string,
    port: started.port as number,
    httpPort: started.httpPort as number,
    dataDir,
  };
}

function storeDirOf(flags: Record<string, string | number | boolean>): string {
  const given = flags.storePathRootDir;
  return typeof given === 'string' ? given : mkdtempSync(join(tmpdir(), 'rmqts-broker-'));
}

/** UPDATE_AND_CREATE_TOPIC on one broker (ali-ons cannot auto-create topics). */
export async function createTopic(
  client: RemotingClient,
  brokerAddr: string,
  topic: string,
  queues = 4,
): Promise<void> {
  const response = await client.invoke(
    brokerAddr,
    createRequest(
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      CreateTopicRequestHeader.encode({
        topic,
        defaultTopic: 'TBW102',
        readQueueNums: queues,
        writeQueueNums: queues,
        perm: 6,
        topicFilterType: 'SINGLE_TAG',
        order: false,
      }),
    ),
  );
  if (response.code !== ResponseCode.SUCCESS) {
    throw new Error(`create topic ${topic}: ${response.code} ${response.remark ?? ''}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Every record of one queue from `offset` on, read with plain PULL_MESSAGE requests. */
export async function pullRecords(
  client: RemotingClient,
  brokerAddr: string,
  topic: string,
  queueId: number,
  offset = 0,
): Promise<MessageRecord[]> {
  const records: MessageRecord[] = [];
  for (;;) {
    const response = await client.invoke(
      brokerAddr,
      createRequest(
        RequestCode.PULL_MESSAGE,
        PullMessageRequestHeader.encode({
          consumerGroup: 'TOOLS_CONSUMER',
          topic,
          queueId,
          queueOffset: offset + records.length,
          maxMsgNums: 32,
          // FLAG_SUBSCRIPTION: the expression comes with the request.
          sysFlag: 0x4,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: '*',
          subVersion: 0,
        }),
      ),
    );
    if (response.code !== ResponseCode.SUCCESS || !response.body) return records;
    records.push(...decodeRecords(response.body));
  }
}

type SendHeaderFields = HeaderOf<(typeof SendMessageRequestHeader)['fields']>;

/** SEND_MESSAGE_V2 extFields (short names) for one message to queue 0 of `topic`. */
export function sendV2Header(
  topic: string,
  extra: Partial<SendHeaderFields> = {},
): Record<string, string> {
  return SendMessageRequestHeader.encode(
    {
      producerGroup: 'PG',
      topic,
      defaultTopic: 'TBW102',
      defaultTopicQueueNums: 4,
      queueId: 0,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      flag: 0,
      ...extra,
    },
    true,
  );
}

/** Resolves once the name server serves a route for `topic` (the broker registered it). */
export function waitForRoute(
  admin: { topicRoute(topic: string): Promise<unknown> },
  topic: string,
): Promise<void> {
  return waitFor(
    () =>
      admin.topicRoute(topic).then(
        () => true,
        () => false,
      ),
    10_000,
    `route of ${topic}`,
  );
}
