// Lint: the recommended rules of ESLint and typescript-eslint, without type-aware rules (fast).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import smartcar from './eslint/module-faces.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'smartcar-data/**', 'dist/**', 'coverage/**', '**/*.d.ts', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Modules meet only at their faces, index.ts and cli.ts (eslint/module-faces.js). Tests and benches may reach inside.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/**/*.test.ts'],
    plugins: { smartcar },
    rules: {
      'smartcar/module-faces': ['error', {
        allow: [],
      }],
    },
  },
);
