import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchFigure } from './figures';
import { SUITES } from './suites';

/**
 * `npm run bench [suite...]`: runs each suite in a fresh child process and writes
 * bench/results/latest.json (an array of figures) and bench/results/latest.md (the table the
 * README quotes). Figures of suites not run this time are kept from the previous results.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(SUITES);

const previous: BenchFigure[] = await readFile(path.join(resultsDir, 'latest.json'), 'utf8')
  .then((text) => JSON.parse(text) as BenchFigure[])
  .catch(() => []);
const byId = new Map(previous.map((figure) => [figure.id, figure]));
let failed = false;

for (const name of names) {
  if (!SUITES[name]) throw new Error(`Unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
  const out = path.join(os.tmpdir(), `lanspread-bench-${name}-${process.pid}.json`);
  process.stderr.write(`\n== bench ${name}\n`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'run-suite.ts'), name, out], { stdio: 'inherit' });
  if (child.status !== 0) {
    failed = true;
    process.stderr.write(`bench ${name} failed (exit ${child.status})\n`);
    continue;
  }
  for (const figure of JSON.parse(await readFile(out, 'utf8')) as BenchFigure[]) byId.set(figure.id, figure);
  await rm(out, { force: true });
}

const figures = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
await mkdir(resultsDir, { recursive: true });
await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(figures, null, 2)}\n`);
await writeFile(path.join(resultsDir, 'latest.md'), table(figures));
process.stdout.write(`\n${table(figures)}`);
process.exit(failed ? 1 : 0);

function table(rows: BenchFigure[]): string {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
  const lines = [
    `Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| id | value | unit | baseline | ratio | note |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.id} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.baseline)} | ${r.ratio.toFixed(2)} | ${r.note ?? ''} |`),
  ];
  return `${lines.join('\n')}\n`;
}
