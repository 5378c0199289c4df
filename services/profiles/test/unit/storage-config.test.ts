import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { ConfigError, parseConfig } from "@mimascota/shared/config";
import { s3Settings, storageConfigShape } from "../../src/storage/storage-config.ts";

const schema = z.object(storageConfigShape);

describe("storage configuration", () => {
  it("means the local folder when S3_BUCKET is unset or empty", () => {
    assert.equal(s3Settings(parseConfig(schema, {})), undefined);
    assert.equal(s3Settings(parseConfig(schema, { S3_BUCKET: "" })), undefined);
  });

  it("gives the S3 settings with their defaults when a bucket is named", () => {
    const settings = s3Settings(parseConfig(schema, { S3_BUCKET: "mimascota-photos" }));
    assert.deepEqual(settings, {
      bucket: "mimascota-photos",
      region: "us-east-1",
      endpoint: undefined,
      forcePathStyle: false,
      credentials: undefined,
      createBucket: false,
    });
  });

  it("reads an S3-compatible endpoint, static credentials and the booleans", () => {
    const settings = s3Settings(
      parseConfig(schema, {
        S3_ENDPOINT: "http://minio.internal:9000",
        S3_REGION: "eu-west-1",
        S3_BUCKET: "photos",
        S3_ACCESS_KEY_ID: "id",
        S3_SECRET_ACCESS_KEY: "secret",
        S3_FORCE_PATH_STYLE: "true",
        S3_CREATE_BUCKET: "1",
      }),
    );
    assert.deepEqual(settings, {
      bucket: "photos",
      region: "eu-west-1",
      endpoint: "http://minio.internal:9000",
      forcePathStyle: true,
      credentials: { accessKeyId: "id", secretAccessKey: "secret" },
      createBucket: true,
    });
  });

  it("names the variable of a bad value", () => {
    assert.throws(
      () => parseConfig(schema, { S3_BUCKET: "Not_A_Bucket" }),
      /S3_BUCKET: not a valid S3 bucket/,
    );
    assert.throws(() => parseConfig(schema, { S3_ENDPOINT: "not a url" }), /S3_ENDPOINT/);
    assert.throws(() => parseConfig(schema, { S3_FORCE_PATH_STYLE: "yes" }), /S3_FORCE_PATH_STYLE/);
  });

  it("refuses one credential without the other", () => {
    const config = parseConfig(schema, { S3_BUCKET: "photos", S3_ACCESS_KEY_ID: "id" });
    assert.throws(
      () => s3Settings(config),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither/);
        return true;
      },
    );
  });

  it("refuses S3 settings without a bucket instead of silently storing photos on the local disk", () => {
    const config = parseConfig(schema, { S3_ENDPOINT: "http://minio.internal:9000" });
    assert.throws(() => s3Settings(config), /S3_BUCKET: required when S3_ENDPOINT is set/);
  });
});
