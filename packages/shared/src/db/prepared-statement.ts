import { sql, type SQL } from "drizzle-orm";
import { PgDialect, type PgPreparedQuery, type PreparedQueryConfig } from "drizzle-orm/pg-core";
import type { Executor } from "./database.ts";

const dialect = new PgDialect();

/** Runs the statement on a database or inside a transaction and answers its rows (as `queryRows` does). */
export type PreparedStatement<Params, Row> = (db: Executor, values: Params) => Promise<Row[]>;

/**
 * A hot raw statement whose SQL text is rendered once, at module load, and sent as a named prepared
 * statement: drizzle otherwise walks the whole template on every call (a fifth of a login's event-loop time
 * before this), and PostgreSQL parses and plans a named statement once per connection instead of per call.
 *
 * `build` receives a placeholder in place of each parameter, so it must only interpolate them into `sql`,
 * one field at a time, never spread them (a placeholder object has no keys: the statement then lacks its
 * values and fails on first use) nor compute with them (turning one into JSON or text throws at module load;
 * a value that needs encoding goes through `sql.param(value, column)`). Rows come back as from `queryRows`:
 * named by the statement's columns, timestamps as text from `pg` and `Date` from PGlite.
 */
export function preparedStatement<Params extends object, Row extends Record<string, unknown>>(
  name: string,
  build: (params: Params) => SQL,
): PreparedStatement<Params, Row> {
  const placeholders = new Proxy({} as Params, {
    get: (_, key) => (typeof key === "string" ? guarded(name, sql.placeholder(key)) : undefined),
  });
  const query = dialect.sqlToQuery(build(placeholders));
  type Config = PreparedQueryConfig & { execute: { rows: Row[] } };
  // One prepared query object per executor: the pool's is reused for ever; a transaction's lives with it.
  const perExecutor = new WeakMap<Executor, PgPreparedQuery<Config>>();
  return async (db, values) => {
    let prepared = perExecutor.get(db);
    if (!prepared) {
      prepared = db._.session.prepareQuery<Config>(query, undefined, name, false);
      perExecutor.set(db, prepared);
    }
    return (await prepared.execute(values as Record<string, unknown>)).rows;
  };
}

/** A placeholder that refuses to be turned into JSON or text, which would send that instead of the value. */
function guarded<T extends { name: string }>(statement: string, placeholder: T): T {
  const refuse = () => {
    throw new Error(`prepared statement ${statement}: parameter ${placeholder.name} used as a value`);
  };
  return Object.assign(placeholder, { toJSON: refuse, toString: refuse, [Symbol.toPrimitive]: refuse });
}
