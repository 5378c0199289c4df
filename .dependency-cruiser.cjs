/**
 * The import graph `npm run check` enforces: no cycles, and arrows that point down the layers only
 * (routes → services → repositories). Type-only imports count too: a cycle of types is still a cycle a reader
 * has to untangle.
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "repositories-do-not-import-services",
      comment: "Repositories hold side effects; rules live above them and call down.",
      severity: "error",
      from: { path: "^services/[^/]+/src/repositories/" },
      to: { path: "^services/[^/]+/src/(services|routes)/" },
    },
    {
      name: "routes-do-not-import-repositories",
      comment: "A handler calls a service; SQL stays behind it.",
      severity: "error",
      from: { path: "^services/[^/]+/src/routes/" },
      to: { path: "^services/[^/]+/src/repositories/" },
    },
    {
      name: "services-do-not-import-routes",
      severity: "error",
      from: { path: "^services/[^/]+/src/services/" },
      to: { path: "^services/[^/]+/src/routes/" },
    },
    {
      name: "admin-commands-do-not-import-repositories",
      comment:
        "The admin CLI is an edge like the routes: a command calls a service; only its composition builds repositories.",
      severity: "error",
      from: { path: "^services/[^/]+/src/admin/.+[.]commands?[.]ts$" },
      to: { path: "^services/[^/]+/src/repositories/" },
    },
    {
      name: "layers-do-not-import-admin",
      severity: "error",
      from: { path: "^services/[^/]+/src/(services|repositories|routes|domain)/" },
      to: { path: "^services/[^/]+/src/admin/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "(^|/)(test|bench)/|node_modules" },
  },
};
