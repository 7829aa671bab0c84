/** `smartcar broker`: the embedded Kafka-protocol broker as a command (its flags, credentials and help). */
import type { Command } from 'commander';
import { UserError } from '../core/cli.ts';

export function register(program: Command): void {
  program
    .command('broker')
    .description('Run the embedded single-node message broker (Kafka wire protocol)')
    .option('--host <addr>', 'address to bind; anything but loopback needs credentials (SMARTCAR_BROKER_PASSWORD or --sasl-users)', '127.0.0.1')
    .option('--sasl-users <file>', 'require SASL (PLAIN or SCRAM-SHA-256): one user:password a line, chmod 600; adds to SMARTCAR_BROKER_USER / SMARTCAR_BROKER_PASSWORD')
    .option('--port <port>', 'port (0 = any free port; the bound address is printed)', '9092')
    .option('--data <dir>', 'log directory', './smartcar-data/broker')
    .option('--partitions <n>', 'partitions of auto-created topics', '4')
    .option('--no-auto-create', 'do not create topics on first use')
    .option('--flush <policy>', 'always (fsync acks=-1 produces before acknowledging) | interval (every second)', 'always')
    .option('--retention-hours <h>', 'delete segments older than this', '168')
    .option('--retention-bytes <n>', 'per partition; -1 = unlimited', '-1')
    .option('--metrics-port <port>', 'serve /metrics and /health on 127.0.0.1 (0 = any free port, printed)')
    .addHelpText('after', `
Any Kafka client talks to it: kafkajs, librdkafka (kcat), the Java client.

Credentials: with SMARTCAR_BROKER_PASSWORD (user SMARTCAR_BROKER_USER, default smartcar) or
--sasl-users set, every client must authenticate with SASL/PLAIN; the platform's own clients
(stream, agent, console) read the same two variables. Without them, only loopback is allowed.

Examples:
  $ smartcar broker
  $ smartcar broker --port 19092 --data /var/lib/smartcar/broker --partitions 8
  $ kcat -b 127.0.0.1:9092 -L                       # list brokers, topics, partitions
  $ kcat -b 127.0.0.1:9092 -t SmartCar-Topic -C -o beginning
  $ SMARTCAR_BROKER_PASSWORD=secret smartcar broker --host 10.0.0.5
  $ kcat -b 10.0.0.5:9092 -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
      -X sasl.username=smartcar -X sasl.password=secret -L`)
    .action(async (o) => {
      const port = Number(o.port), partitions = Number(o.partitions);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be 0..65535, got '${o.port}'`);
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) throw new UserError(`--partitions must be 1..10000, got '${o.partitions}'`);
      if (o.flush !== 'always' && o.flush !== 'interval') throw new UserError(`--flush must be always or interval, got '${o.flush}'`);
      const { brokerUsers } = await import('./credentials.ts');
      const users = brokerUsers(o.saslUsers);
      const { startBroker } = await import('./server.ts');
      const { onShutdown } = await import('../core/index.ts');
      const b = await startBroker({
        host: o.host, port, dataDir: o.data, defaultPartitions: partitions, autoCreateTopics: o.autoCreate !== false, flush: o.flush,
        retentionMs: Number(o.retentionHours) * 3600_000, retentionBytes: Number(o.retentionBytes),
        portFlag: process.env.SMARTCAR_PORT_FLAG ?? '--port', users: users?.users,
      });
      process.stdout.write(`listening ${b.host}:${b.port}\n`);
      if (users) process.stdout.write(`sasl PLAIN SCRAM-SHA-256, ${users.users.size} user(s) from ${users.source}\n`);
      onShutdown(() => b.close());
      if (o.metricsPort !== undefined) {
        const mp = Number(o.metricsPort);
        if (!Number.isInteger(mp) || mp < 0 || mp > 65535) throw new UserError(`--metrics-port must be 0..65535, got '${o.metricsPort}'`);
        const { serveStatus } = await import('../core/index.ts');
        const s = await serveStatus({ port: mp, health: () => ({ status: 'ok', address: `${b.host}:${b.port}` }) });
        process.stdout.write(`metrics listening ${s.host}:${s.port}\n`);
      }
      await new Promise(() => {});
    });
}
