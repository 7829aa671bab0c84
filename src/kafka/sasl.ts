/**
 * SASL on the Kafka wire (KIP-43, KIP-152): after ApiVersions, a client sends
 *
 *   SaslHandshake Request (Version: 0–1) => mechanism:string
 *   SaslHandshake Response (Version: 0–1) => error_code:int16 [mechanisms:string]
 *
 * then, with v1, the mechanism's tokens inside SaslAuthenticate requests (src/broker/api/sasl-authenticate.ts);
 * with v0, the same tokens as bare frames (size:int32 token, no request header) until it is done.
 *
 * The PLAIN token (RFC 4616):  [authzid] NUL authcid NUL passwd   (UTF-8; authzid empty or = authcid)
 * SCRAM-SHA-256's tokens are RFC 5802's messages (src/core/scram.ts: the broker's server side, the
 * bus producer's client side).
 */
import { UserError } from '../core/index.ts';

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export function encodePlain(user: string, password: string): Buffer {
  return Buffer.from(`\u0000${user}\u0000${password}`, 'utf8');
}

/** The user and password of a PLAIN token, or undefined when it is not one. */
export function decodePlain(token: Buffer): { authzid: string; user: string; password: string } | undefined {
  const a = token.indexOf(0);
  const b = a < 0 ? -1 : token.indexOf(0, a + 1);
  if (b < 0 || token.indexOf(0, b + 1) >= 0) return undefined;
  return { authzid: token.toString('utf8', 0, a), user: token.toString('utf8', a + 1, b), password: token.toString('utf8', b + 1) };
}

export interface SaslCredentials {
  mechanism: SaslMechanism;
  user: string;
  password: string;
}

/**
 * The platform's broker credentials, which both ends read from the same variables: the broker
 * accepts this user, and every client inside the platform (the bus, the console) presents it.
 *   SMARTCAR_BROKER_USER (default "smartcar")  SMARTCAR_BROKER_PASSWORD (unset = no SASL)
 *   SMARTCAR_BROKER_MECHANISM: how the clients authenticate, SCRAM-SHA-256 (default: the password never
 *   crosses the network) or PLAIN (for a Kafka cluster that offers only PLAIN)
 */
export function saslFromEnv(env: NodeJS.ProcessEnv = process.env): SaslCredentials | undefined {
  const password = env.SMARTCAR_BROKER_PASSWORD;
  if (!password) return undefined;
  const mechanism = (env.SMARTCAR_BROKER_MECHANISM || 'SCRAM-SHA-256').toUpperCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new UserError(`SMARTCAR_BROKER_MECHANISM must be ${SASL_MECHANISMS.join(' or ')}, got '${env.SMARTCAR_BROKER_MECHANISM}'`);
  }
  return { mechanism: mechanism as SaslMechanism, user: env.SMARTCAR_BROKER_USER || 'smartcar', password };
}

/** The same credentials in kafkajs's `sasl` option shape (the bus's consumers, the console's topic browser). */
export function kafkajsSasl(c: SaslCredentials | undefined = saslFromEnv()):
  { mechanism: 'plain'; username: string; password: string } | { mechanism: 'scram-sha-256'; username: string; password: string } | undefined {
  if (!c) return undefined;
  return c.mechanism === 'PLAIN'
    ? { mechanism: 'plain', username: c.user, password: c.password }
    : { mechanism: 'scram-sha-256', username: c.user, password: c.password };
}
