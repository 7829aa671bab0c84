import { afterAll, describe, expect, it } from 'vitest';
import { processRunning } from '../../src/core/index.ts';
import { makeZombie } from '../support/zombie.ts';

const stops: (() => void)[] = [];
afterAll(() => { for (const s of stops) s(); });

describe('processRunning', () => {
  it('is true for a running process, false for a zombie (kill(pid, 0) alone says alive) and for a pid that is gone', async () => {
    const z = await makeZombie();
    stops.push(z.stop);
    let zeroSignal = true;
    try { process.kill(z.zombie, 0); } catch { zeroSignal = false; }
    expect(zeroSignal).toBe(true); // the kernel still knows the pid
    expect(processRunning(z.zombie)).toBe(false);
    expect(processRunning(z.parent)).toBe(true);
    expect(processRunning(process.pid)).toBe(true);
    z.stop();
    for (let i = 0; i < 500 && processRunning(z.parent); i++) await new Promise((r) => setTimeout(r, 10));
    expect(processRunning(z.parent)).toBe(false);
  });
});
