/**
 * Which chunks of one manifest a peer holds, as a bitset over chunk ids (bit i of byte i>>3,
 * least significant first): the form it travels in (HaveMap frames) and is kept in.
 */
export class HaveMap {
  private readonly bits: Uint8Array;
  private held = 0;

  constructor(readonly size: number) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
  }

  /** Decodes a received map; bits past `size` are ignored, so a short or long map cannot overflow. */
  static fromBase64(size: number, encoded: string): HaveMap {
    const map = new HaveMap(size);
    const raw = Buffer.from(encoded, 'base64');
    for (let id = 0; id < size; id++) if (((raw[id >> 3] ?? 0) >> (id & 7)) & 1) map.set(id);
    return map;
  }

  get count(): number {
    return this.held;
  }

  get complete(): boolean {
    return this.held === this.size;
  }

  has(id: number): boolean {
    return id >= 0 && id < this.size && (((this.bits[id >> 3] as number) >> (id & 7)) & 1) === 1;
  }

  /** True when the bit was newly set. */
  set(id: number): boolean {
    if (id < 0 || id >= this.size || this.has(id)) return false;
    this.bits[id >> 3] = (this.bits[id >> 3] as number) | (1 << (id & 7));
    this.held++;
    return true;
  }

  /** True when the bit was set before. */
  clear(id: number): boolean {
    if (!this.has(id)) return false;
    this.bits[id >> 3] = (this.bits[id >> 3] as number) & ~(1 << (id & 7));
    this.held--;
    return true;
  }

  toBase64(): string {
    return Buffer.from(this.bits).toString('base64');
  }
}
