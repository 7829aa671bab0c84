import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDeadLetters } from '../../src/collect/index.ts';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-dl-')); dirs.push(d); return d; };
const read = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('collection dead letters', () => {
  it('a problem without events (a quarantined spool file) is still one record with its reason', () => {
    const d = tmp();
    const dl = new FileDeadLetters(d, 'a1');
    dl.write('spool', 'spool file quarantined to /x/.quarantine/a.txt.1: modified after pickup', []);
    expect(dl.file).toBe(path.join(d, 'dead-letter', 'collect-a1.jsonl'));
    const [rec] = read(dl.file);
    expect(rec).toMatchObject({ component: 'spool', reason: expect.stringMatching(/quarantined .*modified after pickup/) });
    expect(rec).not.toHaveProperty('body');
    expect(dl.count).toBe(0);
  });

  it('events are one record each, invalid UTF-8 as base64', () => {
    const d = tmp();
    const dl = new FileDeadLetters(d, 'a1');
    dl.write('k1', 'no timestamp', [{ headers: { h: '1' }, body: Buffer.from('ok line') }, { headers: {}, body: Buffer.from([0xff, 0xfe]) }]);
    const recs = read(dl.file);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ component: 'k1', reason: 'no timestamp', headers: { h: '1' }, body: 'ok line' });
    expect(recs[1]).toMatchObject({ bodyBase64: Buffer.from([0xff, 0xfe]).toString('base64') });
    expect(dl.count).toBe(2);
  });
});
