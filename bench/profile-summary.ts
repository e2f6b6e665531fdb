/**
 * Reads V8 CPU profiles (`node --cpu-prof`, e.g. from `bench:compare --cpuProf`) and prints,
 * per profile, where the busy time went: the functions with the most self time, and the share
 * of garbage collection, idle time and our own code, so a hot path can be found without a
 * browser:
 *
 *   node dist/bench/profile-summary.js [--top=25] FILE.cpuprofile...
 */
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { parseArgs, UsageError } from '../cli/args';
import { numberOption } from './options';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  /** `name (file:line)`. */
  label: string;
  selfMs: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  /** Self time in the project's own files (not node_modules, not Node.js internals). */
  ownCodeMs: number;
  top: FunctionCost[];
}

/** The V8 names of time not spent running JavaScript. */
const IDLE = '(idle)';
const GC = '(garbage collector)';

function labelOf(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const file = url.startsWith('file://') ? relative(root, url.slice('file://'.length)) : url;
  return `${name} (${file}:${lineNumber + 1})`;
}

/** Self time per function of one profile; `root` shortens file paths in labels. */
export function summarizeProfile(profile: CpuProfile, root: string, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time is the delta to the next sample (the last one has none to go by).
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const byLabel = new Map<string, number>();
  let idleUs = 0;
  let gcUs = 0;
  let ownUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName;
    if (name === IDLE) idleUs += us;
    if (name === GC) gcUs += us;
    const url = node.callFrame.url;
    if (url.startsWith('file://') && !url.includes('/node_modules/')) ownUs += us;
    const label = labelOf(node, root);
    byLabel.set(label, (byLabel.get(label) ?? 0) + us);
  }
  const ranked = [...byLabel.entries()]
    .filter(([label]) => label !== IDLE)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([label, us]) => ({ label, selfMs: us / 1000 }));
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idleMs: idleUs / 1000,
    gcMs: gcUs / 1000,
    ownCodeMs: ownUs / 1000,
    top: ranked,
  };
}

function format(file: string, s: ProfileSummary): string {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => (busy > 0 ? ((100 * ms) / busy).toFixed(1) : '0.0');
  const lines = [
    `${basename(file)}: ${s.totalMs.toFixed(0)} ms profiled, busy ${busy.toFixed(0)} ms ` +
      `(${((100 * busy) / Math.max(1, s.totalMs)).toFixed(0)}%); of busy: GC ${pct(s.gcMs)}%, ` +
      `own code ${pct(s.ownCodeMs)}%`,
    ...s.top.map(
      (f) => `  ${pct(f.selfMs).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.label}`,
    ),
  ];
  return lines.join('\n');
}

function main(argv: string[]): void {
  const args = parseArgs(argv);
  const top = numberOption(args, 'top', 25);
  if (args.positionals.length === 0) throw new UsageError('give one or more .cpuprofile files');
  for (const file of args.positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${format(file, summarizeProfile(profile, process.cwd(), top))}\n\n`);
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`profile-summary: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
