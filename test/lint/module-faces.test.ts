// The import rule (eslint/module-faces.js) run through ESLint with the repository's own config, on code
// given as if it stood at a path under src/.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function faceErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'smartcar/module-faces').map((m) => m.message);
}

describe('module faces', () => {
  it("fails an import of another module's inner file", async () => {
    const errors = await faceErrors('src/stream/probe.ts', "import { TOPIC } from '../core/records.ts';\nexport const t = TOPIC;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("reaches into module 'core'");
    expect(errors[0]).toContain("'../core/index.ts'");
  });

  it('fails re-exports, dynamic imports and type imports that reach inside, from any depth', async () => {
    const code = [
      "export { LakeSink } from '../../collect/sink/lake.ts';",
      "export type { TableStore } from '../../table/types.ts';",
      "export async function f() { return import('../../sql/catalog.ts'); }",
      '',
    ].join('\n');
    expect(await faceErrors('src/console/routes/probe.ts', code)).toHaveLength(3);
  });

  it('passes imports of index.ts (with .ts or .js) and of cli.ts, and imports inside a module', async () => {
    const code = [
      "import { UserError } from '../core/index.ts';",
      "import { int } from '../core/cli.ts';",
      "import { encode } from '../kafka/index.js';",
      "import { x } from './wire.ts';",
      "import { y } from '../broker/log.ts';",
      'export const all = [UserError, int, encode, x, y];',
      '',
    ].join('\n');
    expect(await faceErrors('src/broker/probe.ts', code)).toEqual([]);
  });

  it('leaves tests and benches alone', async () => {
    expect(await faceErrors('test/stream/probe.test.ts', "import { TOPIC } from '../../src/core/records.ts';\nexport const t = TOPIC;\n")).toEqual([]);
    expect(await faceErrors('bench/probe.ts', "import { TOPIC } from '../src/core/records.ts';\nexport const t = TOPIC;\n")).toEqual([]);
  });
});
