import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../common/logger';
import { DelayOffsetTable } from '../../broker/schedule/delay-offset-table';
import { removeDir } from '../support/processes';

const logger = createLogger('test', 'silent');

describe('delayOffset.json', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rmqts-delay-offset-'));
    path = join(dir, 'delayOffset.json');
  });
  afterEach(() => removeDir(dir));

  it('reads the file a Java broker writes (fastjson, unquoted level keys)', async () => {
    writeFileSync(path, '{"offsetTable":{1:5,2:7,18:0}}');
    const table = new DelayOffsetTable(path, logger);
    await table.load();
    expect([table.get(1), table.get(2), table.get(3), table.get(18)]).toEqual([5, 7, 0, 0]);
  });

  it('writes only when something changed, levels as keys in order', async () => {
    const table = new DelayOffsetTable(path, logger);
    await table.load();
    expect(table.get(4)).toBe(0);
    await table.flushIfDirty();
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
    table.set(3, 12);
    table.set(1, 4);
    await table.flushIfDirty();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ offsetTable: { '1': 4, '3': 12 } });
    const reread = new DelayOffsetTable(path, logger);
    await reread.load();
    expect(reread.get(3)).toBe(12);
  });

  it('refuses a file it cannot read rather than restarting every level from zero', async () => {
    writeFileSync(path, '{"offsetTable":{"x":-1}}');
    await expect(new DelayOffsetTable(path, logger).load()).rejects.toThrow(/delayOffset.json/);
  });
});
