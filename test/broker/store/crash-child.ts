/**
 * The crash test's victim (run from dist/ by crash.test.ts): opens a SYNC_FLUSH store in the
 * directory given, prints `ready`, then appends from several concurrent appenders and prints one
 * line per acknowledged message — `run i queueId physicalOffset queueOffset size` — until it is
 * killed. stdout is a pipe, which Node writes synchronously on Linux, so a printed line means the
 * put had been acknowledged.
 */
import pino from 'pino';
import { createMessageStore } from '../../../broker/store';
import { crashBody, crashConfig, message } from './store-fixtures';

const QUEUES = 4;
const APPENDERS = 8;

async function main(): Promise<void> {
  const [dir, runText] = process.argv.slice(2);
  const run = Number(runText);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const store = createMessageStore(crashConfig(dir), { logger });
  await store.start();
  process.stdout.write('ready\n');
  let next = 0;
  const appender = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const queueId = i % QUEUES;
      const r = await store.putMessage(
        message('Crash', queueId, crashBody(run, i), { KEYS: `r${run}-${i}` }),
      );
      if (r.status === 'PUT_OK') {
        process.stdout.write(
          `${run} ${i} ${queueId} ${r.wroteOffset} ${r.logicsOffset} ${r.wroteBytes}\n`,
        );
      }
    }
  };
  for (let a = 0; a < APPENDERS; a++) void appender();
}

main().catch((err: unknown) => {
  process.stderr.write(`crash child failed: ${String(err)}\n`);
  process.exit(1);
});
