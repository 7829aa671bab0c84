/**
 * Every command's --help shows how to use it: the test walks the whole commander tree (`smartcar`,
 * each command, each subcommand) and fails for any help text without an `Example:` / `Examples:`
 * section holding at least one `$ … smartcar <that command> …` line.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { SMARTCAR_BIN } from '../support/platform.ts';

/** The full help of one command as `--help` prints it (including the text added after the options). */
function helpOf(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => { out += s; }, writeErr: (s) => { out += s; } });
  cmd.outputHelp();
  return out;
}

function walk(cmd: Command, trail: string[] = []): { path: string[]; cmd: Command }[] {
  const here = { path: trail, cmd };
  return [here, ...cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => walk(c, [...trail, c.name()]))];
}

describe('--help of every command', () => {
  const all = walk(buildProgram());

  it('walks a tree of more than 40 commands', () => {
    expect(all.length).toBeGreaterThan(40);
  });

  it('has an Example section with a `$ smartcar <that command>` line', () => {
    const lacking: string[] = [];
    for (const { path, cmd } of all) {
      const help = helpOf(cmd);
      const section = /^Examples?(?: \([^)]*\))?:\n((?: {2}.*\n?)+)/m.exec(help);
      // A `$ …` line that runs this very command (possibly after another one, `gen … && smartcar load …`).
      const own = new RegExp(`^ {2}\\$ .*\\bsmartcar${path.map((p) => ` ${p}`).join('')}(?: |$)`, 'm');
      if (!section || !own.test(section[1])) lacking.push(`smartcar ${path.join(' ')}`.trim());
    }
    expect(lacking).toEqual([]);
  });

  it('is what the installed bin script prints (checked for a command and a subcommand)', () => {
    for (const args of [['up'], ['table', 'scan']]) {
      const out = execFileSync(process.execPath, [SMARTCAR_BIN, ...args, '--help'], { encoding: 'utf8' });
      expect(out).toMatch(new RegExp(`^Examples?:\\n {2}\\$ smartcar ${args.join(' ')}`, 'm'));
    }
  }, 120_000);
});
