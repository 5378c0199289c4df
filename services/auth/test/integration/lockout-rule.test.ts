import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Database } from "@mimascota/shared/db/database";
import { skipUnless } from "@mimascota/shared/testing/services";
import { users } from "../../src/db/schema.ts";
import { afterAttempt, type LockoutSettings, type ThrottleState } from "../../src/domain/lockout-policy.ts";
import { LoginThrottleRepository } from "../../src/repositories/login-throttle.repository.ts";
import { LoginRepository, NO_ACCOUNT } from "../../src/repositories/login.repository.ts";
import { openAuthDatabase } from "../support/migrated-database.ts";

/** The contract's defaults: 10 failures within 15 minutes lock for 30 minutes, doubling up to 24 hours. */
const settings: LockoutSettings = {
  threshold: 10,
  windowMs: 900_000,
  durationMs: 1_800_000,
  maxDurationMs: 86_400_000,
};
const MIN = 60;
const HOUR = 3600;
const t0 = Date.parse("2026-03-01T10:00:00Z");
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** A scenario step, in seconds after t0: wrong passwords, or the right one and whether it must sign in. */
type Step = { fail: number; at: number } | { signIn: "opens" | "locked"; at: number };
const fail = (times: number, seconds: number): Step => ({ fail: times, at: seconds });
const opens = (seconds: number): Step => ({ signIn: "opens", at: seconds });
const locked = (seconds: number): Step => ({ signIn: "locked", at: seconds });

/** Lock after lock: each holds a second before its end and lets the right password in at its end. */
function escalating(): Step[] {
  const steps: Step[] = [];
  let start = 0;
  for (const duration of [30 * MIN, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, 24 * HOUR, 24 * HOUR]) {
    steps.push(fail(10, start), locked(start + duration - 1), opens(start + duration));
    start += duration;
  }
  return steps;
}

const scenarios: Record<string, Step[]> = {
  "the first attempt, with no throttle row yet, signs in": [opens(0)],
  "below the threshold: 9 failures do not lock": [fail(9, 0), opens(0)],
  "at the threshold: the 10th failure locks": [fail(10, 0), locked(0)],
  "locked until the lock's last second": [fail(10, 0), locked(30 * MIN - 1)],
  "lock expired: the right password signs in at 30 minutes": [fail(10, 0), opens(30 * MIN)],
  "attempts while locked do not extend the lock": [fail(10, 0), fail(20, 29 * MIN), opens(30 * MIN)],
  "window expired: failures older than 15 minutes are forgotten": [
    fail(9, 0),
    fail(9, 15 * MIN),
    opens(15 * MIN),
  ],
  "within the window failures add up": [fail(9, 0), fail(1, 15 * MIN - 1), locked(15 * MIN - 1)],
  "escalating durations, doubling up to the 24-hour max": escalating(),
  "the doubling is remembered until twice the max has passed": [
    fail(10, 0),
    opens(30 * MIN),
    fail(10, 48 * HOUR - 1),
    locked(48 * HOUR - 1 + HOUR - 1),
    opens(48 * HOUR - 1 + HOUR),
  ],
  "the doubling fades once twice the max has passed": [
    fail(10, 0),
    opens(30 * MIN),
    fail(10, 48 * HOUR),
    locked(48 * HOUR + 30 * MIN - 1),
    opens(48 * HOUR + 30 * MIN),
  ],
  "reset after success: 9 more failures do not lock": [fail(9, 0), opens(0), fail(9, 0), opens(0)],
  "a success keeps the lock history: the next lock doubles": [
    fail(10, 0),
    opens(30 * MIN),
    fail(10, 30 * MIN),
    locked(90 * MIN - 1),
    opens(90 * MIN),
  ],
};

interface TestUser {
  id: string;
  email: string;
  passwordHash: string;
}

/** A verified account without 2FA: one a right password alone signs in to. */
async function insertUser(db: Database): Promise<TestUser> {
  const user = { id: randomUUID(), email: `${randomUUID()}@example.com`, passwordHash: "$argon2id$stand-in" };
  await db.insert(users).values({ ...user, createdAt: at(0), emailVerifiedAt: at(0) });
  return user;
}

function newSessionRows(userId: string, now: Date) {
  const expiresAt = new Date(now.getTime() + 30 * 86_400_000);
  const session = {
    id: randomUUID(),
    userId,
    amr: ["pwd"],
    userAgent: null,
    ip: null,
    createdAt: now,
    expiresAt,
  };
  return [session, { id: randomUUID(), tokenHash: randomUUID(), expiresAt }] as const;
}

