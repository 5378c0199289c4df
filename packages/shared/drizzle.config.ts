import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/infra-schema.ts",
  out: "./drizzle",
});
