/**
 * Framing of the frontend stream.
 *
 *   first message(s)  Int32 length (itself included) Int32 code  body…      (Startup, SSLRequest, GSSENCRequest, CancelRequest)
 *   every later one   Byte1 type  Int32 length (itself included)  body…
 *
 * A length below the header's own size or above `maxMessage` ends the session (the buffer is never
 * grown to what a hostile length asks for).
 */
import { ProtocolError } from './reader.ts';

export interface Frame {
  /** '' for an untyped start-up frame. */
  type: string;
  body: Buffer;
}

export class Framer {
  private chunks: Buffer[] = [];
  private size = 0;
  typed = false;

  constructor(private readonly maxMessage: number) {}

  push(data: Buffer): void {
    // A client that sends far ahead of what it reads back is cut off rather than buffered without end.
    if (this.size + data.length > 2 * this.maxMessage) throw new ProtocolError(`client sent more than ${2 * this.maxMessage} bytes ahead`, '54000');
    this.chunks.push(data);
    this.size += data.length;
  }

  private head(n: number): Buffer {
    if (this.chunks[0]!.length < n) {
      const all = Buffer.concat(this.chunks);
      this.chunks = [all];
    }
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const first = this.head(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
    return out;
  }

  /** The next complete frame, or undefined when more bytes are needed. */
  next(): Frame | undefined {
    const hdr = this.typed ? 5 : 4;
    if (this.size < hdr) return undefined;
    const h = this.head(hdr);
    const type = this.typed ? String.fromCharCode(h[0]!) : '';
    const len = h.readInt32BE(this.typed ? 1 : 0);
    const min = this.typed ? 4 : 8;
    if (len < min) throw new ProtocolError(`invalid message length ${len}`);
    if (len > this.maxMessage) throw new ProtocolError(`message of ${len} bytes exceeds the limit of ${this.maxMessage}`, '54000');
    const total = len + (this.typed ? 1 : 0);
    if (this.size < total) return undefined;
    const whole = this.take(total);
    // Copy out of the socket's chunk: a held body must not pin the big receive buffer.
    return { type, body: Buffer.from(whole.subarray(hdr)) };
  }
}
