import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';
import { PRIVATE_DIR_MODE } from '../fs/private-files';
import type { DownloadPlan } from './download-plan';

// 2: keyed by the manifest id (chunk SHA-256s); a format-1 journal is discarded and its download starts over.
const JOURNAL_FORMAT = 2;
const DEFAULT_FLUSH_INTERVAL_MS = 500;

interface JournalFile {
  format: number;
  gameId: string;
  version: string;
  manifestId: string;
  /** Per manifest path: bitset of verified chunk indexes (bit i of byte i>>3, LSB first), base64. */
  verified: Record<string, string>;
}

export function journalPath(stateDir: string, gameId: string): string {
  return path.join(stateDir, 'games', gameId, 'download_journal.json');
}

export async function hasJournal(stateDir: string, gameId: string): Promise<boolean> {
  return (await stat(journalPath(stateDir, gameId)).catch(() => null))?.isFile() ?? false;
}

/** The manifest id an interrupted download was fetching, so the next attempt prefers sources of the same bytes; null without a readable journal. */
export async function journalManifestId(stateDir: string, gameId: string): Promise<string | null> {
  const raw = await readFile(journalPath(stateDir, gameId), 'utf8').catch(() => null);
  const journal = raw === null ? null : parse(raw);
  return typeof journal?.manifestId === 'string' ? journal.manifestId : null;
}

/** The manifest paths an interrupted download was fetching (its payload files and version.ini); null without a readable journal. */
export async function journaledPaths(stateDir: string, gameId: string): Promise<string[] | null> {
  const raw = await readFile(journalPath(stateDir, gameId), 'utf8').catch(() => null);
  const journal = raw === null ? null : parse(raw);
  return journal && journal.gameId === gameId ? Object.keys(journal.verified) : null;
}

/** Games with a download journal in the state directory: downloads that stopped before their end. */
export async function journaledGameIds(stateDir: string): Promise<string[]> {
  const entries = await readdir(path.join(stateDir, 'games')).catch(() => [] as string[]);
  const found: string[] = [];
  for (const gameId of entries) if (await hasJournal(stateDir, gameId)) found.push(gameId);
  return found;
}

/**
 * Records which chunks were verified, so a crash, a restart or all peers vanishing costs only
 * the chunks not yet verified. Writes are atomic and coalesced (at most one per interval plus
 * a final flush) because a chunk can verify every millisecond on a fast LAN. The journal lives
 * in the state directory: launcher metadata never goes into game folders.
 */
export class ResumeJournal {
  private readonly file: string;
  private readonly bits: Uint8Array[];
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly plan: DownloadPlan,
    stateDir: string,
    private readonly flushIntervalMs = DEFAULT_FLUSH_INTERVAL_MS,
  ) {
    this.file = journalPath(stateDir, plan.manifest.gameId);
    this.bits = plan.manifest.files.map((file) => new Uint8Array(Math.ceil(file.chunkHashes.length / 8)));
  }

  /**
   * Loads the chunks a previous run verified for this exact manifest. A journal of another
   * version or manifest, or an unreadable one, is discarded.
   */
  async load(): Promise<Array<{ fileIndex: number; chunkIndex: number }>> {
    const raw = await readFile(this.file, 'utf8').catch(() => null);
    if (raw === null) return [];
    const journal = parse(raw);
    const { manifest, manifestId } = this.plan;
    if (!journal || journal.gameId !== manifest.gameId || journal.version !== manifest.version || journal.manifestId !== manifestId) {
      await this.delete();
      return [];
    }
    const found: Array<{ fileIndex: number; chunkIndex: number }> = [];
    manifest.files.forEach((file, fileIndex) => {
      const encoded = journal.verified[file.path];
      if (typeof encoded !== 'string') return;
      const saved = Buffer.from(encoded, 'base64');
      for (let chunkIndex = 0; chunkIndex < file.chunkHashes.length; chunkIndex += 1) {
        if (((saved[chunkIndex >> 3] ?? 0) >> (chunkIndex & 7)) & 1) found.push({ fileIndex, chunkIndex });
      }
    });
    return found;
  }

  /**
   * Makes the journal exist before any payload file does, so a kill at any moment leaves either
   * a resumable download or nothing. A journal of this exact manifest is kept as it is.
   */
  async create(): Promise<void> {
    await this.load();
    if ((await stat(this.file).catch(() => null))?.isFile()) return;
    this.dirty = true;
    await this.flush();
  }

  markVerified(fileIndex: number, chunkIndex: number): void {
    const bits = this.bits[fileIndex];
    if (!bits || this.closed) return;
    bits[chunkIndex >> 3] = (bits[chunkIndex >> 3] ?? 0) | (1 << (chunkIndex & 7));
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.flushIntervalMs);
  }

  markUnverified(fileIndex: number, chunkIndex: number): void {
    const bits = this.bits[fileIndex];
    if (!bits || this.closed) return;
    bits[chunkIndex >> 3] = (bits[chunkIndex >> 3] ?? 0) & ~(1 << (chunkIndex & 7));
    this.dirty = true;
  }

  /** Writes pending changes now (serialised with any write in progress). */
  async flush(): Promise<void> {
    this.clearTimer();
    // A failed write must not poison the chain: later flushes run, and retry what it lost.
    this.writing = this.writing.catch(() => undefined).then(async () => {
      if (!this.dirty || this.closed) return;
      this.dirty = false;
      const save = async () => {
        await mkdir(path.dirname(this.file), { recursive: true, mode: PRIVATE_DIR_MODE });
        await writeFileAtomic(this.file, JSON.stringify(this.snapshot()));
      };
      await save().catch((error: unknown) => {
        this.dirty = true;
        throw error;
      });
    });
    await this.writing;
  }

  /** Final flush and no further writes (failure: keep the journal for the next attempt). */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
  }

  /** Cancel, success, or a discarded payload: the journal must not outlive its bytes. */
  async delete(): Promise<void> {
    this.clearTimer();
    this.closed = true;
    await this.writing.catch(() => undefined);
    await rm(this.file, { force: true });
  }

  private snapshot(): JournalFile {
    const { manifest, manifestId } = this.plan;
    // No prototype: a manifest path may be named __proto__.
    const verified: Record<string, string> = Object.create(null) as Record<string, string>;
    manifest.files.forEach((file, index) => {
      verified[file.path] = Buffer.from(this.bits[index] as Uint8Array).toString('base64');
    });
    return { format: JOURNAL_FORMAT, gameId: manifest.gameId, version: manifest.version, manifestId, verified };
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function parse(raw: string): JournalFile | null {
  try {
    const value = JSON.parse(raw) as Partial<JournalFile> | null;
    if (!value || value.format !== JOURNAL_FORMAT || typeof value.verified !== 'object' || value.verified === null) return null;
    return value as JournalFile;
  } catch {
    return null;
  }
}
