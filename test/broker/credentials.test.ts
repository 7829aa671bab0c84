/** Where a credentialed listener's users come from: the environment, a users file, or both. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerUsers } from '../../src/broker/index.ts';
import { tmp } from './support.ts';

const usersFile = (text: string, mode = 0o600) => {
  const f = path.join(tmp('users'), 'broker-users');
  fs.writeFileSync(f, text, { mode });
  fs.chmodSync(f, mode);
  return f;
};

describe('broker users', () => {
  it('none without a file or SMARTCAR_BROKER_PASSWORD: the listener needs no SASL', () => {
    expect(brokerUsers(undefined, {})).toBeUndefined();
    expect(brokerUsers(undefined, { SMARTCAR_BROKER_USER: 'x' })).toBeUndefined();
  });

  it('one user from the environment, "smartcar" unless SMARTCAR_BROKER_USER names another', () => {
    expect([...brokerUsers(undefined, { SMARTCAR_BROKER_PASSWORD: 's' })!.users]).toEqual([['smartcar', 's']]);
    const u = brokerUsers(undefined, { SMARTCAR_BROKER_USER: 'fleet', SMARTCAR_BROKER_PASSWORD: 's' })!;
    expect([...u.users]).toEqual([['fleet', 's']]);
    expect(u.source).toBe('SMARTCAR_BROKER_PASSWORD');
  });

  it('a users file: user:password lines, comments and blank lines skipped, a colon allowed in the password; merged with the environment', () => {
    const f = usersFile('# the fleet\nalice:one\n\n  bob:two:with:colons  \n');
    const u = brokerUsers(f, { SMARTCAR_BROKER_PASSWORD: 'env' })!;
    expect(Object.fromEntries(u.users)).toEqual({ alice: 'one', bob: 'two:with:colons', smartcar: 'env' });
    expect(u.source).toBe(`${f} + SMARTCAR_BROKER_PASSWORD`);
  });

  it('refuses a users file others can read, a missing one, and a bad line naming file:line', () => {
    expect(() => brokerUsers(usersFile('alice:one\n', 0o644), {})).toThrow(/readable by others \(mode 644\); chmod 600 it/);
    expect(() => brokerUsers('/nonexistent/users', {})).toThrow(/--sasl-users \/nonexistent\/users: no such file/);
    const f = usersFile('alice:one\njust-a-name\n');
    expect(() => brokerUsers(f, {})).toThrow(new RegExp(`${f}:2: expected user:password`));
    expect(() => brokerUsers(usersFile('# nobody\n'), {})).toThrow(/lists no user/);
  });
});