/**
 * The lockout rule has two forms: the lockout policy in TypeScript (`afterAttempt` on the row taken under its
 * lock, the login's transaction) and its SQL in the clean login's one statement (`passwordLoginGuard`). One
 * table of scenarios runs through both, on both databases: each right password must sign in or be refused as
 * the table says, and leave the same throttle row in either form. The failures in between are counted the one
 * way there is (the statement never counts one: a refused login's transaction does).
 */
for (const kind of ["postgres", "pglite"] as const) {
  const skip = kind === "postgres" && (await skipUnless("postgres"));
  describe(`the lockout rule, in TypeScript and in the login's one statement (${kind})`, { skip }, () => {
    let database: Awaited<ReturnType<typeof openAuthDatabase>> | undefined;
    let db: Database;
    let throttles: LoginThrottleRepository;
    let logins: LoginRepository;
    before(async () => {
      database = await openAuthDatabase(kind);
      db = database.db;
      throttles = new LoginThrottleRepository({ db });
      logins = new LoginRepository({ db });
    });
    after(() => database?.close());

    /** A wrong password, as the login's transaction counts it. */
    const failOnce = (email: string, now: Date) =>
      db.transaction(async (tx) => {
        const attempt = afterAttempt(await throttles.lockState(tx, email, now), now, false, settings);
        if (attempt.kind !== "locked-already") await throttles.save(tx, email, attempt.state);
      });

    /** The two forms of a right password on a clean account: whether it signed in. */
    const forms: Record<"policy" | "statement", (user: TestUser, now: Date) => Promise<boolean>> = {
      // As `LoginService` decides in its transaction (it writes only when there are failures to forget).
      policy: (user, now) =>
        db.transaction(async (tx) => {
          const state = await throttles.lockState(tx, user.email, now);
          const attempt = afterAttempt(state, now, true, settings);
          if (attempt.kind !== "passed") return false;
          if (state.failureCount > 0) await throttles.save(tx, user.email, attempt.state);
          return true;
        }),
      statement: (user, now) =>
        logins.openSessionAfterPasswordCheck(
          { email: user.email, passwordHash: user.passwordHash },
          ...newSessionRows(user.id, now),
        ),
    };

    for (const [name, steps] of Object.entries(scenarios)) {
      it(name, async () => {
        const seen: Record<string, { signedIn: boolean; row: ThrottleState | undefined }[]> = {};
        for (const [form, signIn] of Object.entries(forms)) {
          const user = await insertUser(db);
          const afterEachSignIn: (typeof seen)[string] = [];
          for (const step of steps) {
            if ("fail" in step) {
              for (let i = 0; i < step.fail; i++) await failOnce(user.email, at(step.at));
              continue;
            }
            const signedIn = await signIn(user, at(step.at));
            assert.equal(signedIn, step.signIn === "opens", `${form}: the right password at ${step.at} s`);
            afterEachSignIn.push({ signedIn, row: await throttles.find(user.email) });
          }
          seen[form] = afterEachSignIn;
        }
        assert.deepEqual(seen.statement, seen.policy, "both forms leave the same throttle row");
      });
    }

    it("the statement of a refused attempt opens nothing and leaves the row as it was, locked or not", async () => {
      const user = await insertUser(db);
      const refused = {
        "unknown email or wrong password": () =>
          logins.openSessionAfterPasswordCheck(
            { email: user.email, passwordHash: NO_ACCOUNT.passwordHash },
            ...newSessionRows(NO_ACCOUNT.userId, at(60)),
          ),
        "the hash replaced since it was checked": () =>
          logins.openSessionAfterPasswordCheck(
            { email: user.email, passwordHash: "$argon2id$before-a-reset" },
            ...newSessionRows(user.id, at(60)),
          ),
      };
      for (const [times, state] of [
        [9, "not locked"],
        [1, "locked"],
      ] as const) {
        for (let i = 0; i < times; i++) await failOnce(user.email, at(0));
        const before = await throttles.find(user.email);
        for (const [label, attempt] of Object.entries(refused)) {
          assert.equal(await attempt(), false, `${label}, ${state}`);
          assert.deepEqual(await throttles.find(user.email), before, `${label}, ${state}`);
        }
      }
    });
  });
}
