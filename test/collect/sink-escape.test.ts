import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { MissingTimestampError, PathTemplate, type EscapeOptions } from '../../src/collect/sink/escape.ts';

const utc: EscapeOptions = { timeZone: 'UTC', useLocalTimeStamp: false, round: false, roundValue: 1, roundUnit: 'second' };
// Friday 2024-01-05 14:07:09.123 UTC
const TS = Date.UTC(2024, 0, 5, 14, 7, 9, 123);
const at = (tpl: string, ts = TS, opts: Partial<EscapeOptions> = {}, headers: Record<string, string> = {}) =>
  new PathTemplate(tpl, { ...utc, ...opts }).expand({ timestamp: String(ts), ...headers }, 0);

describe('lake path escapes (Flume BucketPath)', () => {
  it.each([
    ['%Y', '2024'], ['%y', '24'], ['%m', '01'], ['%n', '1'], ['%b', 'Jan'], ['%B', 'January'],
    ['%d', '05'], ['%e', '5'], ['%j', '005'], ['%a', 'Fri'], ['%A', 'Friday'],
    ['%H', '14'], ['%k', '14'], ['%I', '02'], ['%l', '2'], ['%p', 'PM'], ['%M', '07'], ['%S', '09'],
    ['%s', '1704463629'], ['%t', '1704463629123'], ['%z', '+0000'], ['%c', 'Fri Jan 5 14:07:09 2024'], ['%D', '01/05/24'], ['%%', '%'],
  ])('expands %s', (tpl, want) => {
    expect(at(tpl)).toBe(want);
  });

  it('expands the seed path with a header and the date', () => {
    expect(at('collect/%{logType}/wrk_date=%Y%m%d', TS, {}, { logType: 'car-batch-log' })).toBe('collect/car-batch-log/wrk_date=20240105');
  });

  it('expands a missing header to an empty string, as Flume', () => {
    expect(at('a/%{nope}/b')).toBe('a//b');
  });

  it('expands the host escapes', () => {
    expect(at('%[localhost]')).toBe(os.hostname());
    expect(at('%[IP]')).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(at('%[FQDN]')).toBe(os.hostname());
  });

  it('renders in the configured time zone, including half-hour offsets', () => {
    expect(at('%Y%m%d %H %z', TS, { timeZone: 'Asia/Seoul' })).toBe('20240105 23 +0900');
    expect(at('%Y%m%d %H:%M %z', Date.UTC(2024, 0, 5, 20, 0), { timeZone: 'Asia/Seoul' })).toBe('20240106 05:00 +0900');
    expect(at('%H:%M %z', TS, { timeZone: 'America/St_Johns' })).toBe('10:37 -0330');
  });

  it('agrees with Intl across DST transitions for thousands of timestamps (cache correctness)', () => {
    const t = new PathTemplate('%Y-%m-%d %H:%M:%S %s', { ...utc, timeZone: 'Europe/Berlin' });
    const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const start = Date.UTC(2024, 2, 30, 22); // around the March and October 2024 transitions
    for (let i = 0; i < 5000; i++) {
      const ts = Math.floor(i < 2500 ? start + rnd() * 8 * 3600_000 : Date.UTC(2024, 9, 26, 22) + rnd() * 8 * 3600_000);
      const p = Object.fromEntries(fmt.formatToParts(ts).map((x) => [x.type, x.value]));
      expect(t.expand({ timestamp: String(ts) }, 0)).toBe(`${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${Math.floor(ts / 1000)}`);
    }
  });

  it('rounds the time down to roundValue units', () => {
    expect(at('%H%M%S', TS, { round: true, roundValue: 10, roundUnit: 'minute' })).toBe('140000');
    expect(at('%H%M%S', TS, { round: true, roundValue: 15, roundUnit: 'second' })).toBe('140700');
    expect(at('%d %H%M', TS, { round: true, roundValue: 6, roundUnit: 'hour' })).toBe('05 1200');
    expect(at('%H%M', TS, { round: true, roundValue: 6, roundUnit: 'hour', timeZone: 'Asia/Seoul' })).toBe('1800');
  });

  it('uses the batch clock with useLocalTimeStamp, ignoring the header', () => {
    const t = new PathTemplate('%Y%m%d', { ...utc, useLocalTimeStamp: true });
    expect(t.expand({}, Date.UTC(2030, 11, 31, 23))).toBe('20301231');
  });

  it('rejects an event without a usable timestamp when the path needs one', () => {
    const t = new PathTemplate('x/%Y', utc);
    expect(() => t.expand({}, 0)).toThrow(MissingTimestampError);
    expect(() => t.expand({}, 0)).toThrow(/no 'timestamp' header/);
    expect(() => t.expand({ timestamp: 'yesterday' }, 0)).toThrow(/not epoch milliseconds/);
    expect(new PathTemplate('x/%{a}', utc).expand({ a: 'b' }, 0)).toBe('x/b');
  });

  it('refuses unknown escapes and time zones with a clear message', () => {
    expect(() => new PathTemplate('x/%Q', utc)).toThrow(/unknown escape '%Q'/);
    expect(() => new PathTemplate('x/%[host]', utc)).toThrow(/unknown escape '%\[host\]'/);
    expect(() => new PathTemplate('x/%{open', utc)).toThrow(/unterminated/);
    expect(() => new PathTemplate('x', { ...utc, timeZone: 'Mars/Olympus' })).toThrow(/not a known time zone/);
  });
});
