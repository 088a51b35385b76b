import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode, LanspreadError } from '../../../src/shared/errors';
import { InstallService } from '../../../src/main/peer/install/install-service';
import { OperationRegistry } from '../../../src/main/peer/operations/operation-registry';
import { WorkerUnpacker } from '../../../src/main/peer/unpack/worker-unpacker';
import { fileCrc, haveRarFixtures, listTree, makeTempDir, sharedRarFixtures } from '../../support/install-helpers';

/**
 * Every fixture set of ../shared/fixtures/rar installed through the real transaction, with the
 * expectation taken from MANIFEST.json's node-unrar-js verdict for that set.
 */

interface ManifestEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'filecopy';
  size: number;
  crc32?: string;
  node_name?: string;
}

interface ManifestSet {
  id: string;
  category: string;
  dir: string;
  files: string[];
  encrypted: { password: string | null; per_file_passwords?: Record<string, string> };
  entries: ManifestEntry[];
  node_unrar_js: {
    handled: string;
    without_password?: { file_mode?: { reason?: string } };
    file_mode?: { on_disk_after_file_mode?: string[] };
  };
}

/** A game root only offers `.rar` files; a single archive named `.cbr` is copied as `.cbr.rar`. */
function gameFileName(set: ManifestSet, name: string): string {
  return set.files.length === 1 && !name.toLowerCase().endsWith('.rar') ? `${name}.rar` : name;
}

type Expectation = 'installs' | 'installs-regular-files' | 'fails' | 'contained';

function expectationFor(set: ManifestSet): Expectation {
  const handled = set.node_unrar_js.handled;
  if (set.encrypted.per_file_passwords) return 'fails'; // a game has one password
  if (handled === 'yes' || handled.startsWith('file-mode only')) return set.category === 'links' ? 'installs-regular-files' : 'installs';
  if (handled.startsWith('partial')) return 'installs-regular-files';
  if (handled.startsWith('neutralised')) return 'contained';
  return 'fails';
}

if (!haveRarFixtures) {
  console.log(`[skip] RAR conformance: ${sharedRarFixtures}/MANIFEST.json not found (../shared is absent in this checkout)`);
}

const manifest: ManifestSet[] = haveRarFixtures
  ? (JSON.parse(await readFile(path.join(sharedRarFixtures, 'MANIFEST.json'), 'utf8')) as { archives: ManifestSet[] }).archives
  : [];

describe.skipIf(!haveRarFixtures)('RAR fixture conformance (MANIFEST.json)', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let counter = 0;

  beforeAll(async () => {
    work = await makeTempDir('rar-conformance');
  });
  afterAll(async () => {
    await work?.cleanup();
  });

  /** A fresh game dir + state dir with the set copied in as game `g<n>`. */
  async function stage(set: ManifestSet, password?: string) {
    counter += 1;
    const base = path.join(work.dir, `case${counter}`);
    const gameDir = path.join(base, 'games');
    const stateDir = path.join(base, 'state');
    const gameId = `g${counter}`;
    const root = path.join(gameDir, gameId);
    await mkdir(root, { recursive: true });
    for (const name of set.files) await copyFile(path.join(sharedRarFixtures, set.dir, name), path.join(root, gameFileName(set, name)));
    await writeFile(path.join(root, 'version.ini'), '1\n');
    const service = new InstallService({
      gameDir,
      stateDir,
      unpacker: new WorkerUnpacker(),
      operations: new OperationRegistry(),
      passwords: () => password,
    });
    return { base, gameDir, root, gameId, service };
  }

  async function rootListing(root: string, set: ManifestSet): Promise<string[]> {
    const top = await listTree(root);
    const archives = set.files.map((name) => gameFileName(set, name));
    return top.filter((entry) => !entry.startsWith('local/') && !archives.includes(entry) && entry !== 'version.ini');
  }

  for (const set of manifest) {
    const expectation = expectationFor(set);
    it(`${set.category}/${set.id}: ${expectation}`, async () => {
      const password = set.encrypted.password ?? undefined;
      const { base, gameDir, root, gameId, service } = await stage(set, password);
      let failure: unknown = null;
      try {
        await service.install(gameId);
      } catch (error) {
        failure = error;
      }
      // Nothing is ever written outside local/: the root holds only the archives, version.ini, local/.
      const extra = await rootListing(root, set);
      expect(extra.filter((entry) => entry !== 'local/')).toEqual([]);
      expect(await listTree(gameDir)).toEqual(expect.arrayContaining([`${gameId}/`]));
      expect((await listTree(gameDir)).filter((entry) => !entry.startsWith(`${gameId}/`) && entry !== `${gameId}/`)).toEqual([]);
      expect((await listTree(base)).filter((entry) => !entry.startsWith('games/') && !entry.startsWith('state/'))).toEqual([]);

      const local = path.join(root, 'local');
      if (expectation === 'fails' || (expectation === 'contained' && failure)) {
        expect(failure, 'expected a coded error').toBeInstanceOf(LanspreadError);
        expect(isErrorCode((failure as LanspreadError).code)).toBe(true);
        expect((failure as LanspreadError).code).toMatch(/^(ARCHIVE_|PATH_)/);
        expect(extra).toEqual([]);
        expect(await listTree(path.join(base, 'state', 'games', gameId))).not.toContain('install_intent.json');
        return;
      }
      if (failure) throw failure;
      if (expectation === 'contained') {
        // unrar strips '../': the traversal entries land inside local/, where the manifest saw them.
        const onDisk = set.node_unrar_js.file_mode?.on_disk_after_file_mode ?? [];
        expect(onDisk.length).toBeGreaterThan(0);
        expect(await listTree(local)).toEqual(expect.arrayContaining(onDisk));
        return;
      }
      for (const entry of set.entries) {
        const name = entry.node_name ?? entry.path;
        const target = path.join(local, ...name.split('/'));
        if (entry.type === 'file') {
          const stats = await stat(target);
          expect(stats.size, name).toBe(entry.size);
          expect((await fileCrc(target)).toString(16).padStart(8, '0').toUpperCase(), name).toBe(entry.crc32);
        } else if (entry.type === 'dir') {
          expect((await stat(target)).isDirectory(), name).toBe(true);
        } else if (expectation === 'installs-regular-files' || entry.type === 'symlink') {
          // Links are never materialised: nothing can point outside the install.
          const lst = await import('node:fs/promises').then((fs) => fs.lstat(target).catch(() => null));
          expect(lst?.isSymbolicLink() ?? false, name).toBe(false);
        }
      }
      expect(await listTree(path.join(local))).not.toContain('.lanspread_owned');
    });

    if (set.encrypted.password && set.node_unrar_js.without_password?.file_mode?.reason === 'ERAR_MISSING_PASSWORD' && expectation === 'installs') {
      it(`${set.category}/${set.id}: without a password fails with ARCHIVE_PASSWORD_REQUIRED`, async () => {
        const { root, gameId, service } = await stage(set);
        await expect(service.install(gameId)).rejects.toMatchObject({ code: 'ARCHIVE_PASSWORD_REQUIRED' });
        expect(await rootListing(root, set)).toEqual([]);
      });
    }
  }
});
