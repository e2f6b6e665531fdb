import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../common/net/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ScrapeJob {
  job: string;
  /** `host:port` of each /metrics endpoint. */
  targets: string[];
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

/**
 * Debian's real `prometheus` server on loopback, scraping the given jobs every second and
 * evaluating `ruleFiles` every second, with its own throw-away TSDB directory.
 */
export class PrometheusServer {
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
  }

  static async start(jobs: ScrapeJob[], ruleFiles: string[]): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'rmqts-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      scrape_configs: jobs.map(({ job, targets }) => ({
        job_name: job,
        static_configs: [{ targets }],
      })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`, dir);
    await server.waitUntilReady();
    return server;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`prometheus exited with ${this.child.exitCode}: ${this.stderr}`);
      }
      const ok = await fetch(`${this.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`prometheus not ready within 30 s: ${this.stderr}`);
  }

  private async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.url}${path}?${new URLSearchParams(params).toString()}`);
    const answer = (await response.json()) as ApiAnswer<T>;
    if (answer.status !== 'success')
      throw new Error(`${path} ${JSON.stringify(params)}: ${answer.error}`);
    return answer.data;
  }

  /** An instant query at now; throws on a PromQL error. */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: Sample[] | [number, string] }>(
      '/api/v1/query',
      { query: expr },
    );
    // A scalar answer (e.g. `vector(0)` folded by the engine) is one sample without labels.
    if (data.resultType === 'scalar')
      return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as Sample[];
  }

  /** The number a query returns when it returns exactly one sample, else undefined. */
  async value(expr: string): Promise<number | undefined> {
    const samples = await this.query(expr);
    return samples.length === 1 ? Number(samples[0].value[1]) : undefined;
  }

  async targets(): Promise<
    { labels: Record<string, string>; health: string; lastError: string }[]
  > {
    const data = await this.api<{
      activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
    }>('/api/v1/targets');
    return data.activeTargets;
  }

  async ruleGroups(): Promise<
    { name: string; rules: { name: string; health: string; lastError?: string }[] }[]
  > {
    const data = await this.api<{
      groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
    }>('/api/v1/rules');
    return data.groups;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
