/**
 * `smartcar ml recommend | classify | cluster`. Each command's flags come from its model's zod schema
 * (options.ts); the models load inside the actions.
 */
import type { Command } from 'commander';
import { addSchemaOptions } from './options.ts';
import { evaluateSchema, predictSchema, scoreSchema, trainSchema } from './classify/schema.ts';
import { recommendSchema } from './recommend/schema.ts';
import { clusterSchema } from './kmeans/schema.ts';

export function registerAnalysis(ml: Command): void {
  addSchemaOptions(ml.command('recommend'), recommendSchema)
    .description('Recommend items to car owners from the month\'s purchase mart (item-based, Mahout\'s recommenditembased)')
    .addHelpText('after', `
Writes smartcar_item_recommend (car_number, item, score, rank, biz_month). Items a car bought are never
recommended to it. Needs the purchase mart of the month: smartcar workflow run buylist --day yyyyMM01.

Examples:
  $ smartcar ml recommend --month 202003
  $ smartcar ml recommend --month 202003 --similarity loglikelihood --top 5 --json
  $ smartcar ml recommend --month 202003 --evaluate --plots plots/     # 20 % holdout vs most-popular
  $ smartcar sql "select * from smartcar_item_recommend where biz_month = '202003' and car_number = 'A0001'"`)
    .action(async (o) => {
      const { recommendCommand } = await import('./recommend/run.ts');
      await recommendCommand(o);
    });

  const classify = ml.command('classify')
    .description('Classify car status as 정상/비정상 (normal/abnormal) with a random forest over the status mart')
    .addHelpText('after', `
The labelled set is the status mart of a day (or days), labelled with the seed's scoring rule; the
seed's 14 features, in its order: car_capacity car_year car_model tire_fl tire_fr tire_bl tire_br
light_fl light_fr light_bl light_br engine break battery.

Examples:
  $ smartcar ml classify train --day 20240101 --plots plots/
  $ smartcar ml classify evaluate --day 20240102
  $ smartcar ml classify predict 2000 2000 A 80 80 80 80 1 1 1 1 A B 50
  $ smartcar ml classify score --day 20240102        # every car of the day → smartcar_status_score`);

  addSchemaOptions(classify.command('train'), trainSchema)
    .description('Train on a 70/30 split of the labelled set, print the test evaluation, save the model')
    .addHelpText('after', `
Defaults are Spark ML's RandomForestClassifier: 5 trees, depth 5, sqrt features per split, 32 bins.

Examples:
  $ smartcar ml classify train --day 20240101
  $ smartcar ml classify train --from 20240101 --to 20240107 --num-trees 20 --model forest.model
  $ smartcar ml classify train --day 20240101 --num-trees 1      # one decision tree, every feature`)
    .action(async (o) => {
      const { trainCommand } = await import('./classify/run.ts');
      await trainCommand(o);
    });

  addSchemaOptions(classify.command('evaluate'), evaluateSchema)
    .description('Evaluate the saved model on a day: accuracy, error rate, confusion matrix, per-class metrics, importances')
    .addHelpText('after', `
On days the model trained on, only their test part is used.

Examples:
  $ smartcar ml classify evaluate --day 20240102
  $ smartcar ml classify evaluate --day 20240101 --json --plots plots/`)
    .action(async (o) => {
      const { evaluateCommand } = await import('./classify/run.ts');
      await evaluateCommand(o);
    });

  addSchemaOptions(classify.command('predict'), predictSchema)
    .description('Predict one car (14 values in the seed\'s order) or a file of cars: the class and its probability')
    .argument('[values...]', 'car_capacity car_year car_model tire_fl tire_fr tire_bl tire_br light_fl light_fr light_bl light_br engine break battery')
    .addHelpText('after', `
Examples:
  $ smartcar ml classify predict 2000 2000 A 80 80 80 80 1 1 1 1 A B 50
  $ smartcar ml classify predict --file cars.txt --json`)
    .action(async (values: string[], o) => {
      const { predictCommand } = await import('./classify/run.ts');
      await predictCommand(values, o);
    });

  addSchemaOptions(classify.command('score'), scoreSchema)
    .description('Score every status record of a day with the saved model; per car into smartcar_status_score')
    .addHelpText('after', `
Example:
  $ smartcar ml classify score --day 20240102 && smartcar sql "select * from smartcar_status_score where biz_date = '20240102'"`)
    .action(async (o) => {
      const { scoreCommand } = await import('./classify/run.ts');
      await scoreCommand(o);
    });

  addSchemaOptions(ml.command('cluster'), clusterSchema)
    .description('Group the fleet\'s cars with k-means over the car master\'s derived features')
    .addHelpText('after', `
Features: capacity class (소형 < 2000, 중형 < 3000, 대형 < 4000, 초대형 ≥ 4000 cc), car age class
(NEW ≤ 4, NORMAL ≤ 8, OLD > 8 years before 2016), model, sex, age decade, marriage, job, region —
each string-indexed (most frequent first) and min-max scaled. Writes smartcar_car_cluster (car_number, cluster).

Examples:
  $ smartcar ml cluster                      # k = 200, seed 1, capacity,year,model,sex,marriage
  $ smartcar ml cluster --k 20 --features capacity,year,model,age,job --plots plots/
  $ smartcar ml cluster --k-range 2..300     # elbow and silhouette table, to choose k`)
    .action(async (o) => {
      const { clusterCommand } = await import('./kmeans/run.ts');
      await clusterCommand(o);
    });
}
