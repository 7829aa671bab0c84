import { describe, expect, it } from 'vitest';
import { carNumber, driverRowKey, parseCarStatus, parseDrivingRecord, MAX_CARS } from '../../src/core/records.ts';
import { formatTimestamp14, parseTimestamp14 } from '../../src/core/time.ts';

describe('driving records', () => {
  it('parses a well-formed line into typed fields with its event time', () => {
    const p = parseDrivingRecord('20240101103015,A0001,2,0,L2,L,85,B04');
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.record).toMatchObject({ carNumber: 'A0001', speedPedal: 2, breakPedal: 0, steerAngle: 'L2', directLight: 'L', speed: 85, areaNumber: 'B04' });
    expect(formatTimestamp14(p.record.eventTime)).toBe('20240101103015');
  });

  it.each([
    ['Driver Status Infomation,CarNum,AccStep,BrkStep,WheelStep,DirLightStep,Speed,AreaNum', 'bad timestamp'],
    ['20240101103015,A0001,2,0,L2,L,85', 'expected 8 fields'],
    ['20240101240000,A0001,2,0,L2,L,85,B04', 'bad timestamp'],
    ['20240101103015,a0001,2,0,L2,L,85,B04', 'bad car number'],
    ['20240101103015,A0001,6,0,L2,L,85,B04', 'bad speed_pedal'],
    ['20240101103015,A0001,2,0,X,L,85,B04', 'bad steer_angle'],
    ['20240101103015,A0001,2,0,F,N,251,B04', 'bad speed'],
    ['20240101103015,A0001,2,0,F,N,25,G04', 'bad area_number'],
  ])('rejects %s with a reason', (line, reason) => {
    const p = parseDrivingRecord(line);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toContain(reason);
  });

  it('builds the seed row key: reversed timestamp, dash, car number', () => {
    expect(driverRowKey('20200322101530', 'A0001')).toBe('03510122300202-A0001');
  });
});

describe('car status records', () => {
  it('parses 13 fields, and 14 with the appended processing date', () => {
    const a = parseCarStatus('20240101000004,B0002,85,90,71,99,1,1,2,1,A,C,55');
    const b = parseCarStatus('20240101000004,B0002,85,90,71,99,1,1,2,1,A,C,55,20240102');
    expect(a.ok && b.ok).toBe(true);
    if (b.ok) expect(b.record).toMatchObject({ tires: [85, 90, 71, 99], lights: [1, 1, 2, 1], engine: 'A', brake: 'C', battery: 55, wrkDate: '20240102' });
  });
  it('rejects the per-car header line', () => {
    expect(parseCarStatus('SmartCar Status Information,CarNum,TireFL,TireFR,TireBL,TireBR,LightFL,LightFR,LightBL,LightBR,EngineInfo,BreakInfo,BatteryInfo').ok).toBe(false);
  });
});

describe('time and car numbers', () => {
  it('rejects impossible civil times', () => {
    expect(parseTimestamp14('20240231000000')).toBeNaN();
    expect(parseTimestamp14('20240101240000')).toBeNaN();
    expect(parseTimestamp14('2024010100000')).toBeNaN();
  });
  it('names cars A0001, B0001 … Z0001, A0002 and covers the master for 2,600 cars', () => {
    expect([0, 1, 25, 26, 2599].map(carNumber)).toEqual(['A0001', 'B0001', 'Z0001', 'A0002', 'Z0100']);
    expect(carNumber(MAX_CARS - 1)).toBe('Z9999');
    expect(() => carNumber(MAX_CARS)).toThrow(RangeError);
  });
});
