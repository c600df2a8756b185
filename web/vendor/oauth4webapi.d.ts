// The pages load oauth4webapi as a plain ES module copied from the package (dist/web/vendor/oauth4webapi.js, by
// scripts/build-pages.ts: no bundler, no import map); this declaration gives tsc the package's own types for it.
export * from 'oauth4webapi';
