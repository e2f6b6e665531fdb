/**
 * Our private remoting requests for replication and failover (not in RocketMQ; codes in a range
 * RocketMQ does not use). The failover controller sends them to brokers; bodies are JSON.
 */
import { RemotingError } from './errors';
import { ResponseCode } from './codes';
import { decodeJsonBody } from './bodies';

export const HaRequestCode = {
  /** → HaStatus: role, epoch, CommitLog end, acknowledged offset, connected slaves. */
  HA_GET_STATUS: 9101,
  /** → EpochHistory: the broker's epoch entries and CommitLog end. */
  HA_GET_EPOCHS: 9102,
  /** BecomeMasterRequest → HaStatus: take over as master from a higher epoch on. */
  HA_BECOME_MASTER: 9103,
  /** BecomeSlaveRequest → HaStatus: follow a master of an epoch at least the local one. */
  HA_BECOME_SLAVE: 9104,
  /**
   * FenceRequest → HaStatus: stop replicating from or for any master below `epoch` at once (a
   * master stops accepting writes, a slave drops its HA connection and stays disconnected until
   * the next HA_BECOME_*); the answer holds the broker's final CommitLog end.
   */
  HA_FENCE: 9105,
} as const;

/** MASTER accepts writes; SLAVE follows a master; FENCED waits to be told (controller mode). */
export type HaRole = 'MASTER' | 'SLAVE' | 'FENCED';

export interface EpochEntryBody {
  epoch: number;
  startOffset: number;
}

export interface HaStatus {
  brokerName: string;
  brokerAddr: string;
  haServerAddr: string;
  brokerId: number;
  role: HaRole;
  /** The store's role: ASYNC_MASTER, SYNC_MASTER or SLAVE. */
  brokerRole: string;
  epoch: number;
  maxPhyOffset: number;
  /** Master: the highest offset a slave acknowledged (push2SlaveMaxOffset). */
  confirmOffset: number;
  /** Slave: the master it follows. */
  masterAddr: string;
  slaves: { addr: string; ackOffset: number }[];
  /** The epoch of the last HA_FENCE not yet lifted by an HA_BECOME_* (0: not fenced). */
  fencedEpoch: number;
}

export interface EpochHistory {
  epochs: EpochEntryBody[];
  maxPhyOffset: number;
}

export interface BecomeMasterRequest {
  epoch: number;
  brokerRole: 'SYNC_MASTER' | 'ASYNC_MASTER';
}

export interface BecomeSlaveRequest {
  epoch: number;
  brokerId: number;
  masterAddr: string;
  masterHaAddr: string;
}

function objectOf(body: Buffer | undefined, what: string): Record<string, unknown> {
  const v = decodeJsonBody(body, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RemotingError(ResponseCode.SYSTEM_ERROR, `${what}: body is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

function num(o: Record<string, unknown>, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RemotingError(ResponseCode.INVALID_PARAMETER, `${what}: ${key} must be a number`);
  }
  return v;
}

function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') {
    throw new RemotingError(ResponseCode.INVALID_PARAMETER, `${what}: ${key} must be a string`);
  }
  return v;
}

export interface FenceRequest {
  epoch: number;
}

export function decodeFence(body: Buffer | undefined): FenceRequest {
  return { epoch: num(objectOf(body, 'HA_FENCE'), 'epoch', 'HA_FENCE') };
}

export function decodeBecomeMaster(body: Buffer | undefined): BecomeMasterRequest {
  const o = objectOf(body, 'HA_BECOME_MASTER');
  const role = str(o, 'brokerRole', 'HA_BECOME_MASTER');
  if (role !== 'SYNC_MASTER' && role !== 'ASYNC_MASTER') {
    throw new RemotingError(ResponseCode.INVALID_PARAMETER, `bad brokerRole ${role}`);
  }
  return { epoch: num(o, 'epoch', 'HA_BECOME_MASTER'), brokerRole: role };
}

export function decodeBecomeSlave(body: Buffer | undefined): BecomeSlaveRequest {
  const what = 'HA_BECOME_SLAVE';
  const o = objectOf(body, what);
  const brokerId = num(o, 'brokerId', what);
  if (brokerId <= 0) {
    throw new RemotingError(ResponseCode.INVALID_PARAMETER, "Slave's brokerId must be > 0");
  }
  return {
    epoch: num(o, 'epoch', what),
    brokerId,
    masterAddr: str(o, 'masterAddr', what),
    masterHaAddr: str(o, 'masterHaAddr', what),
  };
}

export function decodeEpochHistory(body: Buffer | undefined): EpochHistory {
  const o = objectOf(body, 'epoch history');
  const list = o.epochs;
  if (!Array.isArray(list)) {
    throw new RemotingError(ResponseCode.SYSTEM_ERROR, 'epoch history: epochs is not a list');
  }
  return {
    maxPhyOffset: num(o, 'maxPhyOffset', 'epoch history'),
    epochs: list.map((e: unknown) => {
      const entry = (e ?? {}) as Record<string, unknown>;
      return {
        epoch: num(entry, 'epoch', 'epoch entry'),
        startOffset: num(entry, 'startOffset', 'epoch entry'),
      };
    }),
  };
}

export function decodeHaStatus(body: Buffer | undefined): HaStatus {
  const o = objectOf(body, 'HA status');
  const role = str(o, 'role', 'HA status');
  if (role !== 'MASTER' && role !== 'SLAVE' && role !== 'FENCED') {
    throw new RemotingError(ResponseCode.SYSTEM_ERROR, `HA status: bad role ${role}`);
  }
  const slaves = Array.isArray(o.slaves) ? (o.slaves as Record<string, unknown>[]) : [];
  return {
    brokerName: str(o, 'brokerName', 'HA status'),
    brokerAddr: str(o, 'brokerAddr', 'HA status'),
    haServerAddr: str(o, 'haServerAddr', 'HA status'),
    brokerId: num(o, 'brokerId', 'HA status'),
    role,
    brokerRole: str(o, 'brokerRole', 'HA status'),
    epoch: num(o, 'epoch', 'HA status'),
    maxPhyOffset: num(o, 'maxPhyOffset', 'HA status'),
    confirmOffset: num(o, 'confirmOffset', 'HA status'),
    masterAddr: str(o, 'masterAddr', 'HA status'),
    slaves: slaves.map((s) => ({
      addr: str(s, 'addr', 'HA slave'),
      ackOffset: num(s, 'ackOffset', 'HA slave'),
    })),
    fencedEpoch: num(o, 'fencedEpoch', 'HA status'),
  };
}
