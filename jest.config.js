/** Unit and integration tests run from TypeScript source through swc; tests that start real
 * processes spawn the compiled CLI in dist/, which `npm test` builds first. */
// @kubernetes/client-node 1.x and a few of its dependencies ship only ES modules; jest's CommonJS
// runtime cannot require them (Node 20 can, jest cannot before Node 24.9), so swc compiles them.
const esmOnlyPackages = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

module.exports = {
  // The node environment, plus killing child processes a test file left running (see the file).
  testEnvironment: '<rootDir>/test/support/reaping-environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    [`node_modules/(${esmOnlyPackages.join('|')})/.+\\.js$`]: [
      '@swc/jest',
      { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
  testTimeout: 60000,
  maxWorkers: 2,
};
