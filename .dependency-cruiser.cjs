/** Module boundaries, checked by `npm test` (lint:deps). */
const IO_CORE_MODULES =
  '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|tls|child_process|cluster|worker_threads|process|os|readline|inspector|v8|vm)$';

module.exports = {
  forbidden: [
    {
      name: 'engine-does-no-io',
      comment:
        'services/engine is the pure core (decode, segment, parse, correlate, sign, cluster): it must not do I/O. ' +
        'Services and workers feed it bytes and store its results.',
      severity: 'error',
      from: { path: '^services/engine/' },
      to: {
        dependencyTypes: ['core'],
        path: IO_CORE_MODULES,
      },
    },
    {
      name: 'engine-uses-no-io-packages',
      severity: 'error',
      from: { path: '^services/engine/' },
      to: { path: '(^|/)node_modules/(@prisma|prisma|bullmq|ioredis|@aws-sdk|fastify|pino|pg)(/|$)' },
    },
    {
      name: 'engine-is-a-leaf',
      comment: 'The engine imports nothing from the rest of the project.',
      severity: 'error',
      from: { path: '^services/engine/' },
      to: { path: '^(services/(?!engine/)|workers/|bench/|bin/|test/)' },
    },
    {
      name: 'no-circular',
      comment: 'Cycles make modules impossible to read or test alone. (Prisma\'s generated client is its own business.)',
      severity: 'error',
      from: { pathNot: '^services/db/generated/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // dependency-cruiser reads TypeScript through `typescript` < 7 or through swc; this repo is on TypeScript 7.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
