import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql, type SQLWrapper } from "drizzle-orm";
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

/**
 * The rows of a raw SQL statement. Both drivers answer `execute` with `{ rows }`; column names are as the
 * statement says, and timestamps come back as text from `pg` (drizzle keeps them raw) but as `Date` from
 * PGlite, so callers parse them with `new Date(value)`.
 */
export async function queryRows<Row extends Record<string, unknown>>(
  db: Executor,
  statement: SQLWrapper,
): Promise<Row[]> {
  const result: unknown = await db.execute(statement);
  return (result as { rows: Row[] }).rows;
}

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
  // Nor may a checked-out one: the pool listens for errors only on idle clients, and a server crash makes a
  // checked-out client emit `error` ("Connection terminated unexpectedly") besides failing its queries. Those
  // failures reach the caller, and the client is dropped when it is released.
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = drizzlePg(pool) as unknown as Database;
  db.transaction = poolSafeTransaction(pool);
  return {
    db,
    kind: "postgres",
    // Under a session advisory lock named after the migrations table: replicas that start together (an init
    // container per pod) migrate one at a time, and those after the first find nothing left to apply.
    migrate: (migrationsFolder, migrationsTable) =>
      withPooledClient(pool, async (client, keep) => {
        await client.query("select pg_advisory_lock(hashtext($1))", [migrationsTable]);
        try {
          await migratePg(drizzlePg({ client }), { migrationsFolder, migrationsTable });
        } finally {
          await client.query("select pg_advisory_unlock(hashtext($1))", [migrationsTable]);
        }
        keep();
      }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
  };
}

/**
 * drizzle 0.45's node-postgres `transaction()` on a pool sends BEGIN outside its try/finally: when BEGIN fails
 * (the server crashed or terminated the connection) the client is never released, the pool shrinks for good
 * and `pool.end()` waits on it forever. So the client is checked out here and always released, and drizzle
 * runs the transaction on that client alone (where it releases nothing). Only a client whose transaction
 * ended cleanly (committed, or rolled back after the work threw) goes back to the pool; after a failed
 * BEGIN, COMMIT or ROLLBACK its state is unknown and it is destroyed.
 */
function poolSafeTransaction(pool: pg.Pool): Database["transaction"] {
  return (work, config) =>
    withPooledClient(pool, async (client, keep) => {
      let workFailure: { error: unknown } | undefined;
      try {
        const result = await drizzlePg({ client }).transaction(async (tx) => {
          try {
            return await work(tx);
          } catch (error) {
            workFailure = { error };
            throw error;
          }
        }, config);
        keep();
        return result;
      } catch (error) {
        // drizzle rethrows the work's own error only when its ROLLBACK succeeded.
        if (workFailure && workFailure.error === error) keep();
        throw error;
      }
    });
}

/**
 * Runs `use` on a client checked out of the pool and always releases it: back to the pool if `use` called
 * `keep()`, else destroyed (`release(true)`), so a broken connection is never handed out again.
 */
async function withPooledClient<T>(
  pool: pg.Pool,
  use: (client: pg.PoolClient, keep: () => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let healthy = false;
  try {
    return await use(client, () => {
      healthy = true;
    });
  } finally {
    client.release(!healthy);
  }
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
