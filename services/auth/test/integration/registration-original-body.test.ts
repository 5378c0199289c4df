import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { loggerOptions } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { post, problem, userRow } from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const PASSWORD = "Tortuga-Violeta-Lluvia-2024!";
/** Values that must never reach a log line. */
const PERSONAL = ["48291537", "Calle Ñandú", "Tacuarembó", "1994-07-19", "19/07/1994", "Quintana"];

function originalBody(email: string, birthDate = "19/07/1994") {
  return {
    baseUser: {
      name: "Lucía",
      secondName: "Quintana",
      email,
      documentType: "CI",
      document: "48291537",
      ubication: {
        department: "Tacuarembó",
        city: "Tacuarembó",
        postalCode: "45000",
        street: "Calle Ñandú",
        number: "77",
        apartment: "3B",
      },
      password: PASSWORD,
    },
    client: { birthDate },
  };
}

/**
 * The original API's nested registration, with the service's real logger options (redaction included)
 * writing at the most verbose level: the profile fields are kept for the profile service, never logged,
 * whether the registration succeeds or is refused.
 */
describe("registration with the original API's body", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  const lines: string[] = [];

  before(async () => {
    const logger = pino(loggerOptions("auth-test", "trace"), {
      write: (line: string) => void lines.push(line),
    });
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" }, logger });
  });
  after(() => ctx?.close());

  it("accepts ISO and dd/MM/yyyy birth dates and keeps the role", async () => {
    const iso = await post(ctx, "register", {
      ...originalBody("iso@example.com", "1994-07-19"),
      role: "provider",
    });
    assert.equal(iso.statusCode, 202, iso.body);
    assert.equal((await userRow(ctx, "iso@example.com")).role, "provider");
    const dmy = await post(ctx, "register", originalBody("dmy@example.com"));
    assert.equal(dmy.statusCode, 202, dmy.body);
    assert.equal((await userRow(ctx, "dmy@example.com")).fullName, "Lucía Quintana");
  });

  it("refuses under 16 with UNDERAGE, and a malformed date, with a Spanish detail (English on request)", async () => {
    const now = ctx.clock.now();
    const day = (years: number, days: number) => {
      const d = new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate() + days));
      return d.toISOString().slice(0, 10);
    };
    const underage = await post(ctx, "register", originalBody("teen@example.com", day(16, 1)));
    assert.equal(underage.statusCode, 400);
    assert.equal(problem(underage).code, "UNDERAGE");
    assert.equal(problem(underage).detail, "Debes tener al menos 16 años para registrarte.");
    const sixteen = await post(ctx, "register", originalBody("sixteen@example.com", day(16, 0)));
    assert.equal(sixteen.statusCode, 202, "16 today is old enough");
    for (const bad of ["1994/07/19", "31/02/1994", "19-07-1994", "", "1899-12-31", "mañana"]) {
      const response = await post(ctx, "register", originalBody("bad-date@example.com", bad));
      assert.equal(response.statusCode, 400, bad);
      assert.equal(problem(response).code, "VALIDATION_ERROR");
      assert.equal(problem(response).detail, "La solicitud no es válida: revisa client.birthDate.");
    }
    const english = await post(ctx, "register", originalBody("teen@example.com", day(15, 0)), {
      "accept-language": "en",
    });
    assert.equal(problem(english).detail, "You must be at least 16 years old to register.");
    assert.equal(problem(english).code, "UNDERAGE");
  });

  it("never writes the profile fields to a log line", () => {
    assert.ok(lines.length > 0, "the service logged its requests");
    for (const value of PERSONAL) {
      assert.ok(!lines.some((line) => line.includes(value)), `"${value}" in the log`);
    }
  });
});
