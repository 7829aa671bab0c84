/** `smartcar up` runs the prediction service once a trained model exists under the data directory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataPaths } from '../../src/core/paths.ts';
import { platformComponents } from '../../src/platform/components.ts';

describe('smartcar up and the prediction service', () => {
  it('adds the predict component only when a model file exists', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-up-predict-'));
    try {
      const names = () => platformComponents({ paths: dataPaths(dir), brokerPort: 0, sqlPort: 0 }).specs.map((s) => s.name);
      expect(names()).not.toContain('predict');
      const models = path.join(dir, 'models', 'incident-dnn');
      fs.mkdirSync(models, { recursive: true });
      expect(names()).not.toContain('predict');
      fs.writeFileSync(path.join(models, 'v1.json'), '{}');
      expect(names()).toContain('predict');
      const spec = platformComponents({ paths: dataPaths(dir), brokerPort: 0, sqlPort: 0, predictPort: 0 }).specs.find((s) => s.name === 'predict')!;
      expect(spec.args()).toEqual(['serve', 'predict', '--port', '0', '--model', models]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
