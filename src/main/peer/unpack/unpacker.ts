/**
 * The archive extractor the runtime is given (upstream injects an unrar sidecar). It writes only
 * into `targetDir`; the caller owns that directory and removes it on failure.
 */

export interface UnpackRequest {
  /** Absolute paths of the first volume of each archive set, extracted in this order. */
  archives: string[];
  targetDir: string;
  password?: string;
  signal?: AbortSignal;
  /** Bytes of entry content written so far, of the total announced by the archives' headers. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface UnpackResult {
  files: number;
  directories: number;
  bytes: number;
  /**
   * Entries the extractor did not materialise: symlinks, junctions and hard links. They are
   * skipped, never created, so nothing can point outside the install.
   */
  skippedLinks: string[];
}

export interface Unpacker {
  unpack(request: UnpackRequest): Promise<UnpackResult>;
}
