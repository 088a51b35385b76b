import { writeFile } from 'node:fs/promises';
import { SUITES } from './suites';

/** Child-process entry: `run-suite.ts <name> <out.json>` runs one suite and writes its figures. */
const [name, out] = process.argv.slice(2);
const suite = name ? SUITES[name] : undefined;
if (!suite || !out) {
  process.stderr.write(`usage: run-suite.ts <${Object.keys(SUITES).join('|')}> <out.json>\n`);
  process.exit(2);
}
const figures = await suite();
await writeFile(out, JSON.stringify(figures, null, 2));
process.exit(0);
