import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, REPO_ROOT } from './support/tools';

const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

describe("the chart's CRDs", () => {
  it('are byte-for-byte the generated crds/ (refresh with `npm run chart:crds`)', () => {
    const generated = join(REPO_ROOT, 'crds');
    const shipped = join(CHART_DIR, 'crds');
    expect(yamlFiles(generated).length).toBeGreaterThan(0);
    expect(yamlFiles(shipped)).toEqual(yamlFiles(generated));
    for (const file of yamlFiles(generated)) {
      expect([file, readFileSync(join(shipped, file), 'utf8')]).toEqual([
        file,
        readFileSync(join(generated, file), 'utf8'),
      ]);
    }
  });
});
