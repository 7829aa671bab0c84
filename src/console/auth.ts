/**
 * Console authentication, as Jupyter does it: a random token in `<data>/state/console-token` (mode 0600),
 * or `SMARTCAR_CONSOLE_TOKEN` from the environment. The printed URL carries it (`/?token=…`); the page
 * keeps it and sends it as `Authorization: Bearer <token>`.
 *
 * - On 127.0.0.1, reads are open and every request that changes something (any method but GET/HEAD)
 *   needs the token in a header: a cookie alone is not enough, so another site cannot forge one (CSRF).
 *   The Host header must name a loopback address (no DNS rebinding).
 * - On any other address every request needs it: the header, `?token=` (which also sets an HttpOnly
 *   cookie so the page's assets and its event stream load), or that cookie.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, isLoopback } from '../core/index.ts';

export const TOKEN_ENV = 'SMARTCAR_CONSOLE_TOKEN';
export const COOKIE = 'smartcar_console_token';

export function tokenFile(stateDir: string): string {
  return path.join(stateDir, 'console-token');
}

/** The environment's token, else the data directory's (created once, 0600). */
export function consoleToken(stateDir: string, env: NodeJS.ProcessEnv = process.env): { token: string; source: string } {
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv) return { token: fromEnv, source: TOKEN_ENV };
  const f = tokenFile(stateDir);
  try {
    const t = fs.readFileSync(f, 'utf8').trim();
    if (t) return { token: t, source: f };
  } catch {
    // Not created yet.
  }
  fs.mkdirSync(stateDir, { recursive: true });
  const t = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(f, t + '\n', { mode: 0o600 });
  return { token: t, source: f };
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function headerToken(req: IncomingMessage): string | undefined {
  const a = req.headers.authorization;
  if (a?.startsWith('Bearer ')) return a.slice(7).trim();
  const x = req.headers['x-smartcar-token'];
  return typeof x === 'string' ? x : undefined;
}

export interface Auth {
  token: string;
  /** Every request needs the token (a non-loopback bind). */
  everyRequest: boolean;
}

/** Throws 401/403 when the request may not proceed. `mutating`: it changes something. */
export function checkRequest(auth: Auth, req: IncomingMessage, mutating: boolean): void {
  if (!auth.everyRequest) {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (host && !isLoopback(host)) throw new HttpError(403, `Host '${host}' refused: this console listens on loopback only`);
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromHeader = headerToken(req);
  if (mutating) {
    if (!fromHeader) throw new HttpError(401, 'this action changes something and needs the console token: send Authorization: Bearer <token> (the URL printed by smartcar up carries it)');
    if (!equal(fromHeader, auth.token)) throw new HttpError(403, 'wrong console token');
    return;
  }
  if (!auth.everyRequest) return;
  const given = fromHeader ?? url.searchParams.get('token') ?? cookieToken(req);
  if (!given) throw new HttpError(401, 'this console needs its token on every request (open the URL with ?token=…)');
  if (!equal(given, auth.token)) throw new HttpError(403, 'wrong console token');
}

/** Sets the cookie when the URL carried a valid token (non-loopback consoles). */
export function rememberToken(auth: Auth, req: IncomingMessage, res: ServerResponse): void {
  const t = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  if (auth.everyRequest && t && equal(t, auth.token)) res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(t)}; HttpOnly; SameSite=Strict; Path=/`);
}
