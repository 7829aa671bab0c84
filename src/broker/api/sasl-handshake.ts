/**
 * SaslHandshake Request (Version: 0–1) => mechanism:string
 * SaslHandshake Response (Version: 0–1) => error_code:int16 [mechanisms:string]
 *
 * Picks the mechanism of the exchange that follows: with v1 inside SaslAuthenticate requests, with v0
 * as bare size-prefixed tokens (the connection loop in server.ts reads those). An unknown mechanism is
 * answered UNSUPPORTED_SASL_MECHANISM with the list, then the connection is closed, as Kafka does. On a
 * listener without credentials, or after a successful authentication, the answer is ILLEGAL_SASL_STATE.
 */
import { API, E, Writer } from '../../kafka/index.ts';
import type { ApiHandler } from './types.ts';

export const saslHandshake: ApiHandler = {
  key: API.SaslHandshake,
  versions: [0, 1],
  handle({ version, r, conn }, b) {
    const mechanism = r.string();
    const w = new Writer();
    if (!b.auth || conn.authenticated || conn.sasl) {
      conn.closeAfterResponse = !!b.auth;
      return w.int16(E.ILLEGAL_SASL_STATE).array(b.auth ? [...b.auth.mechanisms] : [], (x, s) => x.string(s));
    }
    const session = b.auth.start(mechanism);
    if (!session) {
      b.log.warn({ remote: conn.remote, mechanism }, `refused SASL mechanism '${mechanism}' (this broker offers ${b.auth.mechanisms.join(', ')})`);
      conn.closeAfterResponse = true;
      return w.int16(E.UNSUPPORTED_SASL_MECHANISM).array([...b.auth.mechanisms], (x, s) => x.string(s));
    }
    conn.sasl = session;
    conn.rawSasl = version === 0;
    return w.int16(E.NONE).array([...b.auth.mechanisms], (x, s) => x.string(s));
  },
};
