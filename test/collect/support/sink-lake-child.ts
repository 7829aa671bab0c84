/**
 * Child process for the lake sink's kill -9 test: the lake sink over a TestChannel persisted to a file
 * (a stand-in for the durable file channel, which another branch builds). Usage: sink-lake-child.ts <root> [gzip]
 * Prints "started" once recovered, "b <events>" after each batch, "done <events>" after draining and stopping.
 */
import path from 'node:path';
import { LakeSink, lakeSinkSchema } from '../../../src/collect/sink/index.ts';
import { TestChannel, sinkContext } from './test-channel.ts';

const root = process.argv[2];
const gz = process.argv[3] === 'gzip' ? { 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'gzip' } : {};
const channel = new TestChannel('c1', 10_000_000, path.join(root, 'channel.json'));
await channel.start();
const cfg = lakeSinkSchema.parse({
  'hdfs.path': '/pilot-pjt/k/%{part}', 'hdfs.filePrefix': 'part', 'hdfs.fileSuffix': '.log', 'hdfs.batchSize': '25',
  'hdfs.rollCount': '37', 'hdfs.rollSize': '0', 'hdfs.rollInterval': '0', 'hdfs.timeZone': 'UTC', ...gz,
});
const sink = new LakeSink(cfg, channel, sinkContext(root, 'k1'));
await sink.start();
process.stdout.write(`started ${JSON.stringify(sink.lastRecovery)}\n`);
let total = 0;
for (;;) {
  const n = await sink.process();
  if (n === 0) break;
  total += n;
  process.stdout.write(`b ${total}\n`);
}
await sink.stop();
process.stdout.write(`done ${total}\n`);
