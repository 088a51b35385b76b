import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvidedItem } from '../../../src/main/peer/stream/stream-provider';
import { StreamReceiver } from '../../../src/main/peer/stream/stream-receiver';
import { UnrarStreamProvider } from '../../../src/main/peer/stream/unrar-stream-provider';
import { findArchiveSets } from '../../../src/main/peer/unpack/archive-sets';
import { WorkerUnpacker } from '../../../src/main/peer/unpack/worker-unpacker';
import { fileCrc, haveRarFixtures, listTree, makeTempDir, sharedRarFixtures } from '../../support/install-helpers';

/**
 * The one-pass stream provider over every fixture set that a normal install handles: what a
 * streamed install writes (provider items fed to the verifying receiver, as the sender and the
 * receiver do around the wire) must equal what the file-mode extractor writes, entry by entry.
 */
interface FixtureSet {
  id: string;
  category: string;
  dir: string;
  files: string[];
  encrypted: { password: string | null; per_file_passwords?: Record<string, string> };
  node_unrar_js: { handled: string };
}

if (!haveRarFixtures) console.log(`[skip] streamed install conformance: ${sharedRarFixtures}/MANIFEST.json not found`);

const sets: FixtureSet[] = haveRarFixtures
  ? (JSON.parse(await readFile(path.join(sharedRarFixtures, 'MANIFEST.json'), 'utf8')) as { archives: FixtureSet[] }).archives.filter(
      (set) => !set.encrypted.per_file_passwords && (set.node_unrar_js.handled === 'yes' || set.node_unrar_js.handled.startsWith('file-mode only')) && set.category !== 'links',
    )
  : [];

async function treeWithCrcs(dir: string): Promise<Map<string, number | 'dir'>> {
  const out = new Map<string, number | 'dir'>();
  for (const entry of await listTree(dir)) out.set(entry, entry.endsWith('/') ? 'dir' : await fileCrc(path.join(dir, entry)));
  return out;
}

async function streamInto(items: AsyncIterable<ProvidedItem>, receiver: StreamReceiver): Promise<void> {
  for await (const item of items) {
    switch (item.type) {
      case 'begin':
        await receiver.frame({ type: 'Begin', gameId: 'g', version: '1', entries: item.entries, totalBytes: item.totalBytes });
        break;
      case 'entry':
        await receiver.frame({ type: 'Entry', path: item.path, kind: item.kind, size: item.size });
        break;
      case 'data':
        await receiver.data(item.bytes);
        break;
      case 'entry-end':
        await receiver.frame({ type: 'EntryEnd', crc32: item.crc32 });
        break;
      case 'end':
        await receiver.frame({ type: 'End', files: item.files, directories: item.directories, bytes: item.bytes });
        break;
    }
  }
}

describe.skipIf(!haveRarFixtures)('streamed install conformance over the RAR fixtures', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let counter = 0;
  beforeAll(async () => {
    work = await makeTempDir('stream-conformance');
  });
  afterAll(async () => {
    await work?.cleanup();
  });

  for (const set of sets) {
    it(`${set.category}/${set.id}: streams exactly what a normal install writes`, async () => {
      counter += 1;
      const root = path.join(work.dir, `case${counter}`);
      await mkdir(root, { recursive: true });
      // A game root offers `.rar` files only (a single `.cbr` is served as `.cbr.rar`).
      for (const name of set.files) await copyFile(path.join(sharedRarFixtures, set.dir, name), path.join(root, set.files.length === 1 && !name.toLowerCase().endsWith('.rar') ? `${name}.rar` : name));
      const archives = (await findArchiveSets(root)).firstVolumes;
      const password = set.encrypted.password ?? undefined;
      const installed = path.join(work.dir, `installed${counter}`);
      const streamed = path.join(work.dir, `streamed${counter}`);
      await mkdir(installed);
      await mkdir(streamed);
      await new WorkerUnpacker().unpack({ archives, targetDir: installed, password });
      const receiver = new StreamReceiver(streamed, { gameId: 'g', version: '1' });
      await streamInto(new UnrarStreamProvider().open({ gameId: 'g', archives, password }), receiver);
      expect(receiver.outcome().files).toBeGreaterThanOrEqual(0);
      expect(await treeWithCrcs(streamed)).toEqual(await treeWithCrcs(installed));
    });
  }
});
