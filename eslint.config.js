// ESLint flat config: the recommended rules of ESLint and typescript-eslint
// (syntax-level, no type information, so linting stays fast); types are
// checked by `npm run typecheck` (tsc --noEmit) instead.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Node's globals for the few plain .js/.mjs/.cjs files (TypeScript files need none: tsc checks names). */
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'AbortController', 'TextEncoder', 'TextDecoder', 'require', 'module', '__dirname'].map((name) => [name, 'readonly']),
)

export default tseslint.config(
  { ignores: ['dist*/', 'node_modules/', '.tmp/', 'bench/results/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    rules: {
      // `_name` marks a deliberately unused binding; `const { a: _a, ...rest }` drops a field.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `import x = require('…')` is how a .cts file imports; plain require() calls stay flagged.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // The CLI and its tests match ANSI escape sequences (\x1b) on purpose.
      'no-control-regex': 'off',
    },
  },
)
