// Lint configuration for the whole repository (TypeScript, strict type-aware rules off for speed).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Package boundaries (core no-restricted-imports; patterns are gitignore-style, matched against
 * the import specifier as written, so relative paths count by the folders they name):
 * - the gateway deploys on its own: nothing of the development scripts, the network definition,
 *   the chaincode or the audit tool (the gateway configuration file carries what it needs) — but
 *   for the audit package's bundle exporter, which it declares as a dependency;
 * - the chaincode is packaged alone: relative imports, the protocol and the Fabric runtime only;
 * - the protocol is shared by everything: relative imports, zod and cbor-x only.
 * Node built-ins are allowed everywhere as `node:*`.
 */
const gatewayBoundary = {
  patterns: [
    {
      group: [
        '**/scripts/**',
        '**/network/**',
        '**/chaincode/**',
        // the audit CLI package (gateway/src/audit/ is the gateway's own /audit routes)
        '../../audit/**',
        '../../../audit/**',
        '../../../../audit/**',
        'mvsec-chaincode',
        'mvsec-chaincode/**',
      ],
      message:
        'gateway/src is a package of its own: take it from the gateway configuration (gateway/src/config/), not from scripts/, network/, chaincode/ or audit/.',
    },
    {
      // the audit package's CLI; its evidence-bundle exporter (`mvsec-audit/export`, a declared
      // dependency) is allowed: the gateway exports a bundle for an account as `mvsec export` does
      regex: '^mvsec-audit(?!/export$)(/.*)?$',
      message: 'the gateway takes only the bundle exporter (mvsec-audit/export) from the audit package.',
    },
  ],
};
/**
 * An allow-list: every specifier but relative paths, `node:*` and the named packages is an error.
 * A regex, not globs: gitignore-style negations cannot re-include `./x` or `../x` once `*` has
 * excluded them (`['*', '!./*', '!../*']` still reports every relative import).
 */
const only = (allowed, why) => ({
  patterns: [
    {
      regex: `^(?!(?:\\.{1,2}/|node:)|(?:${allowed.map((a) => a.replace(/\./g, '\\.')).join('|')})$)`,
      caseSensitive: true,
      message: why,
    },
  ],
});

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.dist/**', '.fabric/**', '.data*/**', '.venv*/**', '.schemathesis/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['gateway/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', gatewayBoundary] },
  },
  {
    // Other organisations' programs and the client library reach the gateway over HTTP only.
    files: ['client/src/**/*.ts', 'dpm-worker/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/gateway/**', '**/chaincode/**', 'mvsec-gateway', 'mvsec-gateway/**', 'mvsec-chaincode', 'mvsec-chaincode/**'],
              message:
                'client/ and dpm-worker/ talk to a gateway over HTTP (mvsec-client) and share only mvsec-protocol; never gateway or chaincode code.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['chaincode/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...only(
              ['mvsec-protocol', 'fabric-contract-api', 'fabric-shim', 'fabric-shim-api'],
              'the chaincode imports only relative paths, mvsec-protocol, fabric-contract-api, fabric-shim, fabric-shim-api and node:* built-ins.',
            ).patterns,
            {
              // relative paths that leave chaincode/ (the protocol comes by its package name)
              group: [
                '**/protocol/**',
                '**/gateway/**',
                '**/scripts/**',
                '**/network/**',
                '**/test/**',
                '**/demo/**',
                '../../audit/**',
                '../../../audit/**',
              ],
              message: 'the chaincode is packaged alone: no relative import out of chaincode/ (use mvsec-protocol).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['protocol/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        only(['zod', 'cbor-x'], 'the protocol imports only relative paths, zod, cbor-x and node:* built-ins.'),
      ],
    },
  },
);
