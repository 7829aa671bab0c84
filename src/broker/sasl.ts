/**
 * Who may use the broker when its listener needs credentials, and the server side of each SASL
 * mechanism it offers (the wire framing is in src/kafka/sasl.ts and api/sasl-*.ts):
 *
 *   PLAIN          one token, `NUL user NUL password`; answered with an empty token. The password
 *                  crosses the network as it is: use it on trusted networks, or SCRAM.
 *   SCRAM-SHA-256  RFC 5802/7677 in two round trips; the password never crosses the network.
 *
 * The SCRAM exchange itself is src/core/scram.ts, shared with the SQL server.
 * Users come from (credentials.ts) `SMARTCAR_BROKER_USER` / `SMARTCAR_BROKER_PASSWORD`, or a users
 * file given by `--sasl-users`. Passwords are compared in constant time.
 */
import crypto from 'node:crypto';
import type { Logger } from '../core/index.ts';
import { makeVerifier, ScramError, ScramExchange, type Verifier } from '../core/index.ts';
import { decodePlain, SASL_MECHANISMS, type SaslMechanism } from '../kafka/index.ts';
import { m } from './metrics.ts';

/** A refused step: the message goes to the client ("Authentication failed: <message>") and the log. */
export class SaslAuthError extends Error {
  constructor(message: string, readonly user?: string) {
    super(message);
  }
}

export interface SaslStep {
  done: boolean;
  /** The server's token (empty for PLAIN). */
  response: Buffer;
  /** Set once done. */
  user?: string;
}

export interface SaslSession {
  readonly mechanism: SaslMechanism;
  /** The next client token; throws SaslAuthError when it is refused. */
  step(token: Buffer): SaslStep;
}

const digest = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();

export class Authenticator {
  readonly mechanisms: readonly SaslMechanism[] = SASL_MECHANISMS;
  /** user → SHA-256 of the password (equal-length buffers for timingSafeEqual). */
  private readonly plain = new Map<string, Buffer>();
  /** user → SCRAM verifier (salt, StoredKey, ServerKey), made once at start. */
  private readonly scram = new Map<string, Verifier>();

  constructor(users: ReadonlyMap<string, string>, private readonly log: Logger) {
    if (users.size === 0) throw new Error('an authenticator needs at least one user');
    for (const [u, p] of users) {
      this.plain.set(u, digest(p));
      this.scram.set(u, makeVerifier(p));
    }
  }

  /** A session for a mechanism, or undefined when it is not offered. */
  start(mechanism: string): SaslSession | undefined {
    if (mechanism === 'PLAIN') return this.plainSession();
    if (mechanism === 'SCRAM-SHA-256') return this.scramSession();
    return undefined;
  }

  /** One log line and a metric per authentication. */
  succeeded(session: SaslSession, remote: string, user: string | undefined): void {
    m.authentications.inc({ mechanism: session.mechanism });
    this.log.info({ remote, user, mechanism: session.mechanism }, 'client authenticated');
  }

  /** One log line and a metric per refused authentication. */
  failed(session: SaslSession, remote: string, err: SaslAuthError): void {
    m.authFailures.inc({ mechanism: session.mechanism });
    this.log.warn({ remote, mechanism: session.mechanism, user: err.user }, `authentication failed for ${err.user === undefined ? 'a client' : `user '${err.user}'`} from ${remote}: ${err.message}`);
  }

  private plainSession(): SaslSession {
    return {
      mechanism: 'PLAIN',
      step: (token) => {
        const t = decodePlain(token);
        if (!t) throw new SaslAuthError('malformed PLAIN token');
        if (t.authzid && t.authzid !== t.user) throw new SaslAuthError('authorization id differs from the user name', t.user);
        const want = this.plain.get(t.user);
        // The same work whether or not the user exists.
        const ok = crypto.timingSafeEqual(digest(t.password), want ?? digest(crypto.randomUUID())) && want !== undefined;
        if (!ok) throw new SaslAuthError('Invalid username or password', t.user);
        return { done: true, response: Buffer.alloc(0), user: t.user };
      },
    };
  }

  /** Two steps: client-first → server-first, client-final → server-final (done). */
  private scramSession(): SaslSession {
    const x = new ScramExchange((u) => this.scram.get(u), { nonceSuffix: true });
    let first = true;
    return {
      mechanism: 'SCRAM-SHA-256',
      step: (token) => {
        try {
          if (first) {
            first = false;
            return { done: false, response: Buffer.from(x.first(token.toString('utf8'))) };
          }
          return { done: true, response: Buffer.from(x.final(token.toString('utf8'))), user: x.user };
        } catch (err) {
          if (!(err instanceof ScramError)) throw err;
          throw new SaslAuthError(/password authentication failed/.test(err.message) ? 'Invalid username or password' : err.message, x.user || undefined);
        }
      },
    };
  }
}
