import { HaAdminClient } from '../../client/ha-admin';
import { Producer } from '../../client/producer';
import { RemotingClient } from '../../common/net/client';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import {
  QueryConsumerOffsetRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../common/protocol/headers';
import { createTopic, type RunningBroker, sendV2Header, waitFor } from '../broker/support';
import { removeDir, type RunningNamesrv, startNamesrv } from '../support/processes';
import { readAll, silent, startMaster, startSlave, waitForOffset, waitForSlaves } from './support';

describe('master/slave replication (real processes)', () => {
  let namesrv: RunningNamesrv;
  let master: RunningBroker;
  let slave: RunningBroker;
  let ha: HaAdminClient;
  let remoting: RemotingClient;
  let producer: Producer;

  beforeAll(async () => {
    namesrv = await startNamesrv();
    master = await startMaster(namesrv.addr);
    slave = await startSlave(namesrv.addr, 1);
    ha = new HaAdminClient(silent);
    remoting = new RemotingClient({ logger: silent });
    await createTopic(remoting, master.addr, 'HaTopic', 4);
    producer = new Producer({
      namesrvAddr: namesrv.addr,
      producerGroup: 'ha-producer',
      logger: silent,
    });
    await producer.start();
  });

  afterAll(async () => {
    await producer.shutdown();
    ha.close();
    remoting.close();
    await slave.stop();
    await master.stop();
    await namesrv.stop();
    for (const p of [namesrv, master, slave]) removeDir(p.dataDir);
  });

  it('a slave learns its master from the name server and copies every acknowledged message', async () => {
    await waitForSlaves(ha, master.addr, 1);
    const keys: string[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `k${i}`;
      const r = await producer.send({
        topic: 'HaTopic',
        body: Buffer.from(`body ${i}`),
        keys: key,
      });
      // SYNC_MASTER: SEND_OK means the slave has the bytes.
      expect(r.sendStatus).toBe('SEND_OK');
      keys.push(key);
    }
    const masterStatus = await ha.status(master.addr);
    expect(masterStatus.role).toBe('MASTER');
    expect(masterStatus.confirmOffset).toBe(masterStatus.maxPhyOffset);
    await waitForOffset(ha, slave.addr, masterStatus.maxPhyOffset);
    // The slave built its own consume queues: the same messages, read from the slave.
    // Metadata sync (every 10 s) brings the topic config the pulls need.
    await waitFor(
      async () => {
        const r = await remoting.invoke(
          slave.addr,
          createRequest(RequestCode.GET_ALL_TOPIC_CONFIG),
        );
        return (r.body?.toString() ?? '').includes('"HaTopic"');
      },
      15_000,
      'topic config on the slave',
    );
    const fromSlave = await readAll(slave.addr, 'HaTopic', 4);
    const fromMaster = await readAll(master.addr, 'HaTopic', 4);
    expect(fromSlave.map((m) => m.keys).sort()).toEqual([...keys].sort());
    expect(fromSlave.map((m) => m.offsetMsgId)).toEqual(fromMaster.map((m) => m.offsetMsgId));
    const slaveStatus = await ha.status(slave.addr);
    expect(slaveStatus).toMatchObject({
      role: 'SLAVE',
      brokerId: 1,
      masterAddr: master.addr,
      epoch: 0,
    });
  });

  it('the slave copies consumer offsets committed on the master', async () => {
    const queue = { consumerGroup: 'ha-group', topic: 'HaTopic', queueId: 2 };
    const committed = await remoting.invoke(
      master.addr,
      createRequest(
        RequestCode.UPDATE_CONSUMER_OFFSET,
        UpdateConsumerOffsetRequestHeader.encode({ ...queue, commitOffset: 17 }),
      ),
    );
    expect(committed.code).toBe(ResponseCode.SUCCESS);
    // Metadata sync runs every 10 s.
    await waitFor(
      async () => {
        const r = await remoting.invoke(
          slave.addr,
          createRequest(
            RequestCode.QUERY_CONSUMER_OFFSET,
            QueryConsumerOffsetRequestHeader.encode(queue),
          ),
        );
        return r.code === ResponseCode.SUCCESS && r.extFields?.offset === '17';
      },
      15_000,
      'the offset on the slave',
    );
  });

  it('the slave refuses writes and the master reports lag metrics', async () => {
    const refused = await remoting.invoke(
      slave.addr,
      createRequest(RequestCode.SEND_MESSAGE_V2, sendV2Header('HaTopic'), Buffer.from('x')),
    );
    expect(refused.code).toBe(ResponseCode.SERVICE_NOT_AVAILABLE);
    const metrics = await fetch(`http://127.0.0.1:${master.httpPort}/metrics`).then((r) =>
      r.text(),
    );
    await waitFor(
      async () =>
        /rmqts_broker_replication_lag_bytes\{[^}]*slave="[^"]+"[^}]*\} 0\n/.test(
          await fetch(`http://127.0.0.1:${master.httpPort}/metrics`).then((r) => r.text()),
        ),
      5000,
      'lag metric',
    );
    expect(metrics).toContain('rmqts_broker_replication_lag_seconds');
  });

  it('a slave that stops acknowledging makes SYNC_MASTER sends time out (FLUSH_SLAVE_TIMEOUT)', async () => {
    slave.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const r = await producer.send(
        { topic: 'HaTopic', body: Buffer.from('slow slave') },
        { timeoutMs: 8000 },
      );
      expect(r.sendStatus).toBe('FLUSH_SLAVE_TIMEOUT');
      // slaveTimeout is 3 s.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    } finally {
      slave.child.kill('SIGCONT');
    }
  });

  it('without a slave a SYNC_MASTER send is stored but answered SLAVE_NOT_AVAILABLE', async () => {
    await slave.kill();
    await waitForSlaves(ha, master.addr, 0);
    const r = await producer.send({ topic: 'HaTopic', body: Buffer.from('alone') });
    expect(r.sendStatus).toBe('SLAVE_NOT_AVAILABLE');
    // The returning slave catches up from where it was.
    slave = await startSlave(namesrv.addr, 1, { storePathRootDir: slave.dataDir });
    await waitForSlaves(ha, master.addr, 1);
    const r2 = await producer.send({ topic: 'HaTopic', body: Buffer.from('again') });
    expect(r2.sendStatus).toBe('SEND_OK');
    await waitForOffset(ha, slave.addr, (await ha.status(master.addr)).maxPhyOffset);
  });
});
