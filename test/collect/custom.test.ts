import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, createDeadLetters, fromProperties, registerComponent } from '../../src/collect/index.ts';

it('a custom interceptor registered from TypeScript runs in an agent file by its type name', async () => {
  registerComponent({
    kind: 'interceptor', type: 'upper_case', aliases: ['com.example.UpperCase$Builder'],
    schema: z.object({ only: z.string().default('') }).strict(),
    create: (cfg: { only: string }) => ({
      intercept: (events) => events.map((e) => (e.body.toString().startsWith(cfg.only) ? { headers: e.headers, body: Buffer.from(e.body.toString().toUpperCase()) } : e)),
    }),
  });
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-custom-'));
  fs.mkdirSync(path.join(d, 'in'));
  fs.writeFileSync(path.join(d, 'in', 'f.txt'), 'abc\nxyz\n');
  const def = fromProperties([
    'a.sources = s', 'a.channels = c', 'a.sinks = k',
    'a.sources.s.type = spooldir', 'a.sources.s.spoolDir = in', 'a.sources.s.channels = c', 'a.sources.s.pollDelay = 20',
    'a.sources.s.interceptors = u', 'a.sources.s.interceptors.u.type = com.example.UpperCase$Builder', 'a.sources.s.interceptors.u.only = a',
    'a.channels.c.type = memory', 'a.sinks.k.type = hdfs', 'a.sinks.k.channel = c', 'a.sinks.k.hdfs.path = out', 'a.sinks.k.hdfs.filePrefix = f',
  ].join('\n'), 'custom.properties', 'a');
  const agent = new Agent(def, { dataDir: d, brokers: [], deadLetters: createDeadLetters(d, 'a') });
  agent.build();
  await agent.start();
  const end = Date.now() + 10_000;
  while (!fs.existsSync(path.join(d, 'in', 'f.txt.COMPLETED')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await agent.stop();
  const out = path.join(d, 'lake', 'out');
  const text = fs.readdirSync(out).map((f) => fs.readFileSync(path.join(out, f), 'utf8')).join('');
  expect(text).toBe('ABC\nxyz\n');
  fs.rmSync(d, { recursive: true, force: true });
});
