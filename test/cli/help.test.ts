import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('smartcar CLI', () => {
  it('prints its help through the installed bin script', () => {
    const out = execFileSync('node', ['bin/smartcar.js', '--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: smartcar');
  });
  it('exits non-zero on an unknown command', () => {
    expect(() => execFileSync('node', ['bin/smartcar.js', 'no-such-command'], { stdio: 'pipe' })).toThrow();
  });
});
