import * as zlib from 'node:zlib';
import CRC32 from 'crc-32';

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

// zlib.crc32 appeared in Node 20.15 / 22.2; Electron's Node has it, older Node 20 may not.
const native = (zlib as unknown as { crc32?: NativeCrc32 }).crc32;

/** Continues a CRC32 (unsigned) over `data`; start with 0. Both paths give identical values. */
export const crc32Update: (data: Uint8Array, previous: number) => number = native
  ? (data, previous) => native(data, previous)
  : (data, previous) => CRC32.buf(data, previous) >>> 0;
