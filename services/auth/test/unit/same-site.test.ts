import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "@mimascota/shared/errors";
import { assertSameSite } from "../../src/services/same-site.ts";

const allowed = ["http://localhost:3000", "https://app.mimascota.app"];
const refused = (fn: () => void) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof AppError && e.code === "CROSS_SITE_REQUEST" && e.status === 403,
  );

describe("cookie endpoint same-site check", () => {
  it("accepts an allowed Origin and same-origin or same-site fetches", () => {
    assertSameSite({ origin: "https://app.mimascota.app", fetchSite: "same-origin" }, allowed);
    assertSameSite({ origin: "http://localhost:3000", fetchSite: "same-site" }, allowed);
  });

  it("accepts requests with neither header (native apps, curl)", () => {
    assertSameSite({}, allowed);
  });

  it("refuses an Origin outside the allow-list, including the opaque null origin", () => {
    refused(() => assertSameSite({ origin: "https://evil.example" }, allowed));
    refused(() => assertSameSite({ origin: "null" }, allowed));
    refused(() => assertSameSite({ origin: "https://app.mimascota.app.evil.example" }, allowed));
  });

  it("refuses Sec-Fetch-Site: cross-site even with an allowed Origin", () => {
    refused(() => assertSameSite({ origin: "http://localhost:3000", fetchSite: "cross-site" }, allowed));
    refused(() => assertSameSite({ fetchSite: "cross-site" }, allowed));
  });
});
