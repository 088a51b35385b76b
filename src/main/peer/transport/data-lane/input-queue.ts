/**
 * Received socket pieces not yet consumed, oldest first. Payload bytes leave as subarrays of
 * the pieces (no copy); only a frame header split across pieces is gathered into one buffer.
 * Pieces may be views of a buffer the socket reuses: `detachFrom` copies what is left of those
 * before the socket writes into it again.
 */
export class InputQueue {
  private readonly pieces: Uint8Array[] = [];
  private head = 0;
  private bytes = 0;

  get length(): number {
    return this.bytes;
  }

  push(piece: Uint8Array): void {
    if (piece.byteLength === 0) return;
    this.pieces.push(piece);
    this.bytes += piece.byteLength;
  }

  /** Gives every queued piece that is a view of `shared` memory of its own (only the unread part). */
  detachFrom(shared: ArrayBufferLike): void {
    for (let index = 0; index < this.pieces.length; index++) {
      const piece = this.pieces[index] as Uint8Array;
      if (piece.buffer !== shared) continue;
      // A copy: Buffer's slice() would be another view.
      this.pieces[index] = new Uint8Array(piece.subarray(index === 0 ? this.head : 0));
      if (index === 0) this.head = 0;
    }
  }

  clear(): void {
    this.pieces.length = 0;
    this.head = 0;
    this.bytes = 0;
  }

  /** The big-endian uint32 at the front, or null while fewer than 4 bytes are here. */
  peekUint32(): number | null {
    if (this.bytes < 4) return null;
    const first = this.pieces[0] as Uint8Array;
    const bytes = first.byteLength - this.head >= 4 ? first.subarray(this.head, this.head + 4) : this.copyFront(4);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  }

  /** Removes and returns exactly `count` bytes (the caller checked `length`). */
  take(count: number): Uint8Array {
    const out = this.copyFront(count);
    this.skip(count);
    return out;
  }

  /** Removes and returns up to `max` bytes from the front piece, without copying. */
  takeUpTo(max: number): Uint8Array {
    const first = this.pieces[0] as Uint8Array;
    const count = Math.min(max, first.byteLength - this.head);
    const out = first.subarray(this.head, this.head + count);
    this.skip(count);
    return out;
  }

  private copyFront(count: number): Uint8Array {
    const out = new Uint8Array(count);
    let filled = 0;
    let offset = this.head;
    for (const piece of this.pieces) {
      const part = piece.subarray(offset, offset + count - filled);
      out.set(part, filled);
      filled += part.byteLength;
      offset = 0;
      if (filled === count) break;
    }
    return out;
  }

  private skip(count: number): void {
    this.bytes -= count;
    let left = count;
    while (left > 0) {
      const first = this.pieces[0] as Uint8Array;
      const available = first.byteLength - this.head;
      if (available > left) {
        this.head += left;
        return;
      }
      left -= available;
      this.pieces.shift();
      this.head = 0;
    }
  }
}
