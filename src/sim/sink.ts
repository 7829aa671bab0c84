/**
 * A byte sink for generated text: ASCII written straight into a large Buffer, flushed to a file
 * descriptor with one write per megabyte. The simulator's hot loops never build per-line strings.
 */
import fs from 'node:fs';

const DIGITS = Buffer.from('0123456789');

export class ByteSink {
  private buf: Buffer;
  pos = 0;
  bytes = 0;

  constructor(private readonly fd: number, size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  bytesOf(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** A non-negative integer below 1000, in decimal. */
  small(n: number): void {
    const b = this.buf;
    if (n >= 100) {
      b[this.pos++] = DIGITS[(n / 100) | 0];
      b[this.pos++] = DIGITS[((n / 10) | 0) % 10];
    } else if (n >= 10) {
      b[this.pos++] = DIGITS[(n / 10) | 0];
    }
    b[this.pos++] = DIGITS[n % 10];
  }

  text(s: string): void {
    this.reserve(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos);
  }

  /** Bytes written since the last flush (the current, unflushed chunk). */
  pending(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += fs.writeSync(this.fd, this.buf, off, this.pos - off);
    this.bytes += this.pos;
    this.pos = 0;
  }
}
