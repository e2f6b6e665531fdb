/**
 * The container image, built and run for real: scripts/container/build-image.sh builds the
 * Dockerfile unchanged with buildah (on a locally made node:24-slim base, since no registry is
 * reachable here), podman runs a namesrv, a SYNC_MASTER broker and its slave from it on host
 * networking, and ali-ons sends and consumes through them. A clean `podman stop` proves SIGTERM
 * reaches Node as PID 1.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createLogger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import { freeBrokerPort, freePort } from '../../common/net/free-port';
import { HaAdminClient } from '../../client/ha-admin';
import { createTopic } from '../broker/support';
import { waitForOffset, waitForSlaves } from '../ha/support';
import { driveAliOns } from '../support/ali-ons';

const SCRIPTS = resolve(__dirname, '../../scripts/container');
const IMAGE = 'localhost/rocketmq-ts:test';
/** Runs a command; a failure carries the end of its output (buildah prints the failing step). */
const run = (file: string, args: string[], timeoutMs: number) =>
  new Promise<string>((resolveRun, reject) =>
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err
        ? reject(
            new Error(
              `${file} ${args.join(' ')}: ${err.message}\n${stdout.slice(-4000)}${stderr.slice(-2000)}`,
            ),
          )
        : resolveRun(stdout),
    ),
  );
const podman = (...args: string[]) => run(join(SCRIPTS, 'podman.sh'), args, 60_000);

/** Polls `podman logs` until a pino line with this `msg` appears. */
async function waitForLog(container: string, msg: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const logs = await podman('logs', container);
    if (logs.split('\n').some((line) => line.includes(`"msg":"${msg}"`))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${container} did not log "${msg}": ${await podman('logs', container)}`);
}

describe('the container image', () => {
  const suffix = randomBytes(4).toString('hex');
  const containers: string[] = [];
  const logger = createLogger('test', 'silent');
  const admin = new RemotingClient({ logger });
  const ha = new HaAdminClient(logger);

  const start = async (name: string, args: string[]) => {
    const container = `rmqts-${name}-${suffix}`;
    await podman('run', '-d', '--name', container, '--network', 'host', IMAGE, ...args);
    containers.push(container);
    return container;
  };

  beforeAll(async () => {
    await run(join(SCRIPTS, 'build-image.sh'), [IMAGE], 20 * 60_000);
  }, 20 * 60_000);

  afterAll(async () => {
    admin.close();
    ha.close();
    for (const container of containers) await podman('rm', '-f', '-v', container).catch(() => '');
  });

  it('runs as a non-root user with the store volume the operator mounts', async () => {
    const config = JSON.parse(await podman('image', 'inspect', IMAGE)) as {
      Config: { User: string; Volumes: Record<string, unknown>; Entrypoint: string[] };
    }[];
    expect(config[0].Config.User).toBe('1000:1000');
    expect(Object.keys(config[0].Config.Volumes)).toContain('/home/rocketmq/store');
    expect(config[0].Config.Entrypoint).toEqual(['node', '/opt/rocketmq-ts/dist/cli/index.js']);
  });

  it('serves ali-ons through namesrv, master and slave containers, and stops cleanly on SIGTERM', async () => {
    const namesrvPort = await freePort();
    const brokerPort = await freeBrokerPort();
    const slavePort = await freeBrokerPort();
    const namesrvAddr = `127.0.0.1:${namesrvPort}`;
    const namesrv = await start('namesrv', [
      'namesrv',
      `--listenPort=${namesrvPort}`,
      '--httpPort=0',
      '--bindAddress=127.0.0.1',
    ]);
    await waitForLog(namesrv, 'name server started');
    const brokerArgs = (port: number, role: string, brokerId: number) => [
      'broker',
      `--namesrvAddr=${namesrvAddr}`,
      '--brokerName=broker-a',
      `--brokerRole=${role}`,
      `--brokerId=${brokerId}`,
      '--brokerIP1=127.0.0.1',
      '--bindAddress=127.0.0.1',
      `--listenPort=${port}`,
      '--httpPort=0',
      '--registerNameServerPeriod=1000',
      '--storePathRootDir=/home/rocketmq/store',
    ];
    const broker = await start('broker', brokerArgs(brokerPort, 'SYNC_MASTER', 0));
    await waitForLog(broker, 'broker started');
    const slave = await start('slave', brokerArgs(slavePort, 'SLAVE', 1));
    await waitForLog(slave, 'broker started');
    const masterAddr = `127.0.0.1:${brokerPort}`;
    await waitForSlaves(ha, masterAddr, 1);

    await createTopic(admin, masterAddr, 'ImageTopic', 4);
    const total = 2000;
    const result = await driveAliOns({
      nameSrv: namesrvAddr,
      scenario: 'steady',
      topic: 'ImageTopic',
      group: 'GID_IMAGE',
      total,
      timeoutMs: 60_000,
    });
    expect(result.wrong).toEqual([]);
    expect(result.sent).toBe(total);
    expect(result.unique).toBe(total);
    // SYNC_MASTER answered SEND_OK only once the slave had the bytes: it holds them all.
    const { maxPhyOffset } = await ha.status(masterAddr);
    await waitForOffset(ha, `127.0.0.1:${slavePort}`, maxPhyOffset);

    for (const container of [slave, broker, namesrv]) {
      await podman('stop', '-t', '20', container);
      expect((await podman('inspect', '--format', '{{.State.ExitCode}}', container)).trim()).toBe(
        '0',
      );
    }
  }, 180_000);
});
