/**
 * Who may connect. In order: `SMARTCAR_SQL_USER` / `SMARTCAR_SQL_PASSWORD`, then the config
 * (`sqlServer.user` / `sqlServer.password` if the caller passes them), then the file
 *
 *   <data>/state/sql-server/credentials.json   {"user": "smartcar", "password": "<24 random chars>"}   (mode 0600)
 *
 * created on first start. `configured` is true only for the first two: a non-loopback bind needs
 * credentials someone chose, not ones the server just made up.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../core/index.ts';

export interface Credentials {
  user: string;
  password: string;
  /** Where they came from, for the banner. */
  source: string;
  configured: boolean;
}

export const credentialsFile = (dataDir: string) => path.join(dataPaths(dataDir).state, 'sql-server', 'credentials.json');

export function resolveCredentials(dataDir: string, given: { user?: string; password?: string } = {}, env = process.env): Credentials {
  const user = env.SMARTCAR_SQL_USER ?? given.user;
  const password = env.SMARTCAR_SQL_PASSWORD ?? given.password;
  if (password) return { user: user ?? 'smartcar', password, source: env.SMARTCAR_SQL_PASSWORD ? 'SMARTCAR_SQL_PASSWORD' : 'config', configured: true };
  const file = credentialsFile(dataDir);
  if (fs.existsSync(file)) {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { user: string; password: string };
    return { user: user ?? c.user, password: c.password, source: file, configured: false };
  }
  const c = { user: user ?? 'smartcar', password: crypto.randomBytes(18).toString('base64url') };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { ...c, source: file, configured: false };
}
