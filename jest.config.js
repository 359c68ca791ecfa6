'use strict';
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }]
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/tools/jest_global_setup.ts',
  globalTeardown: '<rootDir>/test/tools/jest_global_teardown.ts',
  detectOpenHandles: true,
  forceExit: false
};
