/** SCRAM-SHA-256 against RFC 7677's test vector (section 3), both sides, and against each other. */
import { describe, expect, it } from 'vitest';
import { makeVerifier, ScramClient, ScramError, ScramExchange } from '../../src/core/scram.ts';

// RFC 7677 §3: user "user", password "pencil".
const CNONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM-SHA-256', () => {
  it('the client writes RFC 7677\'s messages and accepts its server signature', () => {
    const c = new ScramClient('user', 'pencil', CNONCE);
    expect(c.first()).toBe(`n,,n=user,r=${CNONCE}`);
    expect(c.final(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(() => c.verify(SERVER_FINAL)).not.toThrow();
  });

  it('the client refuses a server that does not know the password, and a nonce that is not its own', () => {
    const c = new ScramClient('user', 'pencil', CNONCE);
    c.final(SERVER_FIRST);
    expect(() => c.verify('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(ScramError);
    expect(() => new ScramClient('user', 'pencil', CNONCE).final('r=someone-else,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow(/nonce mismatch/);
  });

  it('the server, given RFC 7677\'s salt and server nonce, writes its server-first, accepts its client-final and answers its server-final', () => {
    const verifier = makeVerifier('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const x = new ScramExchange((u) => (u === 'user' ? verifier : undefined), { serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' });
    expect(x.first(`n,,n=user,r=${CNONCE}`)).toBe(SERVER_FIRST);
    expect(x.final(CLIENT_FINAL)).toBe(SERVER_FINAL);
  });

  it('client and server agree, with a user name that needs escaping; a wrong password fails', () => {
    const verifier = makeVerifier('p,a=ss');
    const x = new ScramExchange((u) => (u === 'a,b=c' ? verifier : undefined), { nonceSuffix: true });
    const c = new ScramClient('a,b=c', 'p,a=ss');
    const serverFirst = x.first(c.first());
    expect(x.user).toBe('a,b=c');
    c.verify(x.final(c.final(serverFirst)));
    const bad = new ScramClient('a,b=c', 'wrong');
    const x2 = new ScramExchange((u) => (u === 'a,b=c' ? verifier : undefined));
    expect(() => x2.final(bad.final(x2.first(bad.first())))).toThrow(/password authentication failed/);
  });
});
