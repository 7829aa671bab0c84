/**
 * SaslAuthenticate Request (Version: 0–1) => auth_bytes:bytes
 * SaslAuthenticate Response (Version: 0–1) => error_code:int16 error_message:nullable_string auth_bytes:bytes
 *                                             session_lifetime_ms:int64(v1+)
 *
 * One step of the exchange a SaslHandshake v1 chose (PLAIN: one step; SCRAM-SHA-256: two). A failed
 * step is answered SASL_AUTHENTICATION_FAILED, logged once, and the connection is closed after the
 * answer, as Kafka does. session_lifetime_ms is 0: the session does not expire (no re-authentication).
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { SaslAuthError } from '../sasl.ts';
import type { ApiHandler } from './types.ts';

export const saslAuthenticate: ApiHandler = {
  key: API.SaslAuthenticate,
  versions: [0, 1],
  handle({ version, r, conn }, b) {
    const token = r.bytes() ?? Buffer.alloc(0);
    const w = new Writer();
    const answer = (error: number, message: string | null, bytes: Buffer) => {
      w.int16(error).string(message).bytes(bytes);
      if (version >= 1) w.int64(0n);
      return w;
    };
    const session = conn.sasl;
    if (!b.auth || !session || conn.rawSasl) {
      conn.closeAfterResponse = !!b.auth;
      return answer(E.ILLEGAL_SASL_STATE, 'SaslAuthenticate without a SaslHandshake v1 before it', Buffer.alloc(0));
    }
    try {
      const step = session.step(token);
      if (step.done) {
        conn.authenticated = true;
        conn.sasl = undefined;
        b.auth.succeeded(session, conn.remote, step.user);
      }
      return answer(E.NONE, null, step.response);
    } catch (err) {
      if (!(err instanceof SaslAuthError)) throw err;
      b.auth.failed(session, conn.remote, err);
      conn.sasl = undefined;
      conn.closeAfterResponse = true;
      return answer(E.SASL_AUTHENTICATION_FAILED, `Authentication failed: ${err.message}`, Buffer.alloc(0));
    }
  },
};
