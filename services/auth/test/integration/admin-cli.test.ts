import assert from "node:assert/strict";
import { it } from "node:test";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import { eq } from "drizzle-orm";
import { backupCodes, sessions, twoFactorCredentials } from "../../src/db/schema.ts";
import { admin, auditOf, lastAudit } from "../support/admin-helpers.ts";
import { register, STRONG_PASSWORD, userRow, verifiedUser } from "../support/account-helpers.ts";
import { refresh, signedIn } from "../support/session-helpers.ts";
import { insertSession, lockedUntil, lockEmail, sessionRevokedAt } from "../support/session-rows.ts";
import { describeOnEachDatabase, type AuthTestContext } from "../support/test-app.ts";
import { twoFactorUser } from "../support/two-factor-helpers.ts";

/** What must never reach a support person's terminal: hashes, digests, and the secrets a test user holds. */
function assertNoSecrets(output: string, secrets: string[] = []): void {
  for (const marker of [
    "$argon2",
    "password_hash",
    "passwordHash",
    "tokenHash",
    "token_hash",
    "secretSealed",
  ]) {
    assert.ok(!output.includes(marker), `output shows ${marker}`);
  }
  for (const secret of secrets) assert.ok(!output.includes(secret), "output shows a secret");
}

const events = async (ctx: AuthTestContext, topic: string, userId: string) =>
  (await ctx.events()).filter((e) => e.topic === topic && e.key === userId);

