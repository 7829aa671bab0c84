import type { Command } from 'commander';
import { int, positive, UserError } from '../core/cli.ts';

const dataOption = ['--data <dir>', 'data directory (default ./smartcar-data)'] as const;

async function dataDirOf(o: { data?: string }): Promise<string> {
  if (o.data) return o.data;
  const { loadRootConfig } = await import('../core/index.ts');
  return loadRootConfig(undefined).dataDir;
}

const level = (v: string): number => {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new UserError(`--level must be between 0 and 1 (e.g. 0.95), got '${v}'`);
  return n;
};

/** `smartcar ml regress | dnn`. */
export function registerModels(ml: Command): void {
  ml.command('regress')
    .description("Linear regression (R's lm) over a catalog table or a file, printed as R's summary(lm) prints it")
    .option('--formula <f>', 'response ~ predictor [+ predictor …]', 'income ~ car_capacity')
    .option('--table <name>', 'catalog table (see `smartcar load income`)', 'smartcar_master2income')
    .option('--input <file>', 'a |- or ,-delimited file with a header instead of the table')
    .option('--predict <file>', 'new rows (|- or ,-delimited, header naming the predictors): fit, lwr, upr')
    .option('--level <p>', 'prediction interval level', level, 0.95)
    .option('--plots <dir>', 'write histogram, box plot, normal Q-Q of the response and residuals vs fitted (SVG)')
    .option('--digits <n>', "significant digits, as print(summary(m), digits = n)", int('--digits', 1, 15), 4)
    .option('--json', 'every figure at full precision, as JSON')
    .option(...dataOption)
    .addHelpText('after', `
Examples:
  $ smartcar gen income --seed 1 --out /tmp && smartcar load income /tmp/CarMaster2Income.txt
  $ smartcar ml regress                                         # income ~ car_capacity on smartcar_master2income
  $ smartcar ml regress --predict CarMaster2Income_Test.txt --plots /tmp/plots
  $ smartcar ml regress --input /tmp/CarMaster2Income.txt --formula "income ~ car_capacity + age + car_year"
  $ smartcar ml regress --json | jq .coefficients`)
    .action(async (o) => {
      const { runRegress } = await import('./regress/run.ts');
      const r = await runRegress({ formula: o.formula, input: o.input, table: o.table, dataDir: await dataDirOf(o), predict: o.predict, level: o.level, plots: o.plots, digits: o.digits, json: o.json });
      process.stdout.write(r.text);
      if (r.plots.length) process.stderr.write(`plots: ${r.plots.join(', ')}\n`);
    });

  const dnn = ml.command('dnn').description('The driving-incident neural network: train, evaluate, predict')
    .addHelpText('after', `
Examples:
  $ smartcar gen incidents --out /tmp && smartcar load incidents /tmp/CarDrivingIncidentInfo.csv
  $ smartcar ml dnn train --seed 1
  $ smartcar ml dnn predict wea=0 temp=1 hum=0 arrCar=1 timeSlot=2 acciArea=2 drvCond=1 innCond=0 carSpd=2 steeAng=0`);
  dnn.command('train')
    .description('Train the seed network (10 relu → 20 relu → dropout 0.25 → 10 relu → 3 softmax) and save it as a versioned model')
    .option('--input <file>', 'CarDrivingIncidentInfo.csv instead of the catalog table')
    .option('--table <name>', 'catalog table (see `smartcar load incidents`)', 'smartcar_driving_incident_info')
    .option('--seed <n>', 'seed of the split, initial weights, shuffles and dropout', int('--seed', 0, 2 ** 31), 1)
    .option('--epochs <n>', 'epochs', int('--epochs', 1, 100_000), 50)
    .option('--batch-size <n>', 'batch size', int('--batch-size', 1, 10_000_000), 2000)
    .option('--test-share <p>', 'share of rows held out for validation and the test metrics', positive('--test-share'), 0.2)
    .option('--out <dir>', 'model directory (default <data>/models/incident-dnn)')
    .option('--plots <dir>', 'where the curves go (default next to the model: v<N>-plots/)')
    .option(...dataOption)
    .addHelpText('after', `
Examples:
  $ smartcar gen incidents --seed 1 --out /tmp            # 200,000 rows
  $ smartcar ml dnn train --input /tmp/CarDrivingIncidentInfo.csv
  $ smartcar load incidents /tmp/CarDrivingIncidentInfo.csv && smartcar ml dnn train --epochs 20`)
    .action(async (o) => {
      if (!(o.testShare < 1)) throw new UserError(`--test-share must be below 1, got ${o.testShare}`);
      const { runTrain } = await import('./dnn/run.ts');
      await runTrain({ input: o.input, table: o.table, dataDir: await dataDirOf(o), out: o.out, seed: o.seed, epochs: o.epochs, batchSize: o.batchSize, testShare: o.testShare, plots: o.plots });
    });
  dnn.command('evaluate')
    .description('Score a labelled incident file: loss, accuracy, confusion matrix, AUC')
    .argument('<file>', 'a file in the incident format with acciPos')
    .option('--model <path>', 'a model file or directory (default: the newest under <data>/models/incident-dnn)')
    .option('--json', 'the scores as JSON')
    .option(...dataOption)
    .addHelpText('after', `
Example:
  $ smartcar ml dnn evaluate CarDrivingIncidentInfo_Test.csv`)
    .action(async (file: string, o) => {
      const { runEvaluate } = await import('./dnn/run.ts');
      runEvaluate(file, { model: o.model, dataDir: await dataDirOf(o), json: o.json });
    });
  dnn.command('predict')
    .description('Predict the incident class from the ten features (the training scaler is applied)')
    .argument('[feature=value...]', 'wea=0 temp=1 hum=0 arrCar=1 timeSlot=2 acciArea=0 drvCond=1 innCond=0 carSpd=2 steeAng=0')
    .option('--input <file>', 'rows of features (incident CSV header; acciPos ignored)')
    .option('--model <path>', 'a model file or directory (default: the newest under <data>/models/incident-dnn)')
    .option('--json', 'one JSON object per row')
    .option(...dataOption)
    .addHelpText('after', `
Output: the class, then the probability of each class (tab-separated).
Examples:
  $ smartcar ml dnn predict wea=0 temp=1 hum=0 arrCar=1 timeSlot=2 acciArea=2 drvCond=1 innCond=0 carSpd=2 steeAng=0
  $ smartcar ml dnn predict --input new-rows.csv --json`)
    .action(async (pairs: string[], o) => {
      const values: Record<string, string> = {};
      for (const p of pairs) {
        const m = /^([A-Za-z]+)=(.*)$/.exec(p);
        if (!m) throw new UserError(`"${p}": expected feature=value, e.g. wea=1`);
        values[m[1]] = m[2];
      }
      if (o.input && pairs.length) throw new UserError('give features as arguments or --input FILE, not both');
      const { runPredict } = await import('./dnn/run.ts');
      runPredict({ model: o.model, dataDir: await dataDirOf(o), values, input: o.input, json: o.json });
    });
}
