// ESLint flat config. Only correctness rules: formatting is left entirely to Prettier
// (`npm run lint` runs `prettier --check` after eslint), so no eslint-config-prettier is needed.
import { defineConfig, globalIgnores } from 'eslint/config'
import { builtinRules } from 'eslint/use-at-your-own-risk'
import tseslint from 'typescript-eslint'

// ESLint 10 no longer ships @eslint/js, whose `configs.recommended` is exactly the set of core
// rules flagged `meta.docs.recommended`. Build it from the rules bundled with the installed eslint
// instead of adding a dependency.
const eslintRecommended = {
  name: 'eslint/recommended (from builtin rule metadata)',
  rules: Object.fromEntries(
    [...builtinRules]
      .filter(([, rule]) => rule.meta?.docs?.recommended === true)
      .map(([name]) => [name, 'error'])
  )
}

// Globals of the Node.js scripts and config files (*.js, *.mjs); inline so that the `globals`
// package is not needed.
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone'
  ].map(name => [name, 'readonly'])
)

const unusedVars = [
  'error',
  {
    args: 'after-used',
    argsIgnorePattern: '^_',
    varsIgnorePattern: '^_',
    caughtErrorsIgnorePattern: '^_',
    destructuredArrayIgnorePattern: '^_'
  }
]

export default defineConfig([
  globalIgnores(['dist/', 'lib/', 'coverage/', 'node_modules/', 'bench/out/']),

  eslintRecommended,

  {
    name: 'project/js',
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: nodeGlobals
    },
    rules: {
      'no-unused-vars': unusedVars
    }
  },

  {
    name: 'project/ts',
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': unusedVars
    }
  },

  {
    // Tests handle untyped JSON bodies and Jest's asymmetric matchers (`expect.any(...)`,
    // `expect.stringContaining(...)` are typed `any` by @types/jest), and pass mocked methods
    // around (`expect(obj.fn).toHaveBeenCalled()`): these rules only produce noise there.
    name: 'project/tests',
    files: ['__tests__/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off'
    }
  }
])
