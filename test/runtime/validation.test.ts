import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";

// The generated request check (fast, yes/no) and the interpreted validators (slow, with the
// message) must agree on every request: a disagreement either lets a bad request reach the
// rules or denies a good one without a reason.
const POLICY = `
enum Zone { internal, external }
type Dest { host: string, zone: Zone, port?: int, tags?: set<string> }
type Node { v: string, next?: Node }
agent { id: string, zone: Zone, level: int, attested: bool, since?: time, risk?: Risk }
user { id: string, roles: set<string> }
context { destination?: Dest, labels: set<string>, wait?: duration, path?: list<Node> }
tool a.run { args { to: list<string>, n: int, flag?: bool, dest?: Dest, constructor?: string } }
tool b.run { }
intent work { tools a.*, b.* }
policy p {
  allow a.run, b.run
}
`;

const engine = compile([{ path: "v.policy", text: POLICY }]);
type Internals = { tools: Map<string, { fits: (r: unknown) => boolean }>; explainInvalid: (r: unknown, e: unknown) => string | undefined };
const internals = engine as unknown as Internals;

const base = {
  session: "s",
  tool: "a.run",
  intent: "work",
  agent: { id: "x", zone: "internal", level: 1, attested: true, since: "2026-11-29T10:00:00Z", risk: "low" },
  user: { id: "u", roles: ["r"] },
  context: { labels: ["a"], destination: { host: "h", zone: "external", port: 1, tags: ["t"] }, wait: 5, path: [{ v: "a", next: { v: "b" } }] },
  args: { to: ["a@b"], n: 3, flag: true, dest: { host: "h", zone: "internal" }, constructor: "c" },
};

const paths = [
  ["agent", "id"], ["agent", "zone"], ["agent", "level"], ["agent", "attested"], ["agent", "since"], ["agent", "risk"],
  ["user", "roles"], ["user"], ["context", "labels"], ["context", "destination"], ["context", "destination", "port"],
  ["context", "destination", "tags"], ["context", "wait"], ["context", "path"], ["args", "to"], ["args", "n"],
  ["args", "flag"], ["args", "dest"], ["args", "constructor"], ["args"], ["intent"], ["agent"], ["context"],
] as const;

function withValue(path: readonly string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(base) as Record<string, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

describe("generated request checks agree with the validators", () => {
  it("for the valid request", () => {
    expect(internals.tools.get("a.run")!.fits(base)).toBe(true);
  });

  it("for any value at any declared place", () => {
    const value = fc.oneof(fc.anything(), fc.constantFrom(undefined, null, [], {}, "internal", "low", 1.5, -1, "2026-11-29T10:00:00Z", "not a time", [{ v: "a" }], { v: 1 }));
    fc.assert(
      fc.property(fc.constantFrom(...paths), value, fc.constantFrom("a.run", "b.run"), (path, v, tool) => {
        const request = { ...withValue(path, v), tool };
        const entry = internals.tools.get(tool)!;
        const fits = entry.fits(request);
        const message = internals.explainInvalid.call(engine, request, entry);
        expect(fits, `${JSON.stringify(request)} → ${message}`).toBe(message === undefined);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("the reason for a value that is not an int", () => {
  const reason = (n: unknown): string | undefined => engine.decide({ ...structuredClone(base), args: { ...base.args, n } }).reasons[0];

  it("names a BigInt as one, not as a value that looks like an int", () => {
    expect(reason(0n)).toBe("request.args.n must be an int, not the bigint 0n");
  });

  it("says a whole number past ±(2^53 − 1) is beyond the safe range, not that it is no int", () => {
    expect(reason(2 ** 60)).toBe(`request.args.n is the number 1152921504606847000 as read (numbers this large are not exact in JSON), beyond the safe integer range of an int (±${Number.MAX_SAFE_INTEGER})`);
    expect(reason(-(2 ** 53))).toMatch(/^request\.args\.n is the number -9007199254740992 as read \(numbers this large are not exact in JSON\), beyond the safe integer range/);
    expect(reason(1.5)).toBe("request.args.n must be an int, not the number 1.5");
  });
});

describe("the reason for a value that is not a duration", () => {
  const reason = (wait: unknown): string | undefined => engine.decide({ ...structuredClone(base), context: { ...base.context, wait } }).errors[0];

  it("takes whole milliseconds from 0 to 2^53 − 1, as exact as an int", () => {
    for (const wait of [0, 1, 7_200_000, Number.MAX_SAFE_INTEGER]) expect(engine.decide({ ...structuredClone(base), context: { ...base.context, wait } }).decision, String(wait)).toBe("allow");
  });

  it("refuses a fraction, a negative number and one past 2^53 − 1, saying which", () => {
    expect(reason(1.5)).toBe("request.context.wait must be a duration: a whole number of milliseconds, at least 0, not the number 1.5");
    expect(reason(-5000)).toBe("request.context.wait must be a duration: a whole number of milliseconds, at least 0, not the number -5000");
    expect(reason(2 ** 53)).toBe(`request.context.wait is the number 9007199254740992 as read (numbers this large are not exact in JSON), beyond the safe range of a duration in milliseconds (at most ${Number.MAX_SAFE_INTEGER})`);
    expect(reason(1e300)).toMatch(/^request\.context\.wait is the number 1e\+300 as read \(numbers this large are not exact in JSON\), beyond the safe range of a duration/);
    expect(reason("5m")).toBe('request.context.wait must be a duration: a whole number of milliseconds, at least 0, not the string "5m"');
  });
});

describe("the reason for a string that is not a member of an enum", () => {
  const labels = compile([{ path: "l.policy", text: "enum Label { public, pii }\ncontext { labels: set<Label> }\ntool kb.search { args { q: string } }\npolicy p {\n  allow kb.search\n}\n" }]);
  const refusal = (label: string) => labels.decide({ session: "s", time: "2026-12-01T00:00:00Z", tool: "kb.search", args: { q: "x" }, context: { labels: [label] } }).errors[0];

  it("shows a zero-width, a bidirectional control or a no-break space as an escape, so the string does not read as a member", () => {
    expect(refusal("p\u200bii")).toContain('not the string "p\\u200bii"');
    expect(refusal("\u202epii")).toContain('not the string "\\u202epii"');
    expect(refusal("pii\u00a0")).toContain('not the string "pii\\u00a0"');
    expect(refusal("\ufeffpii")).toContain('not the string "\\ufeffpii"');
    expect(refusal("PII")).toContain('not the string "PII"');
  });
});
