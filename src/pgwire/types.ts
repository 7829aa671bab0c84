/**
 * DuckDB types as PostgreSQL types: the OID, `typlen` and `typmod` a RowDescription carries, and each
 * value's text form (format 0) and binary form (format 1) as PostgreSQL writes them.
 *
 *   DuckDB                          PostgreSQL (oid, typlen)
 *   BOOLEAN                         bool 16, 1
 *   TINYINT SMALLINT UTINYINT       int2 21, 2
 *   INTEGER USMALLINT               int4 23, 4
 *   BIGINT UINTEGER                 int8 20, 8
 *   HUGEINT UBIGINT UHUGEINT DECIMAL numeric 1700, -1 (typmod ((p << 16) | s) + 4 for DECIMAL(p,s))
 *   FLOAT / DOUBLE                  float4 700, 4 / float8 701, 8
 *   VARCHAR                         varchar 1043, -1
 *   DATE / TIME / TIMESTAMP(_S/_MS/_NS) / TIMESTAMP WITH TIME ZONE   date 1082 / time 1083 / timestamp 1114 / timestamptz 1184
 *   INTERVAL / BLOB / UUID          interval 1186 / bytea 17 / uuid 2950
 *   SQLNULL and everything else     text 25 (DuckDB's text form: lists, structs, maps…)
 *
 * Binary encodings (what pgjdbc and psycopg ask for): big-endian integers and IEEE floats, bool one
 * byte, date = int32 days since 2000-01-01, timestamp = int64 µs since 2000-01-01, numeric = ndigits,
 * weight, sign, dscale then base-10000 digits. Types without a binary form here are sent as text
 * even when binary is asked for only if the client accepts it; see `binaryOk`.
 */
import type { SqlType } from '../sql/index.ts';

export const OID = {
  bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, float4: 700, float8: 701, unknown: 705,
  varchar: 1043, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186, numeric: 1700, uuid: 2950,
} as const;

export interface PgType {
  oid: number;
  typlen: number;
  typmod: number;
}

const T = (oid: number, typlen: number, typmod = -1): PgType => ({ oid, typlen, typmod });

export function pgType(t: SqlType): PgType {
  switch (t.name) {
    case 'BOOLEAN': return T(OID.bool, 1);
    case 'TINYINT': case 'SMALLINT': case 'UTINYINT': return T(OID.int2, 2);
    case 'INTEGER': case 'USMALLINT': return T(OID.int4, 4);
    case 'BIGINT': case 'UINTEGER': return T(OID.int8, 8);
    case 'HUGEINT': case 'UBIGINT': case 'UHUGEINT': case 'BIGNUM': case 'VARINT': return T(OID.numeric, -1);
    case 'DECIMAL': return T(OID.numeric, -1, t.width !== undefined ? ((t.width << 16) | (t.scale ?? 0)) + 4 : -1);
    case 'FLOAT': return T(OID.float4, 4);
    case 'DOUBLE': return T(OID.float8, 8);
    case 'VARCHAR': return T(OID.varchar, -1);
    case 'DATE': return T(OID.date, 4);
    case 'TIME': return T(OID.time, 8);
    case 'TIMESTAMP': case 'TIMESTAMP_S': case 'TIMESTAMP_MS': case 'TIMESTAMP_NS': return T(OID.timestamp, 8);
    case 'TIMESTAMP WITH TIME ZONE': case 'TIMESTAMP_TZ': return T(OID.timestamptz, 8);
    case 'INTERVAL': return T(OID.interval, 16);
    case 'BLOB': return T(OID.bytea, -1);
    case 'UUID': return T(OID.uuid, 16);
    default: return T(OID.text, -1);
  }
}

/** A type by the OID a client declared for a parameter (Parse). */
export function typeName(oid: number): string {
  for (const [k, v] of Object.entries(OID)) if (v === oid) return k;
  return 'unknown';
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** PostgreSQL's text form of a value DuckDB produced, or null for SQL NULL. */
export function textOf(v: unknown, oid: number): string | null {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string': return v;
    case 'boolean': return v ? 't' : 'f';
    case 'bigint': return v.toString();
    case 'number':
      if (Number.isFinite(v)) return String(v);
      return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    default: {
      const bytes = (v as { bytes?: Uint8Array }).bytes;
      if (oid === OID.bytea && bytes instanceof Uint8Array) {
        let s = '\\x';
        for (const b of bytes) s += HEX[b];
        return s;
      }
      return String(v);
    }
  }
}

const PG_EPOCH_DAYS = 10957; // 2000-01-01 − 1970-01-01
const PG_EPOCH_US = BigInt(PG_EPOCH_DAYS) * 86_400_000_000n;

/** Types this server writes in binary; a column of another type is written as text (format 0) whatever was asked. */
export const binaryOk = (oid: number) =>
  oid === OID.bool || oid === OID.int2 || oid === OID.int4 || oid === OID.int8 || oid === OID.float4 || oid === OID.float8 ||
  oid === OID.text || oid === OID.varchar || oid === OID.bytea || oid === OID.date || oid === OID.timestamp || oid === OID.timestamptz || oid === OID.numeric;

