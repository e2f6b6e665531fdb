import { decodeRecord } from '../../../common/message/record';
import { type MessageStore, PutMessageStatus } from '../../../broker/store';
import { checkQueues, message, openStore, smallConfig, tempStoreDir } from './store-fixtures';

/** Copies the master's CommitLog to the slave the way the HA stream does: arbitrary cut points. */
async function replicate(
  master: MessageStore,
  slave: MessageStore,
  pieceSize: number,
  upTo = Number.MAX_SAFE_INTEGER,
) {
  let offset = slave.getMaxPhyOffset();
  while (offset < upTo) {
    const data = await master.getCommitLogData(offset, Math.min(pieceSize, upTo - offset));
    if (data === undefined) return;
    await slave.appendReplicated(offset, Buffer.from(data));
    offset += data.length;
  }
}

async function settle(store: MessageStore): Promise<number> {
  return store.lastCompleteRecordEnd();
}

describe('message store: replication support', () => {
  const dirs: ReturnType<typeof tempStoreDir>[] = [];
  const stores: MessageStore[] = [];
  const open = async (role: 'SYNC_MASTER' | 'SLAVE') => {
    const tmp = tempStoreDir();
    dirs.push(tmp);
    const store = await openStore(smallConfig(tmp.dir, { brokerRole: role }));
    stores.push(store);
    return store;
  };

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.shutdown();
    for (const d of dirs.splice(0)) d.remove();
  });

  it('a slave refuses puts until it is promoted', async () => {
    const slave = await open('SLAVE');
    const refused = await slave.putMessage(message('T', 0, 'x'));
    expect(refused.status).toBe(PutMessageStatus.SERVICE_NOT_AVAILABLE);
    slave.setBrokerRole('SYNC_MASTER');
    expect((await slave.putMessage(message('T', 0, 'x'))).status).toBe(PutMessageStatus.PUT_OK);
  });

  it('bytes copied in odd-sized pieces across file ends build the same queues and index', async () => {
    const master = await open('SYNC_MASTER');
    const slave = await open('SLAVE');
    const queues = [0, 1, 2].map((queueId) => ({ topic: 'T', queueId }));
    for (let i = 0; i < 600; i++) {
      const r = await master.putMessage(
        message('T', i % 3, `message ${i} ${'x'.repeat(i % 200)}`, { KEYS: `k${i}` }),
      );
      expect(r.status).toBe(PutMessageStatus.PUT_OK);
    }
    // 64 KiB files: the log spans several, each ending with a blank filler.
    expect(master.getMaxPhyOffset()).toBeGreaterThan(64 * 1024);
    await replicate(master, slave, 777);
    expect(slave.getMaxPhyOffset()).toBe(master.getMaxPhyOffset());
    expect(await settle(slave)).toBe(master.getMaxPhyOffset());
    expect(await checkQueues(slave, queues)).toEqual(await checkQueues(master, queues));
    // Promoted, it continues every queue after the last replicated message.
    slave.setBrokerRole('SYNC_MASTER');
    const next = await slave.putMessage(message('T', 1, 'first write of the new master'));
    expect(next.logicsOffset).toBe(200);
    const byKey = await slave.queryMessage('T', 'k599', 4, 0, Date.now() + 1000);
    expect(byKey.messages.map((m) => decodeRecord(m).body.toString())).toEqual([
      `message 599 ${'x'.repeat(599 % 200)}`,
    ]);
  });

  it('refuses bytes that do not start at its end', async () => {
    const slave = await open('SLAVE');
    await expect(slave.appendReplicated(100, Buffer.alloc(10))).rejects.toThrow(/ends at 0/);
  });

  it('a CommitLog ending mid-record is cut to the last complete record, with its queues', async () => {
    const master = await open('SYNC_MASTER');
    const slave = await open('SLAVE');
    const ends: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await master.putMessage(message('T', 0, `m${i}`));
      ends.push(r.wroteOffset + r.wroteBytes);
    }
    // Only the first half of message 15 arrived.
    await replicate(master, slave, 50, ends[14] + 30);
    expect(slave.getMaxPhyOffset()).toBe(ends[14] + 30);
    expect(await settle(slave)).toBe(ends[14]);
    expect(slave.getMaxOffsetInQueue('T', 0)).toBe(15);
    await slave.truncateCommitLog(ends[14]);
    // Cut further back (a returning old master dropping what it wrote after the new epoch).
    await slave.truncateCommitLog(ends[9]);
    expect(slave.getMaxOffsetInQueue('T', 0)).toBe(10);
    expect(slave.getMaxPhyOffset()).toBe(ends[9]);
    // Promoted, it continues the queue where the cut left it.
    slave.setBrokerRole('SYNC_MASTER');
    const r = await slave.putMessage(message('T', 0, 'after'));
    expect(r.logicsOffset).toBe(10);
    expect(r.wroteOffset).toBe(ends[9]);
    expect(await checkQueues(slave, [{ topic: 'T', queueId: 0 }])).toEqual(new Map([['T/0', 11]]));
  });

  it('an empty slave can start at the beginning of the master’s last file', async () => {
    const master = await open('SYNC_MASTER');
    const slave = await open('SLAVE');
    for (let i = 0; i < 400; i++)
      await master.putMessage(message('T', 0, `m${i} ${'y'.repeat(150)}`));
    const start = master.getMaxPhyOffset() - (master.getMaxPhyOffset() % (64 * 1024));
    expect(start).toBeGreaterThan(0);
    await slave.startCommitLogAt(start);
    await replicate(master, slave, 4096);
    expect(await settle(slave)).toBe(master.getMaxPhyOffset());
    expect(slave.getMaxOffsetInQueue('T', 0)).toBe(400);
    expect(slave.getMinOffsetInQueue('T', 0)).toBeGreaterThan(0);
  });
});
