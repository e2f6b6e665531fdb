import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../common/logger';
import type { ParsedArgs } from './args';
import { runUntilSignal } from './lifecycle';

/**
 * `rocketmq-ts dev`: a local cluster on this machine, each server a child process of this
 * one, data under `--dataDir` (default ./data). Ctrl-C stops them all.
 * For now the cluster is the name server; brokers join it as they are built.
 */
export async function runDev(args: ParsedArgs): Promise<void> {
  const logger = createLogger('dev');
  const dataDir = resolve(args.long.get('dataDir') ?? 'data');
  const namesrvPort = Number(args.long.get('namesrvPort') ?? 9876);
  mkdirSync(dataDir, { recursive: true });

  const children: ChildProcess[] = [];
  const start = (name: string, cliArgs: string[]) => {
    const child = spawn(process.execPath, [join(__dirname, 'index.js'), ...cliArgs], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code, signal) => logger.info({ name, code, signal }, 'process exited'));
    children.push(child);
  };
  start('namesrv', [
    'namesrv',
    `--listenPort=${namesrvPort}`,
    `--kvConfigPath=${join(dataDir, 'namesrv', 'kvConfig.json')}`,
  ]);

  process.stdout.write(
    `\nLocal cluster starting (data in ${dataDir}):\n` +
      `  name server   127.0.0.1:${namesrvPort}   (NAMESRV_ADDR=127.0.0.1:${namesrvPort})\n` +
      `  metrics       http://127.0.0.1:9880/metrics\n` +
      `Press Ctrl-C to stop.\n\n`,
  );
  await runUntilSignal(logger, () => stopAll(children));
}

function stopAll(children: ChildProcess[]): Promise<void> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolveExit) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
          child.once('exit', () => resolveExit());
          child.kill('SIGTERM');
        }),
    ),
  ).then(() => undefined);
}
