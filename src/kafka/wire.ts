/**
 * Kafka wire primitives (big-endian): int8/16/32/64, varint/varlong (zig-zag), string (int16 length),
 * nullable string (-1 = null), bytes (int32 length), arrays (int32 count, -1 = null).
 * Only the non-flexible encodings: the broker advertises versions that predate tagged fields.
 */
export class WireError extends Error {}

export class Reader {
  off: number;
  constructor(readonly buf: Buffer, off = 0) {
    this.off = off;
  }
  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new WireError(`truncated request: needed ${n} bytes at offset ${this.off} of ${this.buf.length}`);
  }
  int8(): number { this.need(1); return this.buf.readInt8(this.off++); }
  int16(): number { this.need(2); const v = this.buf.readInt16BE(this.off); this.off += 2; return v; }
  int32(): number { this.need(4); const v = this.buf.readInt32BE(this.off); this.off += 4; return v; }
  int64(): bigint { this.need(8); const v = this.buf.readBigInt64BE(this.off); this.off += 8; return v; }
  bool(): boolean { return this.int8() !== 0; }
  string(): string {
    const s = this.nullableString();
    if (s === null) throw new WireError('null where a string was required');
    return s;
  }
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  array<T>(item: (r: Reader) => T, max = 1_000_000): T[] | null {
    const n = this.int32();
    if (n < 0) return null;
    if (n > max || n > this.buf.length - this.off) throw new WireError(`array of ${n} items does not fit the request`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }
  varint(): number {
    let v = 0, shift = 0, b: number;
    do {
      this.need(1);
      b = this.buf[this.off++];
      v |= (b & 0x7f) << shift;
      shift += 7;
      if (shift > 35) throw new WireError('varint too long');
    } while (b & 0x80);
    return (v >>> 1) ^ -(v & 1);
  }
}

export class Writer {
  private buf = Buffer.allocUnsafe(256);
  len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  int8(v: number): this { this.grow(1); this.buf.writeInt8(v, this.len); this.len += 1; return this; }
  int16(v: number): this { this.grow(2); this.buf.writeInt16BE(v, this.len); this.len += 2; return this; }
  int32(v: number): this { this.grow(4); this.buf.writeInt32BE(v, this.len); this.len += 4; return this; }
  int64(v: bigint | number): this { this.grow(8); this.buf.writeBigInt64BE(BigInt(v), this.len); this.len += 8; return this; }
  bool(v: boolean): this { return this.int8(v ? 1 : 0); }
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const n = Buffer.byteLength(s);
    this.int16(n);
    this.grow(n);
    this.buf.write(s, this.len);
    this.len += n;
    return this;
  }
  bytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }
  raw(b: Buffer): this {
    this.grow(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
    return this;
  }
  array<T>(items: T[] | null, write: (w: Writer, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const it of items) write(this, it);
    return this;
  }
  /** The response frame: int32 size, then the body. */
  frame(): Buffer {
    const out = Buffer.allocUnsafe(this.len + 4);
    out.writeInt32BE(this.len, 0);
    this.buf.copy(out, 4, 0, this.len);
    return out;
  }
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}
