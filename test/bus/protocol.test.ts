/**
 * Request encodings against kafkajs's request encoders (an independent implementation, used as the byte
 * fixture), and response decoding against bytes laid out by the protocol's grammar.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodePlain, Reader, Writer } from '../../src/kafka/index.ts';
import {
  decodeApiVersions, decodeMetadata, decodeProduce, decodeSaslAuthenticate, decodeSaslHandshake, encodeMetadata, encodeProduce,
  encodeSaslAuthenticate, encodeSaslHandshake, frameRequest, pickVersion,
} from '../../src/bus/protocol.ts';
import { encodeBatches } from '../../src/bus/records.ts';

const require = createRequire(import.meta.url);
type Req = { apiKey: number; apiVersion: number; encode(): Promise<unknown> };
const kafkajsRequest = require('kafkajs/src/protocol/request') as (o: { correlationId: number; clientId: string; request: Req }) => Promise<{ buffer: Buffer }>;
const kafkajs = (path: string) => require(`kafkajs/src/protocol/requests/${path}/request`) as (o: Record<string, unknown>) => Req;

describe('request encodings', () => {
  for (const v of [1, 2, 3, 4, 5]) {
    it(`Metadata v${v} is byte for byte kafkajs's`, async () => {
      const topics = ['SmartCar-Topic', 'ü-topic'];
      const ours = Buffer.concat(frameRequest(3, v, 42, 'smartcar', encodeMetadata(v, topics, true)));
      const theirs = await kafkajsRequest({ correlationId: 42, clientId: 'smartcar', request: kafkajs(`metadata/v${v}`)({ topics, allowAutoTopicCreation: true }) });
      expect(ours.equals(theirs.buffer)).toBe(true);
    });
  }

  it('Produce v3 is byte for byte kafkajs\'s, but for the partition leader epoch (-1 here, as the Java client sends)', async () => {
    const T0 = 1_704_100_000_000;
    const messages = Array.from({ length: 20 }, (_, i) => ({ key: Buffer.from(`A000${i % 3}`), value: Buffer.from(`20240101101530,A000${i % 3},1,0,F,N,${60 + i},A01`), timestamp: T0 + i * 500, headers: i % 4 ? undefined : { src: 'tail' } }));
    const [seg] = encodeBatches(messages, new Int32Array(messages.length).fill(2), 3, T0, false);
    const ours = Buffer.concat(frameRequest(0, 3, 7, 'smartcar', encodeProduce(-1, 30_000, 'SmartCar-Topic', [seg.segment])));
    const theirs = (await kafkajsRequest({
      correlationId: 7, clientId: 'smartcar',
      request: kafkajs('produce/v3')({ acks: -1, timeout: 30_000, producerEpoch: -1, topicData: [{ topic: 'SmartCar-Topic', partitions: [{ partition: 2, firstSequence: -1, messages }] }] }),
    })).buffer;
    expect(theirs.length).toBe(ours.length);
    const epochAt = ours.length - seg.segment.length + 8 + 12;
    expect(theirs.readInt32BE(epochAt)).toBe(0);
    expect(ours.readInt32BE(epochAt)).toBe(-1);
    theirs.writeInt32BE(-1, epochAt);
    expect(ours.equals(theirs)).toBe(true);
  });
});

describe('SASL request encodings', () => {
  it('SaslHandshake v1 is byte for byte kafkajs\'s', async () => {
    const ours = Buffer.concat(frameRequest(17, 1, 3, 'smartcar', encodeSaslHandshake('PLAIN')));
    const theirs = await kafkajsRequest({ correlationId: 3, clientId: 'smartcar', request: kafkajs('saslHandshake/v1')({ mechanism: 'PLAIN' }) });
    expect(ours.equals(theirs.buffer)).toBe(true);
  });

  for (const v of [0, 1]) {
    it(`SaslAuthenticate v${v} with a PLAIN token is byte for byte kafkajs's`, async () => {
      const ours = Buffer.concat(frameRequest(36, v, 4, 'smartcar', encodeSaslAuthenticate(encodePlain('fleet', 'pässword'))));
      // kafkajs's PLAIN token (its sasl/plain request), wrapped by its SaslAuthenticate request.
      const plain = require('kafkajs/src/protocol/sasl/plain/request') as (o: { username: string; password: string }) => { encode(): Promise<Buffer> };
      const token = await plain({ username: 'fleet', password: 'pässword' }).encode(); // already int32 length + token, as sasl_auth_bytes is
      const theirs = await kafkajsRequest({ correlationId: 4, clientId: 'smartcar', request: kafkajs(`saslAuthenticate/v${v}`)({ authBytes: token }) });
      expect(ours.equals(theirs.buffer)).toBe(true);
    });
  }

  it('decodes SaslHandshake and SaslAuthenticate responses laid out by the grammar', () => {
    const hs = new Writer().int16(0).array(['PLAIN', 'SCRAM-SHA-256'], (x, m) => x.string(m));
    expect(decodeSaslHandshake(new Reader(hs.toBuffer()))).toEqual({ error: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
    const au = new Writer().int16(58).string('Authentication failed: Invalid username or password').bytes(Buffer.alloc(0)).int64(0n);
    expect(decodeSaslAuthenticate(1, new Reader(au.toBuffer()))).toEqual({ error: 58, message: 'Authentication failed: Invalid username or password', token: Buffer.alloc(0) });
  });
});

describe('response decoding', () => {
  it('reads ApiVersions and picks the highest version both sides support', () => {
    const w = new Writer().int16(0).array([[0, 3, 9], [3, 0, 12], [18, 0, 3]], (x, [k, lo, hi]) => x.int16(k).int16(lo).int16(hi));
    const { error, versions } = decodeApiVersions(new Reader(w.toBuffer()));
    expect(error).toBe(0);
    expect(pickVersion(0, versions)).toBe(7);
    expect(pickVersion(3, versions)).toBe(5);
    expect(pickVersion(3, new Map([[3, [0, 2]]]))).toBe(2);
    expect(pickVersion(0, new Map([[0, [8, 11]]]))).toBe(-1);
    expect(pickVersion(0, new Map())).toBe(-1);
  });

  it('reads Metadata v1 and v5 (brokers, topics, partitions, leaders)', () => {
    for (const v of [1, 5]) {
      const w = new Writer();
      if (v >= 3) w.int32(0);
      w.array([[0, 9092], [1, 9093]], (x, [id, port]) => x.int32(id).string('127.0.0.1').int32(port).string(null));
      if (v >= 2) w.string('cluster');
      w.int32(1);
      w.array(['a', 'b'], (x, t) => x.int16(t === 'a' ? 0 : 3).string(t).bool(false).array(t === 'a' ? [0, 1] : [], (y, p) => {
        y.int16(0).int32(p).int32(1 - p).array([0, 1], (z, n) => z.int32(n)).array([0], (z, n) => z.int32(n));
        if (v >= 5) y.array([], () => {});
      }));
      const md = decodeMetadata(v, new Reader(w.toBuffer()));
      expect(md.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 9092 }, { nodeId: 1, host: '127.0.0.1', port: 9093 }]);
      expect(md.topics).toEqual([
        { name: 'a', error: 0, partitions: [{ partition: 0, error: 0, leader: 1 }, { partition: 1, error: 0, leader: 0 }] },
        { name: 'b', error: 3, partitions: [] },
      ]);
    }
  });

  it('reads Produce v3 and v7 responses, per partition error and base offset', () => {
    for (const v of [3, 7]) {
      const w = new Writer().array(['t'], (x, t) => x.string(t).array([[0, 0, 41n], [1, 6, -1n]] as const, (y, [p, e, o]) => {
        y.int32(p).int16(e).int64(o).int64(-1n);
        if (v >= 5) y.int64(0n);
      })).int32(0);
      expect(decodeProduce(v, new Reader(w.toBuffer()))).toEqual([
        { topic: 't', partition: 0, error: 0, baseOffset: 41n },
        { topic: 't', partition: 1, error: 6, baseOffset: -1n },
      ]);
    }
    // A truncated response is an error, not a wrong answer.
    expect(() => decodeProduce(7, new Reader(Buffer.from([0, 0, 0, 1, 0])))).toThrow(/truncated/);
  });
});
