// ESLint (flat config): the TypeScript sources only, with eslint's and typescript-eslint's
// recommended rules. The .js/.d.ts beside them are tsc's output and are not linted.
// Formatting is prettier's job (`npm run format:check`); no rule here is about layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/*.js', '**/*.d.ts', 'node_modules/', '.tap/', 'coverage/', 'bench/results/'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      // A leading underscore marks a binding left unused on purpose: a field dropped from a
      // destructured rest (`const { text: _text, ...meta } = o`), a callback's unused parameter.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Every control character in our regexes is there on purpose (characters XML 1.0 forbids,
      // NUL and unit separators in keys), written as escapes; the rule only flags those.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read JSON lines and reach into results' shapes; typing every parsed line adds nothing.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
