/**
 * Rewinding or skipping a consumer group (mqadmin resetOffsetByTime): every master of the
 * topic computes the offsets for a time, commits them for the group and hands them to the
 * group's live consumers (INVOKE_BROKER_TO_RESET_OFFSET, remoting.md §3.6).
 */
import { decodeResetOffsetBody } from '../common/protocol/broker-bodies';
import { RequestCode } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import { ResetOffsetRequestHeader } from '../common/protocol/headers';
import type { AdminClient } from './admin-client';
import { compareQueues, type MessageQueue } from './message-queue';
import { expectCode } from './response';
import { MASTER_ID } from './route';

/** The reset timestamp that moves every queue to its end (skips everything accumulated). */
export const RESET_TO_LATEST = -1;
/** The reset timestamp that moves every queue to its first message still stored. */
export const RESET_TO_EARLIEST = 0;

export interface ResetOffsetOptions {
  group: string;
  topic: string;
  /** ms since the epoch, or RESET_TO_LATEST / RESET_TO_EARLIEST. */
  timestamp: number;
  /** false: a queue only moves back, never forward past the group's offset; default true. */
  force?: boolean;
  timeoutMs?: number;
}

/** The new offset of every queue of the topic, as the brokers set them. */
export async function resetOffsetByTime(
  admin: AdminClient,
  options: ResetOffsetOptions,
): Promise<{ mq: MessageQueue; offset: number }[]> {
  const route = await admin.topicRoute(options.topic);
  const extFields = ResetOffsetRequestHeader.encode({
    topic: options.topic,
    group: options.group,
    timestamp: options.timestamp,
    isForce: options.force ?? true,
  });
  const results: { mq: MessageQueue; offset: number }[] = [];
  for (const broker of route.brokerDatas) {
    const addr = broker.brokerAddrs[String(MASTER_ID)];
    if (!addr) continue;
    const response = expectCode(
      await admin.remoting.invoke(
        addr,
        createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, extFields),
        // The broker waits up to 5 s for each live consumer before it answers.
        options.timeoutMs ?? 15_000,
      ),
    );
    for (const [mq, offset] of decodeResetOffsetBody(response.body).offsetTable) {
      results.push({ mq, offset });
    }
  }
  return results.sort((a, b) => compareQueues(a.mq, b.mq));
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Java mqadmin's date format, local time: `yyyy-MM-dd#HH:mm:ss:SSS`. */
const JAVA_DATE = /^(\d{4})-(\d{2})-(\d{2})#(\d{2}):(\d{2}):(\d{2}):(\d{3})$/;

/**
 * Parses a reset time: `earliest`, `latest`, `now`, ms since the epoch, a relative time
 * (`-1h`, `-30m`, `-90s`, `-2d`), mqadmin's `yyyy-MM-dd#HH:mm:ss:SSS` (local time) or an ISO 8601
 * date. Undefined when it is none of those.
 */
export function parseResetTime(value: string, now = Date.now()): number | undefined {
  const v = value.trim();
  if (v === 'earliest') return RESET_TO_EARLIEST;
  if (v === 'latest') return RESET_TO_LATEST;
  if (v === 'now') return now;
  if (/^\d+$/.test(v)) return Number(v);
  const relative = /^-(\d+)([smhd])$/.exec(v);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]];
  const java = JAVA_DATE.exec(v);
  if (java) {
    const [y, mo, d, h, mi, s, ms] = java.slice(1).map(Number);
    return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  }
  const iso = Date.parse(v);
  return /^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(iso) ? iso : undefined;
}
