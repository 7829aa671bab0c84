/**
 * Reading a frontend message body. Every read is bounds-checked: a truncated or malformed body
 * throws `ProtocolError` (SQLSTATE 08P01), which ends that session and nothing else.
 */
export class ProtocolError extends Error {
  constructor(message: string, readonly code = '08P01') {
    super(message);
  }
}

export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly what: string) {}

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new ProtocolError(`${this.what} message is truncated`);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  cstr(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolError(`${this.what} message has an unterminated string`);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    return this.bytes(this.buf.length - this.pos);
  }

  /** A count (Int16) that must be non-negative and fit what is left when each item takes at least `min` bytes. */
  count16(min: number): number {
    const n = this.int16();
    if (n < 0 || n * min > this.buf.length - this.pos) throw new ProtocolError(`${this.what} message has a bad count ${n}`);
    return n;
  }
}
