/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `npm run typecheck`'s job; tests only need the code.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
  },
  testTimeout: 30000,
  // The test files moved into test/unit and test/integration unchanged; until
  // their imports are updated, resolve the old relative paths.
  moduleNameMapper: {
    '^\\.\\./src/(.*)$': '<rootDir>/src/$1',
    '^\\./helpers/(.*)$': '<rootDir>/test/helpers/$1',
  },
};
