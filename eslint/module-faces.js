/**
 * Lint rule `smartcar/module-faces`: a module (a folder src/<name>/) is used by the others only through
 * its faces: `src/<name>/index.ts`, its public face, and `src/<name>/cli.ts`, its light command face
 * (what `smartcar --help` loads: the commands it registers, or for core the option parsers and errors
 * they need). Imports inside a module, and tests and benches (outside src/), are not checked. `allow`
 * lists pairs (importing-path prefix, imported path — or prefix, when it ends with `/`) let through.
 *
 * Every static import, `export … from`, dynamic `import('…')` with a literal and `import('…')` type is checked.
 */
import path from 'node:path';

const FACE = /^index\.(ts|tsx|js)$/;
const LIGHT = /^cli\.(ts|js)$/;

/** The module of a path under src/ and the rest of it, or undefined outside src/. */
function moduleOf(srcRoot, file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const parts = rel.split(path.sep);
  if (parts.length < 2) return undefined;
  return { name: parts[0], rest: parts.slice(1).join('/') };
}

export const moduleFaces = {
  meta: {
    type: 'problem',
    docs: { description: 'modules import each other only through their faces, index.ts and cli.ts' },
    schema: [{
      type: 'object',
      properties: {
        allow: { type: 'array', items: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } }, required: ['from', 'to'] } },
      },
      additionalProperties: false,
    }],
    messages: {
      face: "{{from}} reaches into module '{{module}}' ({{target}}); import '{{face}}' instead (src/{{module}}/index.ts is its public face, cli.ts its light command face; export what you need from one of them)",
    },
  },
  create(context) {
    const filename = context.filename ?? context.getFilename();
    const srcRoot = path.join(context.cwd ?? process.cwd(), 'src');
    const here = moduleOf(srcRoot, filename);
    if (!here) return {};
    const allow = context.options[0]?.allow ?? [];
    const relFile = path.relative(context.cwd ?? process.cwd(), filename).split(path.sep).join('/');
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(filename), spec);
      const there = moduleOf(srcRoot, target);
      if (!there || there.name === here.name) return;
      if (!there.rest || FACE.test(there.rest)) return;
      if (LIGHT.test(there.rest)) return;
      const targetRel = path.relative(context.cwd ?? process.cwd(), target).split(path.sep).join('/');
      if (allow.some((a) => relFile.startsWith(a.from) && (a.to.endsWith('/') ? targetRel.startsWith(a.to) : targetRel === a.to))) return;
      const face = path.relative(path.dirname(filename), path.join(srcRoot, there.name, 'index.ts')).split(path.sep).join('/');
      context.report({ node, messageId: 'face', data: { from: relFile, module: there.name, target: spec, face: face.startsWith('.') ? face : `./${face}` } });
    };
    const fromSource = (node) => node.source && check(node.source, node.source.value);
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
      TSImportType: (node) => {
        const lit = node.argument?.literal ?? node.argument;
        if (lit && lit.type === 'Literal') check(node, lit.value);
      },
    };
  },
};

export default { rules: { 'module-faces': moduleFaces } };
