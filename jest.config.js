// Jest in native-ESM mode (the package is "type": "module"). Run through `npm test`, which starts
// node with --experimental-vm-modules. Mock ESM modules with `jest.unstable_mockModule(...)` followed
// by `await import(...)`; plain `jest.mock` hoisting does not apply to ESM.
import { createDefaultEsmPreset } from 'ts-jest'

// ts-jest's "default-esm" preset. tsconfig.json has `isolatedModules: true`, so ts-jest only
// transpiles each file (fast, no type check); `npm run typecheck` does the type checking.
const tsJestEsm = createDefaultEsmPreset({ tsconfig: 'tsconfig.json' })

/** @type {import('jest').Config} */
export default {
  ...tsJestEsm,
  testEnvironment: 'node',
  // NodeNext sources import './foo.js'; point relative imports back at the .ts file
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['**/__tests__/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/', '<rootDir>/lib/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/lib/'],
  testTimeout: 30000,
  // off by default; `npm test -- --coverage` uses these settings
  collectCoverage: false,
  collectCoverageFrom: ['src/**/*.ts'],
  coverageDirectory: 'coverage'
}
