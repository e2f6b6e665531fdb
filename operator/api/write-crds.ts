import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_FILE, rocketMQClusterCrdYaml } from './crd';

/** `npm run crds`: regenerates the CRD YAML from the TypeScript schema. */
const target = join(__dirname, '..', '..', '..', CRD_FILE);
writeFileSync(target, rocketMQClusterCrdYaml());
process.stdout.write(`wrote ${CRD_FILE}\n`);
