/** Unit and integration tests run from TypeScript source through swc; tests that start real
 * processes spawn the compiled CLI in dist/, which `npm test` builds first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
