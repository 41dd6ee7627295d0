/**
 * The architecture, enforced (issue 10 part 5): `npm run check:architecture`, and
 * tests/architecture.test.ts runs it under `npm test` (with the folder-cycle check next to it).
 *   - no file cycles, anywhere;
 *   - core imports no role (control, media, web, transcoder, tools);
 *   - media and control never import each other, tests included (shared wire schemas live in core);
 *   - the transcoder and control/media never import each other (they share the bus and core);
 *   - tools (stress/) reach control over HTTP or core only;
 *   - product code never imports a test file, a port contract or a test kit (`testing/` folders):
 *     scripts/build.mjs leaves those out of dist/.
 * Composition roots (onair.ts) and end-to-end tests (tests/) may import every role.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment: 'A file cycle: break it by moving what both sides need into a module of its own.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-role',
      comment: 'core/ is shared by every role: it cannot depend on one.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^(control|media|web|transcoder|stress|bench|tests)/|^onair\\.ts$' },
    },
    {
      name: 'media-not-control',
      comment: 'media/ never imports control/ (tests included): put the shared wire schema in core/.',
      severity: 'error',
      from: { path: '^media/' },
      to: { path: '^control/' },
    },
    {
      name: 'control-not-media',
      comment: 'control/ never imports media/ (tests included): it reaches media through core/media contracts.',
      severity: 'error',
      from: { path: '^control/' },
      to: { path: '^media/' },
    },
    {
      name: 'transcoder-not-control-or-media',
      comment: 'transcoder/ reads recording.finished from the bus and uses core/ only (tests included).',
      severity: 'error',
      from: { path: '^transcoder/' },
      to: { path: '^(control|media|web)/' },
    },
    {
      name: 'roles-not-transcoder',
      comment: 'control/ and media/ never import transcoder/ (the all-in-one onair.ts and tests/ compose them).',
      severity: 'error',
      from: { path: '^(control|media|web)/' },
      to: { path: '^transcoder/' },
    },
    {
      name: 'tools-reach-control-over-http',
      comment: 'stress/ drives control over HTTP (or core), never through its insides.',
      severity: 'error',
      from: { path: '^stress/' },
      to: { path: '^control/' },
    },
    {
      name: 'product-not-test-kits',
      comment: 'Test kits (testing/ folders), port contracts and tests are not built into dist/: product code cannot import them.',
      severity: 'error',
      from: { path: '^(core|control|media|web|transcoder)/|^onair\\.ts$', pathNot: '(^|/)testing/|\\.(test|contract)\\.ts$' },
      to: { path: '(^|/)testing/|\\.(test|contract)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