/** The binary form (format 1) of a non-null value of a type for which `binaryOk`. */
export function binaryOf(v: unknown, oid: number): Buffer {
  switch (oid) {
    case OID.bool: return Buffer.from([v ? 1 : 0]);
    case OID.int2: { const b = Buffer.allocUnsafe(2); b.writeInt16BE(Number(v)); return b; }
    case OID.int4: { const b = Buffer.allocUnsafe(4); b.writeInt32BE(Number(v)); return b; }
    case OID.int8: { const b = Buffer.allocUnsafe(8); b.writeBigInt64BE(BigInt(v as number | bigint)); return b; }
    case OID.float4: { const b = Buffer.allocUnsafe(4); b.writeFloatBE(Number(v)); return b; }
    case OID.float8: { const b = Buffer.allocUnsafe(8); b.writeDoubleBE(Number(v)); return b; }
    case OID.bytea: return Buffer.from((v as { bytes: Uint8Array }).bytes);
    case OID.date: {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE((v as { days: number }).days - PG_EPOCH_DAYS);
      return b;
    }
    case OID.timestamp: case OID.timestamptz: {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(timestampMicros(v) - PG_EPOCH_US);
      return b;
    }
    case OID.numeric: return numericBinary(String(v));
    default: return Buffer.from(textOf(v, oid) ?? '', 'utf8');
  }
}

function timestampMicros(v: unknown): bigint {
  const o = v as { micros?: bigint; millis?: bigint; seconds?: bigint; nanos?: bigint };
  if (o.micros !== undefined) return o.micros;
  if (o.millis !== undefined) return o.millis * 1000n;
  if (o.seconds !== undefined) return o.seconds * 1_000_000n;
  if (o.nanos !== undefined) return o.nanos / 1000n;
  throw new Error(`not a timestamp: ${String(v)}`);
}

/** `numeric` binary: int16 ndigits, int16 weight, int16 sign (0 / 0x4000 negative), int16 dscale, ndigits × int16 base-10000. */
export function numericBinary(text: string): Buffer {
  if (text === 'NaN') return Buffer.from([0, 0, 0, 0, 0xc0, 0, 0, 0]);
  let s = text;
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  const [int = '0', frac = ''] = s.split('.');
  const dscale = frac.length;
  const intPad = int.padStart(Math.ceil(int.length / 4) * 4, '0');
  const fracPad = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  const digits: number[] = [];
  for (let i = 0; i < intPad.length; i += 4) digits.push(Number(intPad.slice(i, i + 4)));
  let weight = intPad.length / 4 - 1;
  for (let i = 0; i < fracPad.length; i += 4) digits.push(Number(fracPad.slice(i, i + 4)));
  while (digits.length && digits[0] === 0) {
    digits.shift();
    weight--;
  }
  while (digits.length && digits[digits.length - 1] === 0) digits.pop();
  if (!digits.length) weight = 0;
  const b = Buffer.allocUnsafe(8 + digits.length * 2);
  b.writeInt16BE(digits.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(neg && digits.length ? 0x4000 : 0, 4);
  b.writeInt16BE(dscale, 6);
  digits.forEach((d, i) => b.writeInt16BE(d, 8 + i * 2));
  return b;
}

/** A binary parameter (Bind, format 1) as the text DuckDB will cast, by the type the client declared (or DuckDB inferred). */
export function paramFromBinary(buf: Buffer, oid: number): string | Uint8Array {
  switch (oid) {
    case OID.bool: return buf[0] ? 'true' : 'false';
    case OID.int2: return String(buf.readInt16BE(0));
    case OID.int4: return String(buf.readInt32BE(0));
    case OID.int8: return buf.readBigInt64BE(0).toString();
    case OID.float4: return String(buf.readFloatBE(0));
    case OID.float8: return String(buf.readDoubleBE(0));
    case OID.bytea: return new Uint8Array(buf);
    case OID.date: return new Date((buf.readInt32BE(0) + PG_EPOCH_DAYS) * 86_400_000).toISOString().slice(0, 10);
    case OID.timestamp: case OID.timestamptz: {
      const us = buf.readBigInt64BE(0) + PG_EPOCH_US;
      const ms = Number(us / 1000n);
      const frac = String(((us % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
      return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + '.' + frac;
    }
    case OID.numeric: return numericText(buf);
    case OID.oid: return String(buf.readUInt32BE(0));
    default: return buf.toString('utf8');
  }
}

function numericText(b: Buffer): string {
  const n = b.readInt16BE(0), weight = b.readInt16BE(2), sign = b.readUInt16BE(4), dscale = b.readInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  const digits: number[] = [];
  for (let i = 0; i < n; i++) digits.push(b.readInt16BE(8 + i * 2));
  let int = '';
  for (let w = 0; w <= weight; w++) int += String(digits[w] ?? 0).padStart(4, '0');
  let frac = '';
  for (let i = Math.max(weight + 1, 0); i < n; i++) frac += String(digits[i]).padStart(4, '0');
  if (weight < -1) frac = '0000'.repeat(-weight - 1) + frac;
  int = int.replace(/^0+/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return (sign === 0x4000 ? '-' : '') + int + (dscale ? '.' + frac : '');
}
