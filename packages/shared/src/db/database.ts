import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";

/** The query builder both drivers share; services and repositories only ever see this. */
export type Database = PgDatabase<PgQueryResultHKT>;
/** A transaction handle, accepted wherever a repository method may join the caller's transaction. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: "postgres" | "pglite";
  /** Applies the SQL migrations of one folder; each folder keeps its own journal table. */
  migrate(migrationsFolder: string, migrationsTable: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// int8 and numeric come back as strings from `pg` but as numbers from PGlite; make `pg` agree so raw SQL
// results have one shape on both.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface DatabaseOptions {
  /** postgres:// URL; unset means embedded PGlite under `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) return openPostgres(options.url, options.poolSize ?? 10);
  return openPglite(join(options.dataDir, "pglite"));
}

function openPostgres(url: string, max: number): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its server must not crash the process; the next checkout reconnects.
  pool.on("error", () => {});
  const db = drizzlePg(pool) as unknown as Database;
  return {
    db,
    kind: "postgres",
    migrate: (migrationsFolder, migrationsTable) =>
      migratePg(drizzlePg(pool), { migrationsFolder, migrationsTable }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
  };
}

async function openPglite(dir: string): Promise<DatabaseHandle> {
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzlePglite(client) as unknown as Database;
  return {
    db,
    kind: "pglite",
    migrate: (migrationsFolder, migrationsTable) =>
      migratePglite(drizzlePglite(client), { migrationsFolder, migrationsTable }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}
