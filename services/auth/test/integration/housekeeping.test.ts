import assert from "node:assert/strict";
import { beforeEach, it } from "node:test";
import { eq, isNull } from "drizzle-orm";
import { mailQueue, outboxEvents } from "@mimascota/shared/db/infra-schema";
import { createLogger } from "@mimascota/shared/logger";
import { loginThrottles, oneTimeTokens, refreshTokens, sessions } from "../../src/db/schema.ts";
import { Housekeeper } from "../../src/housekeeping.ts";
import { AuthMetrics } from "../../src/metrics.ts";
import { problem, register, userRow, verifiedUser } from "../support/account-helpers.ts";
import { login, logout, refresh, refreshCookie, signedIn } from "../support/session-helpers.ts";
import { describeOnEachDatabase, type AuthTestContext } from "../support/test-app.ts";

const DAY = 86400_000;
const WRONG = "definitely not the password";

const housekeeper = (ctx: AuthTestContext) =>
  new Housekeeper({
    db: ctx.database.db,
    clock: ctx.clock,
    logger: createLogger("housekeeping-test", "silent"),
    settings: ctx.config,
  });

async function failLogins(ctx: AuthTestContext, email: string, times: number) {
  for (let i = 0; i < times; i++) assert.equal((await login(ctx, email, WRONG)).statusCode, 401);
}

async function sessionIdOf(ctx: AuthTestContext, email: string) {
  const user = await userRow(ctx, email);
  const [row] = await ctx.database.db.select().from(sessions).where(eq(sessions.userId, user.id));
  return row?.id;
}

async function throttleEmails(ctx: AuthTestContext) {
  const rows = await ctx.database.db.select({ email: loginThrottles.email }).from(loginThrottles);
  return rows.map((r) => r.email).sort();
}

await describeOnEachDatabase("housekeeping", { ACCOUNT_RESPONSE_FLOOR_MS: "0" }, (context) => {
  let ctx: AuthTestContext;
  beforeEach(() => {
    ctx = context();
  });

  it("deletes what ended more than the retention ago, keeps what still matters, and is idempotent", async () => {
    const { refreshToken: liveToken } = await signedIn(ctx, "live@example.com");
    const { refreshToken: goneToken } = await signedIn(ctx, "gone@example.com");
    const goneSession = await sessionIdOf(ctx, "gone@example.com");
    assert.equal((await logout(ctx, goneToken)).statusCode, 204);
    await failLogins(ctx, "stranger@example.com", 3);
    await verifiedUser(ctx, "locked@example.com");
    await failLogins(ctx, "locked@example.com", 10);
    await register(ctx, "pending@example.com");
    const start = ctx.clock.now();
    const [mail] = await ctx.mails();
    await ctx.database.db
      .update(mailQueue)
      .set({ status: "sent", sentAt: start })
      .where(eq(mailQueue.id, mail!.id));
    const [event] = await ctx.events();
    await ctx.database.db
      .update(outboxEvents)
      .set({ publishedAt: start })
      .where(eq(outboxEvents.id, event!.id));

    ctx.clock.advance(9 * DAY);
    // Still mattering at the time of the pass: fresh failures, a lock in force, a new verification token.
    await failLogins(ctx, "recent@example.com", 2);
    await verifiedUser(ctx, "nowlocked@example.com");
    await failLogins(ctx, "nowlocked@example.com", 10);
    await register(ctx, "fresh@example.com");

    const deleted = await housekeeper(ctx).runOnce();
    assert.equal(deleted.sessions, 1, "only the session revoked 9 days ago");
    assert.equal(deleted.mail_queue, 1);
    assert.equal(deleted.outbox_events, 1);
    assert.ok(deleted.one_time_tokens! >= 1, "the verification token that expired 8 days ago");
    assert.deepEqual(await throttleEmails(ctx), ["nowlocked@example.com", "recent@example.com"]);

    const goneTokens = await ctx.database.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.sessionId, goneSession!));
    assert.equal(goneTokens.length, 0, "a deleted session takes its refresh tokens along");
    const stale = await refresh(ctx, goneToken);
    assert.equal(stale.statusCode, 401);
    assert.equal(problem(stale).code, "INVALID_REFRESH_TOKEN");
    const live = await refresh(ctx, liveToken);
    assert.equal(live.statusCode, 200, "a live session keeps working");
    const pending = await userRow(ctx, "pending@example.com");
    const pendingTokens = await ctx.database.db
      .select()
      .from(oneTimeTokens)
      .where(eq(oneTimeTokens.userId, pending.id));
    assert.equal(pendingTokens.length, 0);
    const fresh = await userRow(ctx, "fresh@example.com");
    const freshTokens = await ctx.database.db
      .select()
      .from(oneTimeTokens)
      .where(eq(oneTimeTokens.userId, fresh.id));
    assert.equal(freshTokens.length, 1, "a token still valid is kept");
    const unpublished = await ctx.database.db
      .select()
      .from(outboxEvents)
      .where(isNull(outboxEvents.publishedAt));
    assert.ok(unpublished.length > 0, "events not yet published are never deleted");

    const keeper = housekeeper(ctx);
    const again = await keeper.runOnce();
    assert.ok(
      Object.values(again).every((n) => n === 0),
      JSON.stringify(again),
    );
    const metrics = new AuthMetrics({
      defaultMetrics: false,
      housekeepingTotals: () => keeper.totals(),
      housekeepingSchedule: { lastPass: () => keeper.lastPassAt(), intervalSeconds: 3600 },
    });

    // Past the absolute end (30 days) plus the retention: the once-live session goes too.
    ctx.clock.advance(30 * DAY);
    assert.equal((await keeper.runOnce()).sessions, 1);
    const scraped = await metrics.registry.metrics();
    assert.match(scraped, /^auth_housekeeping_deleted_total\{table="sessions"\} 1$/m);
    assert.match(scraped, /^auth_housekeeping_deleted_total\{table="mail_queue"\} 0$/m);
    const lastPass = /^auth_housekeeping_last_pass_timestamp_seconds (\S+)$/m.exec(scraped)?.[1];
    assert.equal(Number(lastPass), ctx.clock.now().getTime() / 1000, "the pass that just finished");
    assert.equal(await sessionIdOf(ctx, "live@example.com"), undefined);
    assert.equal((await refresh(ctx, refreshCookie(ctx, live).value)).statusCode, 401);
  });

  it("waits a whole interval before its first pass, and stop ends the wait (no hour-long hang)", async () => {
    const { refreshToken } = await signedIn(ctx, "waiting@example.com");
    assert.equal((await logout(ctx, refreshToken)).statusCode, 204);
    ctx.clock.advance(30 * DAY);
    const keeper = housekeeper(ctx);
    keeper.start();
    await keeper.stop();
    assert.ok(await sessionIdOf(ctx, "waiting@example.com"), "no pass ran before the first interval");
    const totals = keeper.totals();
    assert.equal(Object.keys(totals).length, 6, "every table has its series from the start");
    assert.ok(Object.values(totals).every((n) => n === 0));
  });
});
