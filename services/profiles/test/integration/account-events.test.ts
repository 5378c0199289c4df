import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { count, eq } from "drizzle-orm";
import { PoisonEventError } from "@mimascota/shared/events/inbound-event";
import { skipUnless } from "@mimascota/shared/testing/services";
import sharp from "sharp";
import { deadLetterEvents, processedEvents, profiles } from "../../src/db/schema.ts";
import {
  createProfileTestContext,
  deletedEvent,
  registeredEvent,
  type ProfileTestContext,
} from "../support/test-profiles.ts";

/** Applying account events: idempotent by event id, poison events refused as such, deletion complete. */
describe("account events", { skip: await skipUnless("postgres") }, () => {
  let ctx: ProfileTestContext;
  before(async () => {
    ctx = await createProfileTestContext({ database: "postgres" });
  });
  after(() => ctx.close());

  const profileCount = async (userId: string) =>
    (await ctx.database.db.select({ n: count() }).from(profiles).where(eq(profiles.userId, userId)))[0]!.n;

  test("the same event delivered twice makes one profile, and the second changes nothing", async () => {
    const userId = randomUUID();
    const event = registeredEvent(userId);
    await ctx.events.handle(event);
    await ctx.app.inject({
      method: "POST",
      url: "/api/v1/profiles",
      headers: { authorization: `Bearer ${await ctx.token(userId)}` },
      payload: { name: "Editado" },
    });
    await ctx.events.handle(event);
    assert.equal(await profileCount(userId), 1);
    const [row] = await ctx.database.db.select().from(profiles).where(eq(profiles.userId, userId));
    assert.equal(row!.name, "Editado", "the redelivery did not re-apply the registration");
    const processed = await ctx.database.db
      .select()
      .from(processedEvents)
      .where(eq(processedEvents.eventId, event.id));
    assert.equal(processed.length, 1);
    const metrics = (await ctx.app.inject({ method: "GET", url: "/metrics" })).body;
    assert.match(metrics, /profiles_events_total\{result="duplicate"\} [1-9]/);
  });

  test("events for one user applied in order: registered then deleted leaves nothing; a new registration starts over", async () => {
    const userId = randomUUID();
    await ctx.events.handle(registeredEvent(userId));
    await ctx.events.handle(deletedEvent(userId));
    assert.equal(await profileCount(userId), 0);
    const again = randomUUID();
    await ctx.events.handle(registeredEvent(again, { email: `${userId}@example.com` }));
    assert.equal(await profileCount(again), 1, "the same email registers again as a new account");
  });

  test("a deletion that overtakes its registration (another topic) still wins, and the token gets no profile", async () => {
    const userId = randomUUID();
    await ctx.events.handle(deletedEvent(userId));
    await ctx.events.handle(registeredEvent(userId));
    assert.equal(await profileCount(userId), 0);
    const me = await ctx.app.inject({
      method: "GET",
      url: "/api/v1/profiles/me",
      headers: { authorization: `Bearer ${await ctx.token(userId)}` },
    });
    assert.equal(me.statusCode, 401);
    assert.equal(await profileCount(userId), 0);
  });

  test("a poison event is refused as poison and parked; the next one is applied", async () => {
    const poison = [
      { ...registeredEvent(randomUUID()), type: "app.mimascota.user.registered.v9" },
      { ...registeredEvent(randomUUID()), data: { userId: "x", email: 42 } },
      { ...registeredEvent(randomUUID()), key: "someone-else" },
      { ...registeredEvent(randomUUID()), topic: "user.exploded.v1" },
    ];
    for (const event of poison) {
      await assert.rejects(ctx.events.handle(event), PoisonEventError);
      await ctx.events.park({
        topic: event.topic,
        origin: { partition: 0, offset: event.id },
        eventId: event.id,
        key: event.key,
        headers: { ce_id: event.id },
        value: JSON.stringify(event.data),
        reason: "test",
      });
    }
    const parked = await ctx.database.db.select().from(deadLetterEvents);
    assert.ok(parked.length >= poison.length);
    const next = randomUUID();
    await ctx.events.handle(registeredEvent(next));
    assert.equal(await profileCount(next), 1);
    const metrics = (await ctx.app.inject({ method: "GET", url: "/metrics" })).body;
    assert.match(metrics, /profiles_events_total\{result="parked"\} [4-9]/);
  });

  test("housekeeping forgets applied event ids older than the retention, and only those", async () => {
    const old = registeredEvent(randomUUID());
    await ctx.events.handle(old);
    ctx.clock.advance(40 * 86_400_000);
    const recent = registeredEvent(randomUUID());
    await ctx.events.handle(recent);
    assert.ok((await ctx.events.forgetOldEventIds(30 * 86_400_000)) >= 1);
    const ids = (await ctx.database.db.select().from(processedEvents)).map((row) => row.eventId);
    assert.ok(!ids.includes(old.id));
    assert.ok(ids.includes(recent.id));
  });

  test("user.deleted.v1 deletes the profile and its photo", async () => {
    const userId = randomUUID();
    await ctx.events.handle(registeredEvent(userId));
    const token = await ctx.token(userId);
    const id = (
      await ctx.app.inject({
        method: "GET",
        url: "/api/v1/profiles/me",
        headers: { authorization: `Bearer ${token}` },
      })
    ).json<{ id: string }>().id;
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#c60" } })
      .png()
      .toBuffer();
    const boundary = "----mm";
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const upload = await ctx.app.inject({
      method: "POST",
      url: `/api/v1/profiles/${id}/photo`,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": `multipart/form-data; boundary=${boundary}`,
      },
      payload,
    });
    assert.equal(upload.statusCode, 200, upload.body);
    const file = new URL(upload.json<{ photo_url: string }>().photo_url).pathname.split("/").pop()!;
    assert.ok(await ctx.store.get(`photos/${file}`));
    await ctx.events.handle(deletedEvent(userId));
    assert.equal(await profileCount(userId), 0);
    assert.equal(await ctx.store.get(`photos/${file}`), undefined, "the photo is gone from the store");
    const gone = await ctx.app.inject({ method: "GET", url: `/api/v1/profiles/photos/${file}` });
    assert.equal(gone.statusCode, 404);
  });
});
