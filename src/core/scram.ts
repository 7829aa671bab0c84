/**
 * SCRAM-SHA-256 (RFC 5802 / 7677), the server side, without channel binding: the SQL server's
 * (src/pgwire, as PostgreSQL does it) and the broker's (src/broker/sasl.ts, as Kafka does it).
 *
 *   client-first  = gs2-header "n=" user ",r=" cnonce          gs2-header = "n,," | "y,,"  ("p=…" refused)
 *   server-first  = "r=" cnonce snonce ",s=" base64(salt) ",i=" iterations
 *   client-final  = "c=" base64(gs2-header) ",r=" nonce ",p=" base64(ClientProof)
 *   server-final  = "v=" base64(ServerSignature)
 *
 *   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, i)     ClientKey = HMAC(SaltedPassword, "Client Key")
 *   StoredKey = SHA-256(ClientKey)                               ServerKey = HMAC(SaltedPassword, "Server Key")
 *   AuthMessage = client-first-bare "," server-first "," client-final-without-proof
 *   ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)     ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * The verifier (salt, StoredKey, ServerKey) is computed once per server start; the password itself
 * is not kept in the session. PostgreSQL takes the user from its startup message and ignores `n=`;
 * Kafka has no other place for it, so its exchange looks the verifier up by the `n=` name
 * (saslname: "=2C" stands for ',' and "=3D" for '=').
 */
import crypto from 'node:crypto';

export const SCRAM = 'SCRAM-SHA-256';

export interface Verifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, s: string) => crypto.createHmac('sha256', key).update(s).digest();
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest();

export function makeVerifier(password: string, iterations = 4096, salt = crypto.randomBytes(16)): Verifier {
  const salted = crypto.pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

export class ScramError extends Error {}

/** One exchange: `first(clientFirst)` → server-first; `final(clientFinal)` → server-final, or throws ScramError. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2 = '';
  private verifier!: Verifier;
  /** The `n=` user name of the client-first-message, decoded. */
  user = '';

  /** One verifier for whatever `n=` says (PostgreSQL), or a lookup by the `n=` name (Kafka). */
  constructor(private readonly verifiers: Verifier | ((user: string) => Verifier | undefined), private readonly o: { nonceSuffix?: boolean; serverNonce?: string } = {}) {}

  first(clientFirst: string): string {
    const m = /^([ny]),(?:a=[^,]*)?,(n=([^,]*),r=([\x21-\x2b\x2d-\x7e]+)(?:,.*)?)$/.exec(clientFirst);
    if (!m) {
      if (clientFirst.startsWith('p=')) throw new ScramError('channel binding is not supported by this server');
      throw new ScramError('malformed SCRAM client-first-message');
    }
    this.user = m[3]!.replace(/=2C/g, ',').replace(/=3D/g, '=');
    const v = typeof this.verifiers === 'function' ? this.verifiers(this.user) : this.verifiers;
    if (!v) throw new ScramError('password authentication failed');
    this.verifier = v;
    this.gs2 = clientFirst.slice(0, clientFirst.length - m[2]!.length);
    this.clientFirstBare = m[2]!;
    this.nonce = m[4]! + (this.o.serverNonce ?? crypto.randomBytes(18).toString('base64'));
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  final(clientFinal: string): string {
    const m = /^c=([^,]*),r=([^,]*)(?:,.*)?,p=([A-Za-z0-9+/=]+)$/.exec(clientFinal);
    if (!m) throw new ScramError('malformed SCRAM client-final-message');
    if (Buffer.from(m[1]!, 'base64').toString('utf8') !== this.gs2) throw new ScramError('SCRAM channel binding check failed');
    // Kafka checks only that the client's nonce ends with the server's: librdkafka sends the client nonce
    // again in front of it, and Kafka's own server accepts that.
    if (m[2] !== this.nonce && !(this.o.nonceSuffix && m[2]!.endsWith(this.nonce))) throw new ScramError('SCRAM nonce mismatch');
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const auth = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(m[3]!, 'base64');
    const sig = hmac(this.verifier.storedKey, auth);
    if (proof.length !== sig.length) throw new ScramError('password authentication failed');
    const clientKey = Buffer.alloc(sig.length);
    for (let i = 0; i < sig.length; i++) clientKey[i] = proof[i]! ^ sig[i]!;
    if (!crypto.timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) throw new ScramError('password authentication failed');
    return `v=${hmac(this.verifier.serverKey, auth).toString('base64')}`;
  }
}

/**
 * The client side (the bus's producer speaks it to a Kafka broker): `first()` → client-first;
 * `final(serverFirst)` → client-final; `verify(serverFinal)` checks the server's signature, so that a
 * server that does not know the password cannot pass for one that does.
 */
export class ScramClient {
  private readonly bare: string;
  private serverSignature = '';

  /** `cnonce`: random unless given (RFC 7677's test vector gives one). */
  constructor(user: string, private readonly password: string, private readonly cnonce = crypto.randomBytes(18).toString('base64')) {
    this.bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.cnonce}`;
  }

  first(): string {
    return `n,,${this.bare}`;
  }

  final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
    const nonce = attrs.get('r') ?? '', salt = attrs.get('s'), iterations = Number(attrs.get('i'));
    if (attrs.has('e')) throw new ScramError(`the server refused: ${attrs.get('e')}`);
    if (!nonce.startsWith(this.cnonce) || nonce.length === this.cnonce.length) throw new ScramError('SCRAM nonce mismatch in the server-first-message');
    if (!salt || !Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) throw new ScramError('malformed SCRAM server-first-message');
    const salted = crypto.pbkdf2Sync(this.password.normalize('NFKC'), Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const withoutProof = `c=biws,r=${nonce}`;
    const auth = `${this.bare},${serverFirst},${withoutProof}`;
    const sig = hmac(sha256(clientKey), auth);
    const proof = Buffer.alloc(sig.length);
    for (let i = 0; i < sig.length; i++) proof[i] = clientKey[i]! ^ sig[i]!;
    this.serverSignature = hmac(hmac(salted, 'Server Key'), auth).toString('base64');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verify(serverFinal: string): void {
    const m = /(?:^|,)v=([A-Za-z0-9+/=]+)/.exec(serverFinal);
    if (!m || m[1] !== this.serverSignature) throw new ScramError(/(?:^|,)e=/.test(serverFinal) ? `the server refused: ${serverFinal}` : 'SCRAM server signature mismatch');
  }
}
