import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OwedPurges } from "../../src/cache/owed-purges.ts";

describe("owed cache purges", () => {
  it("holds a user's entries back until the purge is made, or until one TTL has passed", () => {
    const owed = new OwedPurges({ ttlMs: 300_000 });
    assert.equal(owed.state("ana", 0), "clear");
    owed.add("ana", 1_000);
    assert.equal(owed.state("ana", 2_000), "owed");
    assert.equal(owed.state("ben", 2_000), "clear", "other users are not affected");
    owed.settle("ana");
    assert.equal(owed.state("ana", 2_000), "clear");
    owed.add("ana", 10_000);
    assert.equal(owed.state("ana", 309_999), "owed");
    assert.equal(owed.state("ana", 310_000), "clear", "every entry from before the write has expired");
  });

  it("past its bound, holds every user's entries back for one TTL", () => {
    const owed = new OwedPurges({ ttlMs: 60_000, max: 2 });
    owed.add("a", 0);
    owed.add("b", 0);
    owed.add("a", 5_000);
    assert.equal(owed.state("c", 5_000), "clear", "a known user again does not overflow");
    owed.add("c", 10_000);
    for (const user of ["a", "b", "c", "someone else"]) assert.equal(owed.state(user, 69_999), "all");
    for (const user of ["a", "b", "c"]) assert.equal(owed.state(user, 70_000), "clear");
  });
});
