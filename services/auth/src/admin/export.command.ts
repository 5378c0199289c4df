import { command } from "./admin-command.ts";

export const exportCommand = command({
  name: "export",
  changes: false,
  jsonOnly: true,
  summary: "the user's data as JSON (the right of access)",
  run: (support, request) => support.export(request),
  describe: () => [],
});
