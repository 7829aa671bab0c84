/** `smartcar serve predict`: the command of the prediction service. */
import type { Command } from 'commander';
import { int } from '../core/cli.ts';

/** `smartcar serve predict`: the `serve` group is shared; whoever registers first creates it. */
export function register(program: Command): void {
  const serve = program.commands.find((c) => c.name() === 'serve') ?? program.command('serve').description('Run one of the HTTP services on its own')
    .addHelpText('after', `
Example:
  $ smartcar serve predict --port 9001`);
  serve
    .command('predict')
    .description('The incident model over HTTP: GET|POST /smartcar/predict (the seed\'s Flask service), /health, /metrics')
    .option('--host <addr>', 'address to listen on (not loopback: needs a token)', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', int('--port', 0, 65535), 9001)
    .option('--model <path>', 'a model file, or a directory whose newest v<N>.json is served (default <data>/models/incident-dnn)')
    .option('--token <t>', 'require Authorization: Bearer <t> (default $SMARTCAR_PREDICT_TOKEN)')
    .option('--watch-ms <n>', 'how often to look for a new model', int('--watch-ms', 50, 3_600_000), 1000)
    .option('--metrics-port <n>', 'also serve /metrics and /health on 127.0.0.1:<n> (0 = a free port; `smartcar up` uses it)', int('--metrics-port', 0, 65535))
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .addHelpText('after', `
A newly trained model (smartcar ml dnn train) is served without a restart.
Examples:
  $ smartcar serve predict
  $ curl 'http://127.0.0.1:9001/smartcar/predict?wea=0&temp=1&hum=0&arrCar=1&timeSlot=2&acciArea=2&drvCond=1&innCond=0&carSpd=2&steeAng=0'
  $ curl -X POST -H 'content-type: application/json' http://127.0.0.1:9001/smartcar/predict \\
      -d '{"wea":0,"temp":1,"hum":0,"arrCar":1,"timeSlot":2,"acciArea":2,"drvCond":1,"innCond":0,"carSpd":2,"steeAng":0}'
  $ SMARTCAR_PREDICT_TOKEN=s3cret smartcar serve predict --host 0.0.0.0`)
    .action(async (o) => {
      const { startPredictService } = await import('./service.ts');
      const { onShutdown } = await import('../core/index.ts');
      const { loadRootConfig } = await import('../core/index.ts');
      const { modelDir } = await import('../ml/index.ts');
      const dataDir = o.data ?? loadRootConfig(undefined).dataDir;
      const svc = await startPredictService({
        model: o.model ?? modelDir(dataDir), host: o.host, port: o.port, token: o.token, watchMs: o.watchMs,
        onLog: (l) => process.stderr.write(`${l}\n`),
      });
      process.stderr.write(`predict: ${svc.url}/smartcar/predict${svc.current() ? '' : ' (no model yet: waiting for one)'}\n`);
      // For a supervisor (smartcar up): where it listens, on stdout.
      process.stdout.write(`listening ${svc.url}\n`);
      onShutdown(() => svc.close());
      if (o.metricsPort !== undefined) {
        const { serveStatus } = await import('../core/index.ts');
        const st = await serveStatus({ port: o.metricsPort, health: () => (svc.current() ? { status: 'ok', url: svc.url, model_version: svc.current()!.version } : { status: 'down', url: svc.url, error: 'no model yet' }) });
        onShutdown(() => st.close());
        process.stdout.write(`metrics listening ${st.host}:${st.port}\n`);
      }
    });
}
