import { lstat, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { pseudoRandomChunks } from './generate-game';
import { writeRar5Stored, type Rar5Entry } from './rar5-stored-writer';

/**
 * The games `npm start -- --demo` shares from its two loopback seed peers. Their ids are in the
 * bundled catalog. Sizes are chosen so a download is visible in the UI yet takes seconds.
 */

export interface DemoGame {
  id: string;
  title: string;
  version: string;
  /** Drives every content byte; a new version of a game needs a new seed. */
  seed: number;
  files: Array<{ path: string; size: number }>;
  /** Split into `<id>.partN.rar` volumes of about this size. */
  volumeSize?: number;
}

const MiB = 1024 * 1024;

export const DEMO_GAMES: readonly DemoGame[] = [
  {
    id: 'demo-arena',
    title: 'Demo Arena',
    version: '1.2',
    seed: 0xa4e4a,
    files: [
      { path: 'bin/arena.bin', size: 8 * MiB },
      { path: 'data/maps.pak', size: 24 * MiB },
      { path: 'data/sounds.pak', size: 16 * MiB },
    ],
    volumeSize: 20 * MiB,
  },
  {
    id: 'demo-racer',
    title: 'Demo Racer',
    version: '2.0',
    seed: 0x4acee,
    files: [
      { path: 'bin/racer.bin', size: 4 * MiB },
      { path: 'data/tracks.pak', size: 20 * MiB },
      { path: 'data/cars.pak', size: 8 * MiB },
    ],
  },
  {
    id: 'demo-tanks',
    title: 'Demo Tanks',
    version: '0.9',
    seed: 0x7a4c5,
    files: [
      { path: 'bin/tanks.bin', size: 2 * MiB },
      { path: 'data/terrain.pak', size: 22 * MiB },
    ],
  },
];

/** Which games each demo seed peer shares: seed 1 all of them, seed 2 two, so those have two sources. */
export const DEMO_SEEDS: Readonly<Record<number, readonly string[]>> = {
  1: ['demo-arena', 'demo-racer', 'demo-tanks'],
  2: ['demo-arena', 'demo-racer'],
};

export function demoGamesOfSeed(seedIndex: number): DemoGame[] {
  const ids = DEMO_SEEDS[seedIndex];
  if (!ids) {
    throw new LanspreadError('MALFORMED_MESSAGE', `There is no demo seed ${seedIndex}; use one of ${Object.keys(DEMO_SEEDS).join(', ')}`);
  }
  return DEMO_GAMES.filter((game) => ids.includes(game.id));
}

export function demoGameBytes(game: DemoGame): number {
  return game.files.reduce((sum, file) => sum + file.size, 0);
}

/**
 * A fixed archive timestamp: generateGame stamps "now" into the RAR headers, so two seeds
 * generated a second apart would serve different bytes under the same version, and a download
 * drawing chunks from both would fail CRC checks. With this, every machine makes the same bytes.
 */
const DEMO_ARCHIVE_MTIME = new Date('2026-01-01T00:00:00Z');

function demoFileSeed(gameSeed: number, fileIndex: number): number {
  return (Math.imul(gameSeed, 0x01000193) ^ Math.imul(fileIndex + 1, 0x85ebca6b)) >>> 0;
}

/**
 * The catalog starts demo games with `run.sh` / `run.cmd`: each stays up for a minute so Play
 * shows the game as running, then exits and the running state clears.
 */
function launchScripts(game: DemoGame): Rar5Entry[] {
  const script = (name: string, content: string): Rar5Entry => {
    const bytes = new TextEncoder().encode(content);
    return { name, size: bytes.byteLength, data: () => [bytes] };
  };
  const banner = `${game.title} ${game.version} (Lanspread demo) is running`;
  return [
    script('run.sh', `#!/bin/sh\necho "${banner}"\nsleep 60\n`),
    script('run.cmd', `@echo off\r\necho ${banner}\r\ntimeout /t 60 /nobreak >nul\r\n`),
  ];
}

export type DemoGameOutcome = 'generated' | 'already-there';

/**
 * Writes one demo game as a downloaded game root (archive + version.ini). version.ini is
 * written last, so an interrupted run leaves a root without it and the next run redoes it.
 */
export async function writeDemoGame(gameDir: string, game: DemoGame): Promise<DemoGameOutcome> {
  const root = path.join(gameDir, game.id);
  const versionIni = path.join(root, 'version.ini');
  if (await lstat(versionIni).catch(() => null)) return 'already-there';
  await mkdir(root, { recursive: true });
  const entries: Rar5Entry[] = game.files.map((file, index) => ({
    name: file.path,
    size: file.size,
    data: () => pseudoRandomChunks(file.size, demoFileSeed(game.seed, index)),
  }));
  entries.push(...launchScripts(game));
  const archivePath = path.join(root, game.volumeSize ? `${game.id}.part1.rar` : `${game.id}.rar`);
  await writeRar5Stored({ archivePath, entries, volumeSize: game.volumeSize, mtime: DEMO_ARCHIVE_MTIME });
  await writeFile(versionIni, `${game.version}\n`);
  return 'generated';
}
