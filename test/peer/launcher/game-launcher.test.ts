import { existsSync } from 'node:fs';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGameLauncher } from '../../../src/main/peer/launcher/game-launcher';
import type { Catalog } from '../../../src/shared/catalog';
import { makeWorkDir } from '../../support/temp-dir';
import { catalogEntry, testCatalog } from '../../support/test-catalog';

describe.skipIf(process.platform === 'win32')('game launcher', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    work = await makeWorkDir('launcher');
  });
  afterEach(async () => {
    await work.cleanup();
  });

  async function installScript(gameId: string, body: string, mode: number): Promise<string> {
    const local = path.join(work.dir, gameId, 'local');
    await mkdir(local, { recursive: true });
    const script = path.join(local, 'run.sh');
    await writeFile(script, `#!/bin/sh\n${body}\n`);
    await chmod(script, mode);
    return script;
  }

  it('starts the catalog executable from local/, making it executable when the archive carried no mode, and reports its exit', async () => {
    const script = await installScript('demo-arena', 'echo started > "$PWD/started.txt"', 0o644);
    const launch = createGameLauncher(() => testCatalog(['demo-arena']), () => work.dir, 'linux');
    const exited = new Promise<void>((resolve) => void launch('demo-arena', resolve));
    await exited;
    expect(existsSync(path.join(work.dir, 'demo-arena', 'local', 'started.txt'))).toBe(true);
    expect((await stat(script)).mode & 0o100).toBe(0o100);
  });

  it('refuses a missing executable and a launch path that leaves local/', async () => {
    const launch = createGameLauncher(() => testCatalog(['demo-arena']), () => work.dir, 'linux');
    await expect(launch('demo-arena', () => undefined)).rejects.toMatchObject({ code: 'NOT_INSTALLED' });
    await installScript('demo-racer', 'true', 0o755);
    const escaping: Catalog = { schemaVersion: 1, games: [{ ...catalogEntry('demo-racer'), launch: { linux: { executable: '../../outside.sh', args: [] } } }] };
    const launchEscaping = createGameLauncher(() => escaping, () => work.dir, 'linux');
    await expect(launchEscaping('demo-racer', () => undefined)).rejects.toMatchObject({ code: 'PATH_OUTSIDE_ROOT' });
  });
});
