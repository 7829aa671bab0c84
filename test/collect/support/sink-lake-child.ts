/**
 * Child process for the lake sink's kill -9 test: the lake sink over the real file channel (write-ahead
 * log + checkpoint in <root>/channel), with the lazy take commits the sink really makes: a take commit
 * is written but not fsynced, so a kill can land between the write and the next fsync, or mid-write.
 * Usage: sink-lake-child.ts <root> [gzip]
 * Prints "started <recovery> size <events in the channel>" once recovered, "b <events>" after each batch,
 * "done <events>" after draining and stopping.
 */
import path from 'node:path';
import { FileChannel } from '../../../src/collect/channel/file.ts';
import { LakeSink, lakeSinkSchema } from '../../../src/collect/sink/index.ts';
import { sinkContext } from './test-channel.ts';

const root = process.argv[2];
const gz = process.argv[3] === 'gzip' ? { 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'gzip' } : {};
const channel = new FileChannel('c1', {
  checkpointDir: path.join(root, 'channel', 'checkpoint'), dataDir: path.join(root, 'channel', 'data'),
  capacity: 10_000_000, checkpointInterval: 250, maxFileSize: 64 * 1024,
});
await channel.start();
const cfg = lakeSinkSchema.parse({
  'hdfs.path': '/pilot-pjt/k/%{part}', 'hdfs.filePrefix': 'part', 'hdfs.fileSuffix': '.log', 'hdfs.batchSize': '25',
  'hdfs.rollCount': '37', 'hdfs.rollSize': '0', 'hdfs.rollInterval': '0', 'hdfs.timeZone': 'UTC', ...gz,
});
const sink = new LakeSink(cfg, channel, sinkContext(root, 'k1'));
await sink.start();
process.stdout.write(`started ${JSON.stringify(sink.lastRecovery)} size ${channel.size()}\n`);
let total = 0;
for (;;) {
  const n = await sink.process();
  if (n === 0) break;
  total += n;
  process.stdout.write(`b ${total}\n`);
}
await sink.stop();
await channel.stop();
process.stdout.write(`done ${total}\n`);
