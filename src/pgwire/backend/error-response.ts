/**
 * ErrorResponse 'E' / NoticeResponse 'N' (backend): Int32 len { Byte1 code String value } Byte1(0)
 * codes used: S severity (localized), V severity, C SQLSTATE, M message, D detail, H hint, P position.
 */
import type { Out } from '../out.ts';

export interface PgError {
  code: string;
  message: string;
  severity?: 'ERROR' | 'FATAL';
  detail?: string;
  hint?: string;
  position?: number;
}

export function errorResponse(out: Out, e: PgError, type: 'E' | 'N' = 'E'): void {
  const sev = e.severity ?? 'ERROR';
  out.begin(type).int8(0x53).cstr(sev).int8(0x56).cstr(sev).int8(0x43).cstr(e.code).int8(0x4d).cstr(e.message);
  if (e.detail) out.int8(0x44).cstr(e.detail);
  if (e.hint) out.int8(0x48).cstr(e.hint);
  if (e.position) out.int8(0x50).cstr(String(e.position));
  out.int8(0).end();
}
