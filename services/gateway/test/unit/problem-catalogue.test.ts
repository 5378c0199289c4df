import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { problemBody } from "@mimascota/shared/errors";
import { LOCALES } from "@mimascota/shared/i18n/locale";
import { problems } from "../../src/errors.ts";

/** Every code the gateway answers with itself renders in Spanish (by default) and English, every variant too. */
describe("the gateway's problem catalogue", () => {
  it("covers every code and variant in both languages", () => {
    for (const code of Object.keys(problems.specs) as (keyof typeof problems.specs)[]) {
      const es = problems.texts.es[code];
      const en = problems.texts.en[code];
      assert.ok(es && en, code);
      assert.notEqual(es.title, en.title, `${code}: translated`);
      assert.deepEqual(Object.keys(es.variants ?? {}), Object.keys(en.variants ?? {}), code);
      for (const variant of [undefined, ...Object.keys(es.variants ?? {})]) {
        const error = problems.error(code, {
          ...(variant ? { variant } : {}),
          params: { fields: "x", dependencies: "y" },
        });
        assert.deepEqual(problemBody(error, "r"), problemBody(error, "r", "es"));
        for (const locale of LOCALES) {
          const body = problemBody(error, "r", locale);
          assert.equal(body.code, code);
          assert.ok(body.title && body.detail);
          assert.doesNotMatch(body.detail, /\{\w+\}/);
        }
      }
    }
  });
});
