/**
 * Crash test (issue 3): a child process appends with SYNC_FLUSH and reports every acknowledged
 * message; we SIGKILL it at random moments, over and over (some kills land during its startup
 * recovery), and finally check that every acknowledged message is there byte for byte, that the
 * ConsumeQueues agree with the CommitLog, and that every record served is whole.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeRecord } from '../../../common/message/record';
import { Prng } from '../../helpers/prng';
import { checkQueues, crashBody, crashConfig, openStore, tempStoreDir } from './store-fixtures';

const CHILD = resolve(__dirname, '../../../dist/test/broker/store/crash-child.js');
const KILLS = 22;

interface Ack {
  run: number;
  i: number;
  queueId: number;
  offset: number;
  queueOffset: number;
  size: number;
}

/**
 * Starts the child and kills it `killAfterMs` after it is ready to append (or, with
 * `duringStartup`, that long after spawning it, which may land in recovery); resolves with the
 * acks it printed. Timing from readiness keeps the test's mix of kills the same on a slow,
 * loaded machine.
 */
function runAndKill(
  dir: string,
  run: number,
  killAfterMs: number,
  duringStartup: boolean,
): Promise<{ acks: Ack[]; ready: boolean; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CHILD, dir, String(run)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Ack[] = [];
    let ready = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') {
        ready = true;
        if (!duringStartup) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        return;
      }
      const [r, i, queueId, offset, queueOffset, size] = line.split(' ').map(Number);
      acks.push({ run: r, i, queueId, offset, queueOffset, size });
    });
    let timer = duringStartup ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') fail(new Error(`child exited by itself (${code}): ${stderr}`));
      else done({ acks, ready, stderr });
    });
  });
}

describe('store crash test (SIGKILL under SYNC_FLUSH)', () => {
  it(`keeps every acknowledged message across ${KILLS} random kills`, async () => {
    if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run "npm run build" first`);
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const prng = new Prng(seed);
    const tmp = tempStoreDir();
    const acks: Ack[] = [];
    let readyRuns = 0;
    let killedAfterReady = 0;
    try {
      for (let run = 0; run < KILLS; run++) {
        // One run in four is killed at a random moment of its start, possibly mid-recovery.
        const duringStartup = prng.int(0, 3) === 0;
        if (!duringStartup) killedAfterReady++;
        const result = await runAndKill(tmp.dir, run, prng.int(50, 500), duringStartup);
        acks.push(...result.acks);
        if (result.ready) readyRuns++;
        if (result.stderr.includes('failed')) throw new Error(`run ${run}: ${result.stderr}`);
      }
      expect(readyRuns).toBeGreaterThanOrEqual(killedAfterReady);
      expect(acks.length).toBeGreaterThan(1000);

      const store = await openStore(crashConfig(tmp.dir));
      try {
        const queues = [0, 1, 2, 3].map((queueId) => ({ topic: 'Crash', queueId }));
        const counts = await checkQueues(store, queues);
        for (const a of acks) {
          const raw = await store.lookMessageByOffset(a.offset);
          if (raw === undefined)
            throw new Error(`seed ${seed}: acknowledged ${JSON.stringify(a)} is gone`);
          const rec = decodeRecord(raw);
          const ok =
            rec.body.equals(crashBody(a.run, a.i)) &&
            rec.queueId === a.queueId &&
            rec.queueOffset === a.queueOffset &&
            rec.size === a.size;
          if (!ok) throw new Error(`seed ${seed}: acknowledged ${JSON.stringify(a)} differs`);
          const viaQueue = await store.getMessage({
            topic: 'Crash',
            queueId: a.queueId,
            offset: a.queueOffset,
            maxMsgNums: 1,
          });
          expect(viaQueue.messages[0]?.equals(raw)).toBe(true);
        }
        const stored = [...counts.values()].reduce((x, y) => x + y, 0);
        expect(stored).toBeGreaterThanOrEqual(acks.length);
        process.stdout.write(
          `crash test seed ${seed}: ${KILLS} kills, ${readyRuns} runs past startup, ` +
            `${acks.length} acknowledged, ${stored} stored\n`,
        );
      } finally {
        await store.shutdown();
      }
    } finally {
      tmp.remove();
    }
  }, 120_000);
});
