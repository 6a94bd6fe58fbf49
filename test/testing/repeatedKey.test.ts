import { describe, expect, it } from "vitest";
import { repeatedKey } from "../../src/testing/repeatedKey.js";

/** A key named twice in one object of a request: `JSON.parse` keeps the last, other readers the first (audit s19 a4 #2). */
describe("repeatedKey", () => {
  it("finds a key one object names twice, with where that object is, and nothing else", () => {
    expect(repeatedKey('{"tool":"db.drop","tool":"kb.search"}')).toEqual({ key: "tool", path: "" });
    expect(repeatedKey('{"agent":{"team":"sales","team":"support"}}')).toEqual({ key: "team", path: "agent" });
    expect(repeatedKey('{"args":{"to":[{"a":1},{"b":2,"b":3}]}}')).toEqual({ key: "b", path: "args.to[1]" });
    expect(repeatedKey('{"args":{"odd key":{"x":1,"x":2}}}')).toEqual({ key: "x", path: 'args["odd key"]' });
    // Spelled otherwise, the same key: JSON readers decode it first.
    expect(repeatedKey('{"a\\"b":1,"a\\u0022b":2}')).toEqual({ key: 'a"b', path: "" });
    // The same key in two objects, in strings, or as a value is no repeat.
    for (const text of ['{"a":{"k":1},"b":{"k":2}}', '{"a":"{\\"k\\":1,\\"k\\":2}"}', '{"a":"a","b":["a","a"]}', '[{"k":1},{"k":1}]', '{"k":[1,{"k":2}]}', "42", '"s"']) expect(repeatedKey(text), text).toBeUndefined();
  });

  it("takes no stack per level of nesting", () => {
    const deep = '{"a":'.repeat(100_000) + '{"k":1,"k":2}' + "}".repeat(100_000);
    expect(repeatedKey(deep)?.key).toBe("k");
  });
});
