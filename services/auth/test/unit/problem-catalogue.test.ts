import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { problemBody } from "@mimascota/shared/errors";
import { LOCALES } from "@mimascota/shared/i18n/locale";
import { problems } from "../../src/errors.ts";
import { message, MESSAGE_KEYS } from "../../src/i18n/messages.ts";
import { pageCopy } from "../../src/i18n/pages.ts";

/**
 * What users read comes from one catalogue per language. Every code the auth service can answer with (its
 * own and the shared edge's) renders a title and a detail in Spanish and in English, each variant in both,
 * every placeholder filled; a new code or variant without a translation fails here.
 */
describe("the auth service's problem catalogue", () => {
  const codes = Object.keys(problems.specs) as (keyof typeof problems.specs)[];

  it("covers every code in both languages, with different words in each", () => {
    assert.ok(codes.length >= 30);
    for (const code of codes) {
      const es = problems.texts.es[code];
      const en = problems.texts.en[code];
      assert.ok(es && en, `${code} has texts in both languages`);
      for (const text of [es, en]) {
        assert.ok(text.title.trim().length > 0 && text.detail.trim().length > 0, code);
      }
      assert.notEqual(es.detail, en.detail, `${code}: the Spanish detail is translated`);
      assert.deepEqual(
        Object.keys(es.variants ?? {}).sort(),
        Object.keys(en.variants ?? {}).sort(),
        `${code}: the same variants in both languages`,
      );
    }
  });

  it("renders every code and variant, Spanish by default, with no placeholder left", () => {
    const params = { min: 12, max: 128, minAge: 16, fields: "email", dependencies: "database" };
    for (const code of codes) {
      const variants = [undefined, ...Object.keys(problems.texts.es[code].variants ?? {})];
      for (const variant of variants) {
        const error = problems.error(code, { ...(variant ? { variant } : {}), params });
        const byDefault = problemBody(error, "id");
        assert.deepEqual(byDefault, problemBody(error, "id", "es"), `${code}: Spanish unless asked`);
        for (const locale of LOCALES) {
          const body = problemBody(error, "id", locale);
          assert.equal(body.code, code, "the code never changes");
          assert.doesNotMatch(`${body.title} ${body.detail}`, /\{\w+\}/, `${code}/${variant}: filled`);
        }
        if (variant) {
          assert.equal(error.text("es").detail.includes("{"), false);
          assert.notEqual(
            error.text("es").detail,
            problems.error(code).text("es").detail,
            `${code}/${variant}`,
          );
        }
      }
    }
  });

  it("words INVALID_TOKEN so the original front end's verify page recognises it", () => {
    const detail = problems.error("INVALID_TOKEN").text("es").detail.toLowerCase();
    assert.ok(detail.includes("expirado") || detail.includes("inválido"));
  });

  it("has every message and every page text in both languages", () => {
    for (const key of MESSAGE_KEYS) {
      assert.ok(message("es", key).length > 0 && message("en", key).length > 0, key);
      assert.notEqual(message("es", key), message("en", key), key);
    }
    assert.deepEqual(Object.keys(pageCopy.es).sort(), Object.keys(pageCopy.en).sort());
  });
});
