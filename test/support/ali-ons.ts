import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { DriverInput, DriverResult } from '../broker/ali-ons-driver';

const DRIVER = resolve(__dirname, '../../dist/test/broker/ali-ons-driver.js');

/**
 * Runs an ali-ons scenario (test/broker/ali-ons-driver.ts) in its own process — ali-ons leaves
 * sockets and timers behind after close() — and resolves with its JSON result.
 */
export function driveAliOns(input: DriverInput): Promise<DriverResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(process.execPath, [DRIVER, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`ali-ons driver exited with ${code}: ${err.slice(-2000)}`));
      } else {
        resolveResult(JSON.parse(line) as DriverResult);
      }
    });
  });
}
