/**
 * The backend's output buffer: every message is `Byte1 type, Int32 length (itself included), body`.
 * Messages are appended to one growing buffer and written to the socket in one go at Sync, Flush,
 * the end of a simple query, or when it passes `FLUSH_AT` (a big result streams out in ~256 KB writes,
 * and the writer waits for the socket to drain: a slow client slows the query, memory stays flat).
 */
import type { Socket } from 'node:net';

export const FLUSH_AT = 256 * 1024;

export class Out {
  buf = Buffer.allocUnsafe(FLUSH_AT + 64 * 1024);
  pos = 0;
  private start = 0;

  constructor(private readonly socket: Socket) {}

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 1024));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  begin(type: string): this {
    this.ensure(5);
    this.start = this.pos;
    this.buf[this.pos] = type.charCodeAt(0);
    this.pos += 5;
    return this;
  }

  end(): void {
    this.buf.writeInt32BE(this.pos - this.start - 1, this.start + 1);
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  cstr(s: string): this {
    this.ensure(s.length * 3 + 1);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Int32 length then the UTF-8 bytes of `s` (a DataRow field). */
  lenStr(s: string): void {
    this.ensure(s.length * 3 + 4);
    const at = this.pos;
    const n = this.buf.write(s, at + 4, 'utf8');
    this.buf.writeInt32BE(n, at);
    this.pos = at + 4 + n;
  }

  get pending(): number {
    return this.pos;
  }

  /** Writes what is buffered; resolves once the socket can take more (or at once if it can). */
  async flush(): Promise<void> {
    if (this.pos === 0 || this.socket.destroyed) {
      this.pos = 0;
      return;
    }
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    if (this.socket.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}
