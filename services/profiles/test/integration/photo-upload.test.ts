import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { pino } from "pino";
import sharp from "sharp";
import { s3TestCredentials, serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { objectDeletions } from "../../src/db/schema.ts";
import { S3ObjectStore } from "../../src/storage/s3-object-store.ts";
import {
  createProfileTestContext,
  registeredEvent,
  type ProfileTestContext,
} from "../support/test-profiles.ts";

/** The profile as the API returns it, as far as these tests read it. */
interface ProfileBody {
  id: string;
  photo_url: string | null;
}

/** An accepted upload's answer: the profile with its new photo. */
interface UploadBody {
  photo_url: string;
}

/** A problem+json body. */
interface Problem {
  code: string;
  detail: string;
}

/** A multipart/form-data body with one file part, as a browser's FormData sends it. */
function multipart(field: string, filename: string, type: string, bytes: Buffer) {
  const boundary = `----mm${randomUUID()}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A PNG header declaring a huge image over a few bytes of data: a decompression ("pixel") bomb. */
function pixelBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30_000, 0);
  ihdr.writeUInt32BE(30_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(4096))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const picture = (format: "jpeg" | "png" | "webp", width = 800, height = 600) => {
  const image = sharp({ create: { width, height, channels: 3, background: "#2a6" } });
  return image[format]().toBuffer();
};

/** The photo API on each store: the local folder (embedded) and the real S3-compatible server. */
for (const storeKind of ["folder", "s3"] as const) {
  const skip = storeKind === "s3" ? await skipUnless("postgres", "s3") : await skipUnless("postgres");
  describe(`profile photos (${storeKind} store)`, { skip }, () => {
    let ctx: ProfileTestContext;
    let owner: string;
    let token: string;
    let profileId: string;

    before(async () => {
      const store =
        storeKind === "s3"
          ? new S3ObjectStore({
              endpoint: serviceUrls.s3,
              region: s3TestCredentials.region,
              bucket: uniquePrefix("mm-photos"),
              credentials: {
                accessKeyId: s3TestCredentials.accessKeyId,
                secretAccessKey: s3TestCredentials.secretAccessKey,
              },
              forcePathStyle: true,
              logger: pino({ level: "silent" }),
            })
          : undefined;
      await store?.createBucketIfMissing();
      ctx = await createProfileTestContext({ database: "postgres", ...(store ? { store } : {}) });
      owner = randomUUID();
      await ctx.events.handle(registeredEvent(owner));
      token = await ctx.token(owner);
      profileId = (
        await ctx.app.inject({
          method: "GET",
          url: "/api/v1/profiles/me",
          headers: { authorization: `Bearer ${token}` },
        })
      ).json<ProfileBody>().id;
    });
    after(() => ctx?.close());

    const upload = async (
      bytes: Buffer,
      options: { field?: string; name?: string; type?: string; as?: string; id?: string } = {},
    ) => {
      const { payload, contentType } = multipart(
        options.field ?? "file",
        options.name ?? "photo",
        options.type ?? "image/jpeg",
        bytes,
      );
      return ctx.app.inject({
        method: "POST",
        url: `/api/v1/profiles/${options.id ?? profileId}/photo`,
        headers: { authorization: `Bearer ${options.as ?? token}`, "content-type": contentType },
        payload,
      });
    };
    const fileOf = (url: string) => new URL(url).pathname.split("/").pop()!;

    test("each accepted type is stored as WebP, bounded in size, served with caching headers", async () => {
      for (const format of ["jpeg", "png", "webp"] as const) {
        const response = await upload(await picture(format, 2000, 1500), { name: `me.${format}` });
        assert.equal(response.statusCode, 200, response.body);
        const url = response.json<UploadBody>().photo_url;
        assert.match(url, /^https:\/\/api\.mimascota\.test\/api\/v1\/profiles\/photos\/[0-9a-f-]{36}\.webp$/);
        const served = await ctx.app.inject({ method: "GET", url: new URL(url).pathname });
        assert.equal(served.statusCode, 200);
        assert.equal(served.headers["content-type"], "image/webp");
        assert.equal(served.headers["cache-control"], "public, max-age=31536000, immutable");
        assert.equal(served.headers["x-content-type-options"], "nosniff");
        const meta = await sharp(served.rawPayload).metadata();
        assert.equal(meta.format, "webp");
        assert.ok(Math.max(meta.width, meta.height) <= ctx.config.photos.maxEdge);
        const again = await ctx.app.inject({
          method: "GET",
          url: new URL(url).pathname,
          headers: { "if-none-match": String(served.headers.etag) },
        });
        assert.equal(again.statusCode, 304);
        const me = await ctx.app.inject({
          method: "GET",
          url: "/api/v1/profiles/me",
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(me.json<ProfileBody>().photo_url, url);
      }
    });

    test("the old photo is deleted when a new one replaces it", async () => {
      const first = fileOf((await upload(await picture("png"))).json<UploadBody>().photo_url);
      assert.ok(await ctx.store.get(`photos/${first}`));
      const second = fileOf((await upload(await picture("jpeg"))).json<UploadBody>().photo_url);
      assert.notEqual(first, second);
      assert.equal(await ctx.store.get(`photos/${first}`), undefined);
      assert.equal(
        (await ctx.app.inject({ method: "GET", url: `/api/v1/profiles/photos/${first}` })).statusCode,
        404,
      );
      assert.ok(await ctx.store.get(`photos/${second}`));
      assert.equal((await ctx.database.db.select().from(objectDeletions)).length, 0, "nothing left to retry");
    });

    test("EXIF location is stripped", async () => {
      const withGps = await sharp(await picture("jpeg", 320, 240))
        .withExif({ IFD0: { Make: "Spy" }, IFD3: { GPSLatitudeRef: "S", GPSLatitude: "34/1 54/1 0/1" } })
        .jpeg()
        .toBuffer();
      assert.ok((await sharp(withGps).metadata()).exif, "the fixture carries EXIF");
      const url = (await upload(withGps)).json<UploadBody>().photo_url;
      const stored = await ctx.store.get(`photos/${fileOf(url)}`);
      const meta = await sharp(stored!.body).metadata();
      assert.equal(meta.exif, undefined);
      assert.ok(!stored!.body.includes(Buffer.from("Spy")));
    });

    test("a renamed non-image, a pixel bomb, a corrupt image and an oversized file are refused; nothing is stored", async () => {
      const before = (
        await ctx.app.inject({
          method: "GET",
          url: "/api/v1/profiles/me",
          headers: { authorization: `Bearer ${token}` },
        })
      ).json<ProfileBody>().photo_url;
      const renamed = await upload(Buffer.from("%PDF-1.7 not a picture at all"), {
        name: "cat.jpg",
        type: "image/jpeg",
      });
      assert.equal(renamed.statusCode, 400);
      assert.equal(renamed.json<Problem>().code, "INVALID_PHOTO");
      assert.match(renamed.json<Problem>().detail, /no es una imagen JPEG, PNG o WebP/);
      const gif = await upload(Buffer.from("GIF89a\x01\x00\x01\x00"), { name: "a.png", type: "image/png" });
      assert.equal(gif.statusCode, 400);
      const bomb = await upload(pixelBomb(), { name: "bomb.png", type: "image/png" });
      assert.equal(bomb.statusCode, 400);
      assert.match(bomb.json<Problem>().detail, /demasiado grande|resolución/);
      const jpeg = await picture("jpeg");
      const truncated = await upload(jpeg.subarray(0, 200));
      assert.equal(truncated.statusCode, 400);
      const oversized = await upload(Buffer.concat([jpeg, Buffer.alloc(ctx.config.photos.maxBytes, 7)]));
      assert.equal(oversized.statusCode, 413);
      assert.equal(oversized.json<Problem>().code, "PHOTO_TOO_LARGE");
      const after = (
        await ctx.app.inject({
          method: "GET",
          url: "/api/v1/profiles/me",
          headers: { authorization: `Bearer ${token}` },
        })
      ).json<ProfileBody>().photo_url;
      assert.equal(after, before);
    });

    test("the wrong field, no file and a JSON body are clear 4xx", async () => {
      const jpeg = await picture("jpeg");
      assert.equal((await upload(jpeg, { field: "photo" })).json<Problem>().code, "INVALID_PHOTO");
      const json = await ctx.app.inject({
        method: "POST",
        url: `/api/v1/profiles/${profileId}/photo`,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        payload: { file: "x" },
      });
      assert.equal(json.statusCode, 415);
    });

    test("another user's profile id, and an unknown one, are 404: the photo is not changed", async () => {
      const mallory = randomUUID();
      await ctx.events.handle(registeredEvent(mallory));
      const theirs = await upload(await picture("png"), { as: await ctx.token(mallory) });
      assert.equal(theirs.statusCode, 404);
      assert.equal(theirs.json<Problem>().code, "PROFILE_NOT_FOUND");
      const unknown = await upload(await picture("png"), { id: randomUUID() });
      assert.equal(unknown.statusCode, 404);
      assert.equal(
        (await ctx.app.inject({ method: "GET", url: "/api/v1/profiles/photos/..%2f..%2fetc%2fpasswd" }))
          .statusCode,
        404,
      );
    });
  });
}
