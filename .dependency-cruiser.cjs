// The layers of docs/architecture.md, enforced: imports go down only,
//   cli -> (pipeline | inspect | preflight | migrate | job) -> (checkpoint | criu) -> (images | kernel) -> errors,
// checkpoint and criu never import each other, images and kernel neither. src/archive counts as the
// checkpoint layer until it is folded into src/checkpoint. Type-only imports count too: a type is a
// dependency on the module that owns it.

const layer = (...dirs) => `^src/(${dirs.join('|')})/`;
const CLI = layer('cli');
const UPPER = layer('pipeline', 'inspect', 'preflight', 'migrate', 'job');
const CHECKPOINT = layer('checkpoint', 'archive');
const CRIU = layer('criu');
const IMAGES = layer('images');
const KERNEL = layer('kernel');

/** A rule forbidding imports from `from` to `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle makes layers meaningless and load order fragile (types and lazy imports load nothing at start)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'dynamic-import'] } },
    },
    forbid('src-not-to-test-or-bench', 'the shipped code cannot depend on what is not shipped', '^src/', '^(test|bench|scripts|tools)/'),
    forbid('only-cli-imports-cli', 'cli is the top layer: nothing under it may reach up', '^src/(?!cli/)', CLI),
    forbid('library-not-to-index', 'src/index.ts is the public surface for users, not a shortcut inside src/', '^src/(?!cli/|index\\.ts$)', '^src/index\\.ts$'),
    forbid('upper-goes-down', 'pipeline, inspect, preflight, migrate and job are above checkpoint and criu', '^src/(checkpoint|archive|criu|images|kernel)/|^src/errors\\.ts$', UPPER),
    forbid('checkpoint-not-to-criu', 'checkpoint and criu are siblings: neither imports the other', CHECKPOINT, CRIU),
    forbid('criu-not-to-checkpoint', 'checkpoint and criu are siblings: neither imports the other', CRIU, CHECKPOINT),
    forbid('middle-goes-down', 'images and kernel are below checkpoint and criu', '^src/(images|kernel)/|^src/errors\\.ts$', '^src/(checkpoint|archive|criu)/'),
    forbid('images-not-to-kernel', 'images and kernel are siblings: neither imports the other', IMAGES, KERNEL),
    forbid('kernel-not-to-images', 'images and kernel are siblings: neither imports the other', KERNEL, IMAGES),
    forbid('errors-is-the-bottom', 'errors.ts is below everything', '^src/errors\\.ts$', '^src/'),
    {
      name: 'src-not-to-dev-dependencies',
      comment: 'an installed cryo has no devDependencies: the library and the CLI must not need one',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unlisted-packages',
      comment: 'every package src/ imports is in package.json',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import that does not resolve fails at run time',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    // TypeScript 7 has no compiler API for dependency-cruiser; swc parses .ts and keeps type-only imports
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
