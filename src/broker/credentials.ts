/**
 * The users a credentialed listener accepts, from (merged):
 *   - `SMARTCAR_BROKER_USER` (default "smartcar") / `SMARTCAR_BROKER_PASSWORD`, the platform's own
 *     (the clients inside `smartcar up` present the same ones);
 *   - a users file, `--sasl-users FILE`, one `user:password` a line (`#` comments, blank lines
 *     ignored), readable by its owner only (chmod 600), as ssh asks of its keys.
 * None at all: the listener needs no SASL, which only a loopback address may do (cli.ts).
 */
import fs from 'node:fs';
import { UserError } from '../core/index.ts';
import { saslFromEnv } from '../kafka/index.ts';

export interface BrokerUsers {
  users: Map<string, string>;
  /** Where they came from, for the start-up line (never the passwords). */
  source: string;
}

export function brokerUsers(usersFile: string | undefined, env: NodeJS.ProcessEnv = process.env): BrokerUsers | undefined {
  const users = new Map<string, string>();
  const sources: string[] = [];
  if (usersFile !== undefined) {
    let st: fs.Stats;
    try {
      st = fs.statSync(usersFile);
    } catch (err) {
      throw new UserError(`--sasl-users ${usersFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    if (!st.isFile()) throw new UserError(`--sasl-users ${usersFile} is not a file`);
    if (st.mode & 0o077) throw new UserError(`--sasl-users ${usersFile} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    fs.readFileSync(usersFile, 'utf8').split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const c = line.indexOf(':');
      if (c <= 0 || c === line.length - 1) throw new UserError(`${usersFile}:${i + 1}: expected user:password`);
      users.set(line.slice(0, c), line.slice(c + 1));
    });
    if (users.size === 0) throw new UserError(`--sasl-users ${usersFile} lists no user (one user:password a line)`);
    sources.push(usersFile);
  }
  const e = saslFromEnv(env);
  if (e) {
    users.set(e.user, e.password);
    sources.push('SMARTCAR_BROKER_PASSWORD');
  }
  return users.size ? { users, source: sources.join(' + ') } : undefined;
}
