/**
 * Where a group's failover decision is recorded: the one consistent place (DESIGN "Failover
 * keeps one writer"). A new epoch is saved here before any broker is told about it.
 */
import { join } from 'node:path';
import { readFileWithBackup, writeFileAtomic } from '../common/atomic-file';

export interface GroupFailoverState {
  /** The group's current epoch: only its master may acknowledge writes. */
  epoch: number;
  /** Remoting address of the master of `epoch`. */
  masterAddr: string;
}

export interface FailoverStateStore {
  load(brokerName: string): Promise<GroupFailoverState | undefined>;
  save(brokerName: string, state: GroupFailoverState): Promise<void>;
}

/** Local mode: one JSON file per group in `dir`, replaced atomically. */
export class FileStateStore implements FailoverStateStore {
  constructor(private readonly dir: string) {}

  load(brokerName: string): Promise<GroupFailoverState | undefined> {
    return readFileWithBackup(this.path(brokerName), (text) => {
      const v = JSON.parse(text) as Partial<GroupFailoverState>;
      if (typeof v.epoch !== 'number' || typeof v.masterAddr !== 'string') {
        throw new Error('failover state lacks epoch/masterAddr');
      }
      return { epoch: v.epoch, masterAddr: v.masterAddr };
    });
  }

  save(brokerName: string, state: GroupFailoverState): Promise<void> {
    return writeFileAtomic(this.path(brokerName), JSON.stringify(state));
  }

  private path(brokerName: string): string {
    return join(this.dir, `${brokerName}.failover.json`);
  }
}
