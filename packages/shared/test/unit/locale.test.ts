import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { localeFromAcceptLanguage } from "../../src/i18n/locale.ts";

describe("locale from Accept-Language", () => {
  it("defaults to Spanish when the header is missing or names no supported language", () => {
    assert.equal(localeFromAcceptLanguage(undefined), "es");
    assert.equal(localeFromAcceptLanguage("fr-FR, de;q=0.8"), "es");
    assert.equal(localeFromAcceptLanguage("garbage;;;q=x"), "es");
  });

  it("picks the highest-ranked supported language by q-value, then by order", () => {
    assert.equal(localeFromAcceptLanguage("en-US,en;q=0.9,es;q=0.8"), "en");
    assert.equal(localeFromAcceptLanguage("fr;q=1, es;q=0.5, en;q=0.7"), "en");
    assert.equal(localeFromAcceptLanguage("es-MX, en"), "es");
    assert.equal(localeFromAcceptLanguage("en;q=0, es;q=0.1"), "es");
  });
});
