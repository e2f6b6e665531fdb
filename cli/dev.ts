import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HaAdminClient } from '../client/ha-admin';
import { createLogger, type Logger } from '../common/logger';
import { FailoverController } from '../failover/controller';
import { FileStateStore } from '../failover/state-store';
import { type ParsedArgs, UsageError } from './args';
import { runUntilSignal } from './lifecycle';

/** A child process of the local cluster that is started again when it dies (the local platform). */
class LocalProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly logger: Logger,
    /** Restart delay after an unexpected exit; undefined = never restart. */
    private readonly restartDelayMs: number | undefined,
  ) {}

  start(): void {
    const child = spawn(process.execPath, [join(__dirname, 'index.js'), ...this.args], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.child = child;
    child.on('exit', (code, signal) => {
      this.logger.info({ name: this.name, code, signal }, 'process exited');
      if (this.stopping || this.restartDelayMs === undefined) return;
      this.logger.warn({ name: this.name, inMs: this.restartDelayMs }, 'restarting process');
      this.restartTimer = setTimeout(() => this.start(), this.restartDelayMs);
    });
  }

  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    return new Promise((done) => {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
        done();
        return;
      }
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  }
}

function intOption(args: ParsedArgs, key: string, fallback: number, min: number): number {
  const raw = args.long.get(key);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${key} must be an integer ≥ ${min}`);
  return n;
}

/**
 * `rocketmq-ts dev` (`npm start`): a local cluster on this machine — name servers and broker
 * groups (one master, `--slaves` slaves each) as child processes, each group with a failover
 * controller recording its epochs in `<dataDir>/failover`. Kill a master and a slave takes over
 * within the detection time; the killed broker is started again and rejoins as a slave.
 */
export async function runDev(args: ParsedArgs): Promise<void> {
  const logger = createLogger('dev');
  const dataDir = resolve(args.long.get('dataDir') ?? 'data');
  const namesrvPort = intOption(args, 'namesrvPort', 9876, 1);
  const namesrvCount = intOption(args, 'namesrvs', 1, 1);
  const groupCount = intOption(args, 'groups', 1, 1);
  const slaveCount = intOption(args, 'slaves', 1, 0);
  const brokerPort = intOption(args, 'brokerPort', 10911, 3);
  const detectionTimeMs = intOption(args, 'detectionTime', 3000, 100);
  const restartDelayMs = intOption(args, 'restartDelay', 2000, 0);
  const masterRole = args.long.get('masterRole') ?? 'SYNC_MASTER';
  if (masterRole !== 'SYNC_MASTER' && masterRole !== 'ASYNC_MASTER') {
    throw new UsageError('--masterRole must be SYNC_MASTER or ASYNC_MASTER');
  }
  mkdirSync(dataDir, { recursive: true });

  const processes: LocalProcess[] = [];
  const namesrvAddrs: string[] = [];
  for (let i = 0; i < namesrvCount; i++) {
    const port = namesrvPort + 2 * i;
    namesrvAddrs.push(`127.0.0.1:${port}`);
    processes.push(
      new LocalProcess(
        `namesrv-${i}`,
        [
          'namesrv',
          `--listenPort=${port}`,
          `--httpPort=${9880 + i}`,
          `--kvConfigPath=${join(dataDir, `namesrv-${i}`, 'kvConfig.json')}`,
        ],
        logger,
        restartDelayMs,
      ),
    );
  }
  const admin = new HaAdminClient(logger.child({ module: 'ha-admin' }));
  const controllers: FailoverController[] = [];
  const lines: string[] = [];
  for (let g = 0; g < groupCount; g++) {
    const brokerName = `broker-${String.fromCharCode(97 + (g % 26))}${g >= 26 ? g : ''}`;
    const members = [];
    for (let b = 0; b <= slaveCount; b++) {
      // Each broker uses port, port + 1 (HA), port − 2 (VIP channel) and port + 5 (HTTP).
      const port = brokerPort + 10 * (g * (slaveCount + 1) + b);
      const httpPort = port + 5;
      const name = `${brokerName}-${b}`;
      members.push({ addr: `127.0.0.1:${port}`, slaveId: b + 1 });
      lines.push(
        `  ${name.padEnd(13)}127.0.0.1:${port}   metrics http://127.0.0.1:${httpPort}/metrics`,
      );
      processes.push(
        new LocalProcess(
          name,
          [
            'broker',
            `--brokerName=${brokerName}`,
            `--brokerId=${b + 1}`,
            '--brokerRole=SLAVE',
            '--enableControllerMode=true',
            `--namesrvAddr=${namesrvAddrs.join(';')}`,
            '--brokerIP1=127.0.0.1',
            `--listenPort=${port}`,
            `--httpPort=${httpPort}`,
            '--registerNameServerPeriod=5000',
            `--storePathRootDir=${join(dataDir, name)}`,
          ],
          logger,
          restartDelayMs,
        ),
      );
    }
    const controller = new FailoverController(
      { brokerName, members, masterRole },
      {
        admin,
        stateStore: new FileStateStore(join(dataDir, 'failover')),
        logger: logger.child({ module: 'failover', group: brokerName }),
        detectionTimeMs,
      },
    );
    controller.onEvent((e) => logger.info({ group: brokerName, ...e }, `failover: ${e.type}`));
    controllers.push(controller);
  }
  for (const p of processes) p.start();
  for (const c of controllers) await c.start();

  process.stdout.write(
    `\nLocal cluster starting (data in ${dataDir}):\n` +
      `  name server  ${namesrvAddrs.join(';')}   (NAMESRV_ADDR=${namesrvAddrs.join(';')})\n` +
      `${lines.join('\n')}\n` +
      `A failover controller per group picks the master (${masterRole}); kill one to see a\n` +
      `slave take over within ${detectionTimeMs} ms. Press Ctrl-C to stop.\n\n`,
  );
  await runUntilSignal(logger, async () => {
    for (const c of controllers) await c.stop();
    admin.close();
    await Promise.all(processes.map((p) => p.stop()));
  });
}
