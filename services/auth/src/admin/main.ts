import { runAdmin } from "./run-admin.ts";

/** `npm run admin -- <command> <email> [--actor <name>] [--json]`; `--help` lists the commands. */
process.exitCode = await runAdmin(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
