import pg from "pg";

/** `pg.Client.prototype`, whose `query` every pooled client (and so drizzle) sends statements with. */
const client = pg.Client.prototype as unknown as { query: (this: pg.Client, ...args: unknown[]) => unknown };

/**
 * The SQL text of every statement sent to PostgreSQL through `pg` while `work` runs, in order (parameters
 * left out: two calls that differ only in their values send the same list). For tests that check two paths
 * cost the server the same statements; nothing else may use the database meanwhile.
 */
export async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = client.query;
  client.query = function (...args) {
    const [config] = args;
    sent.push(typeof config === "string" ? config : (config as { text: string }).text);
    return query.apply(this, args);
  };
  try {
    await work();
    return sent;
  } finally {
    client.query = query;
  }
}