await describeOnEachDatabase("admin CLI", { ACCOUNT_RESPONSE_FLOOR_MS: "0" }, (context) => {
  it("find shows the account and its state, never a hash; reads default the actor to $USER", async () => {
    const ctx = context();
    const { userId, refreshToken } = await signedIn(ctx, "find@example.com");
    const human = await admin(ctx, "find", "  FIND@example.com ");
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`id:\\s+${userId}`));
    assert.match(human.stdout, /role:\s+client/);
    assert.match(human.stdout, /2fa:\s+off/);
    assert.match(human.stdout, /active sessions:\s+1/);
    const json = await admin(ctx, "find", "find@example.com", "--json", "--actor", "ana");
    const account = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(account.id, userId);
    assert.equal(account.activeSessions, 1);
    assert.deepEqual(account.lockout, { locked: false, lockedUntil: null, failedAttempts: 0 });
    for (const run of [human, json])
      assertNoSecrets(run.stdout + run.stderr, [refreshToken, STRONG_PASSWORD]);
    const audit = await auditOf(ctx, "find@example.com");
    assert.deepEqual(
      audit.map((a) => [a.actor, a.command, a.outcome, a.userId]),
      [
        ["reader-on-shell", "find", "done", userId],
        ["ana", "find", "done", userId],
      ],
    );
    // The structured log line names who ran it.
    assert.match(json.stderr, /"msg":"admin command"/);
    assert.match(json.stderr, /"actor":"ana"/);
  });

  it("an unknown email exits 1 with a message (audited); usage errors exit 2 and touch nothing", async () => {
    const ctx = context();
    const unknown = await admin(ctx, "unlock", "nobody@example.com", "--actor", "ana");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No account with the email nobody@example\.com/);
    assert.equal((await lastAudit(ctx, "nobody@example.com"))?.outcome, "not_found");
    for (const argv of [
      ["unlock", "nobody2@example.com"],
      ["frobnicate", "nobody2@example.com"],
      ["find", "not-an-email"],
      ["find"],
      ["revoke-session", "nobody2@example.com", "not-a-uuid", "--actor", "ana"],
      ["find", "nobody2@example.com", "--bogus"],
    ]) {
      const run = await admin(ctx, ...argv);
      assert.equal(run.code, 2, `${argv.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^admin: /);
    }
    assert.deepEqual(await auditOf(ctx, "nobody2@example.com"), []);
    const help = await admin(ctx, "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /reset-2fa <email>/);
  });

  it("unlock clears the lock and the failures, recorded with the actor", async () => {
    const ctx = context();
    const { id } = await verifiedUser(ctx, "locked@example.com");
    await lockEmail(ctx, "locked@example.com");
    const run = await admin(ctx, "unlock", "locked@example.com", "--actor", "ana");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Unlocked locked@example\.com/);
    assert.equal(await lockedUntil(ctx, "locked@example.com"), null);
    const audit = await lastAudit(ctx, "locked@example.com");
    assert.deepEqual([audit?.actor, audit?.command, audit?.userId], ["ana", "unlock", id]);
    assert.equal(audit?.details.wasLocked, true);
  });

  it("resend-verification queues a new link through the mail queue, within the cooldown refuses", async () => {
    const ctx = context();
    await register(ctx, "resend@example.com");
    const verifyMails = async () =>
      (await ctx.mails()).filter(
        (m) => m.toAddress === "resend@example.com" && m.template === "verify-email",
      );
    assert.equal((await verifyMails()).length, 1);
    const early = await admin(ctx, "resend-verification", "resend@example.com", "--actor", "ana");
    assert.equal(early.code, 1);
    assert.match(early.stderr, /cooldown/);
    assert.equal((await lastAudit(ctx, "resend@example.com"))?.outcome, "refused");
    ctx.clock.advance(61_000);
    const run = await admin(ctx, "resend-verification", "resend@example.com", "--actor", "ana");
    assert.equal(run.code, 0, run.stderr);
    const mails = await verifyMails();
    assert.equal(mails.length, 2);
    assert.equal(mails[0]?.status, "pending");
    assertNoSecrets(run.stdout + run.stderr, [/token=([\w-]+)/.exec(mails[0]?.textBody ?? "")?.[1] ?? "?"]);
    assert.equal((await lastAudit(ctx, "resend@example.com"))?.outcome, "done");
    await verifiedUser(ctx, "already@example.com");
    const verified = await admin(ctx, "resend-verification", "already@example.com", "--actor", "ana");
    assert.equal(verified.code, 1);
    assert.match(verified.stderr, /already verified/);
  });

  it("mark-verified verifies once and publishes user.verified.v1 through the outbox", async () => {
    const ctx = context();
    await register(ctx, "mark@example.com");
    const { id } = await userRow(ctx, "mark@example.com");
    const run = await admin(ctx, "mark-verified", "mark@example.com", "--actor", "ana");
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await userRow(ctx, "mark@example.com")).emailVerifiedAt);
    const published = await events(ctx, "user.verified.v1", id);
    assert.equal(published.length, 1);
    assert.equal((published[0]?.data as { email?: string }).email, "mark@example.com");
    const again = await admin(ctx, "mark-verified", "mark@example.com", "--actor", "ana");
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already verified/);
    assert.equal((await events(ctx, "user.verified.v1", id)).length, 1);
    assert.deepEqual(
      (await auditOf(ctx, "mark@example.com")).map((a) => [a.actor, a.command, a.details.alreadyVerified]),
      [
        ["ana", "mark-verified", false],
        ["ana", "mark-verified", true],
      ],
    );
  });

  it("sessions lists live sessions; revoke-session ends one (kv key after commit), not another user's", async () => {
    const ctx = context();
    const { userId, refreshToken } = await signedIn(ctx, "sessions@example.com");
    const [live] = await ctx.database.db.select().from(sessions).where(eq(sessions.userId, userId));
    assert.ok(live);
    const listed = await admin(ctx, "sessions", "sessions@example.com", "--json", "--actor", "ana");
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as { id: string; amr: string[] }[];
    assert.deepEqual(
      rows.map((r) => [r.id, r.amr]),
      [[live.id, ["pwd"]]],
    );
    assertNoSecrets(listed.stdout, [refreshToken]);
    const stranger = await signedIn(ctx, "stranger@example.com");
    const [theirs] = await ctx.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.userId, stranger.userId));
    const refused = await admin(
      ctx,
      "revoke-session",
      "sessions@example.com",
      theirs?.id ?? "",
      "--actor",
      "ana",
    );
    assert.equal(refused.code, 1);
    assert.equal(await sessionRevokedAt(ctx, theirs?.id ?? ""), null);
    const run = await admin(ctx, "revoke-session", "sessions@example.com", live.id, "--actor", "ana");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /REDIS_URL is not set/);
    assert.ok(await sessionRevokedAt(ctx, live.id));
    assert.equal(await ctx.kv.get(revokedSessionKey(live.id)), "1");
    assert.equal((await refresh(ctx, refreshToken)).statusCode, 401);
    const audit = await lastAudit(ctx, "sessions@example.com");
    assert.deepEqual([audit?.actor, audit?.details.sessionId], ["ana", live.id]);
  });

  it("revoke-sessions ends every live session and publishes each revocation", async () => {
    const ctx = context();
    const { id } = await verifiedUser(ctx, "many-sessions@example.com");
    const ids = [await insertSession(ctx, id), await insertSession(ctx, id)];
    const run = await admin(ctx, "revoke-sessions", "many-sessions@example.com", "--actor", "ana", "--json");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      (JSON.parse(run.stdout) as { sessionIds: string[] }).sessionIds.toSorted(),
      ids.toSorted(),
    );
    for (const sid of ids) {
      assert.ok(await sessionRevokedAt(ctx, sid));
      assert.equal(await ctx.kv.get(revokedSessionKey(sid)), "1");
    }
  });

  it("reset-2fa turns 2FA off, deletes secret and codes, ends sessions, mails and publishes", async () => {
    const ctx = context();
    const user = await twoFactorUser(ctx, "reset@example.com");
    const run = await admin(ctx, "reset-2fa", "reset@example.com", "--actor", "ana");
    assert.equal(run.code, 0, run.stderr);
    assertNoSecrets(run.stdout + run.stderr, [user.secret, ...user.backupCodes]);
    assert.equal((await userRow(ctx, "reset@example.com")).twoFactorEnabledAt, null);
    const db = ctx.database.db;
    assert.deepEqual(
      await db.select().from(twoFactorCredentials).where(eq(twoFactorCredentials.userId, user.userId)),
      [],
    );
    assert.deepEqual(await db.select().from(backupCodes).where(eq(backupCodes.userId, user.userId)), []);
    const mail = (await ctx.mails()).find((m) => m.toAddress === "reset@example.com");
    assert.equal(mail?.template, "two-factor-disabled");
    assert.equal((await events(ctx, "user.2fa_disabled.v1", user.userId)).length, 1);
    const live = await db.select().from(sessions).where(eq(sessions.userId, user.userId));
    assert.ok(live.length > 0 && live.every((s) => s.revokedAt !== null));
    for (const s of live) assert.equal(await ctx.kv.get(revokedSessionKey(s.id)), "1");
    assert.equal((await lastAudit(ctx, "reset@example.com"))?.actor, "ana");
    const again = await admin(ctx, "reset-2fa", "reset@example.com", "--actor", "ana");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not on/);
  });

  it("export gives the user's data as JSON without hashes, tokens or secrets", async () => {
    const ctx = context();
    const user = await twoFactorUser(ctx, "export@example.com");
    const run = await admin(ctx, "export", "export@example.com", "--actor", "ana");
    assert.equal(run.code, 0, run.stderr);
    const data = JSON.parse(run.stdout) as Record<string, unknown> & {
      account: { id: string };
      twoFactor: { enabled: boolean; backupCodesRemaining: number };
      sessions: unknown[];
      mails: { template: string }[];
      events: { topic: string }[];
    };
    assert.equal(data.account.id, user.userId);
    assert.deepEqual([data.twoFactor.enabled, data.twoFactor.backupCodesRemaining], [true, 10]);
    assert.ok(data.sessions.length >= 1);
    assert.deepEqual(
      data.mails.map((m) => m.template),
      ["verify-email", "two-factor-enabled"],
    );
    assert.ok(data.events.some((e) => e.topic === "user.2fa_enabled.v1"));
    assertNoSecrets(run.stdout, [user.secret, user.refreshToken, user.accessToken, ...user.backupCodes]);
    assert.ok(!run.stdout.includes("textBody") && !run.stdout.includes("token="), "no mail bodies or links");
    assert.equal((await lastAudit(ctx, "export@example.com"))?.command, "export");
  });
});
