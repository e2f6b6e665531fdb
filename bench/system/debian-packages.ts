import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../../common/logger';

/** A Debian package and the program whose presence shows it is installed. */
export interface DebianPackage {
  name: string;
  program: string;
}

/**
 * Installs, with apt-get, those of `packages` whose program is missing. Services are not
 * started by the install (Debian's policy-rc.d on these machines forbids it; we start our own
 * instances on other ports). When apt's lists are stale the first attempt fails to locate the
 * package; then lists are updated once and the install retried.
 */
export async function ensureDebianPackages(packages: DebianPackage[], log: Logger): Promise<void> {
  const missing = packages.filter((p) => !existsSync(p.program)).map((p) => p.name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${missing.join(', ')}: install them (apt-get install ${missing.join(' ')}) ` +
        'or run the benchmark as root so it can',
    );
  }
  log.info({ packages: missing }, 'installing Debian packages');
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  if ((await aptGet(install)).code !== 0) {
    await aptGet(['update']);
    const retry = await aptGet(install);
    if (retry.code !== 0) {
      throw new Error(`apt-get install ${missing.join(' ')} failed:\n${retry.output.slice(-2000)}`);
    }
  }
}

function aptGet(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
