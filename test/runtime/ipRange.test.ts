import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { contentHash } from "../../src/bundle/hash.js";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import { RUNTIME_SUPPORT, type Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { unknownIrOps } from "../../src/runtime/ir.js";
import { inIpRanges, ipRanges, readCidr } from "../../src/runtime/ipRange.js";
import { clauseLines } from "../../src/testing/explanationText.js";
import { VERSION } from "../../src/version.js";
import { cli, ROOT } from "../helpers.js";

/**
 * `ip.inRange(s, CIDR)` (language.md 5.10): SSRF and internal-network rules on addresses, not on
 * the text of a host (`url.host(x) like "10.*"` matches `10.evil.example`). The same answers from
 * the generated code, the interpreter that explains, and a bundle.
 */
const DECLS = "tool http.get { risk medium args { url: string, host: string } }\ntool ip.lookup { risk low args { host: string } }\n";

/** The SSRF deny-list of language.md 5.10. */
const SSRF = [
  "policy egress {",
  '  @name("private") deny http.get when ip.inRange(url.host(args.url), ["169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"])',
  '  @name("no-host") deny http.get when url.host(args.url) == ""',
  "  allow http.get",
  "  allow ip.lookup when ip.inRange(args.host, \"10.0.0.0/8\")",
  "}",
  "",
].join("\n");

const SOURCES = [{ path: "egress.policy", text: DECLS + SSRF }];

function fetchOf(url: string, session = "s"): Record<string, unknown> {
  return { session, time: "2026-01-01T10:00:00Z", tool: "http.get", args: { url, host: "" } };
}

function bundled(): Engine {
  const { policy, diagnostics } = compileSources(SOURCES);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return loadBundle(JSON.parse(serializeBundle(createBundle(policy, SOURCES))));
}

const DENIED = [
  "http://169.254.169.254/latest/meta-data/",
  "http://[::ffff:169.254.169.254]/latest/meta-data/iam/",
  "http://[::ffff:7f00:1]/",
  "http://[0:0:0:0:0:ffff:127.0.0.1]/",
  "redis://[::ffff:127.0.0.1]/",
  "http://127.0.0.1:8080/",
  "http://0.0.0.0:8080/",
  "http://0/",
  "http://2130706433/",
  "http://0177.0.0.1/",
  "http://10.1.2.3/",
  "http://172.20.0.5/",
  "http://172.31.255.255/",
  "http://192.168.1.1/",
  "http://[::1]:3000/",
  "http://[fd00:ec2::254]/",
  "http://[fe80::1]/",
  "file:///etc/passwd",
];
const ALLOWED = ["https://example.com/", "http://10.evil.example/", "http://10.0.0.1.nip.io/", "http://172.32.0.1/", "http://172.15.255.255/", "http://[2001:db8::1]/", "http://8.8.8.8/"];

describe("ip.inRange", () => {
  it("denies private and metadata addresses in every spelling url.host normalizes, and never a name", () => {
    for (const engine of [compile(SOURCES), bundled()]) {
      for (const url of DENIED) expect(engine.decide(fetchOf(url, url)).decision, url).toBe("deny");
      for (const url of ALLOWED) expect(engine.decide(fetchOf(url, url)), url).toMatchObject({ decision: "allow", errors: [] });
    }
  });

  it("an allow rule on a range never lets a name through, nor an address that is not plain text", () => {
    const engine = compile(SOURCES);
    const lookup = (host: string): string => engine.decide({ session: host, time: "2026-01-01T10:00:00Z", tool: "ip.lookup", args: { host } }).decision;
    expect(lookup("10.1.2.3")).toBe("allow");
    expect(lookup("[::ffff:10.0.0.1]")).toBe("allow");
    expect(lookup("::ffff:a00:1")).toBe("allow");
    // Other spellings of an address are the address a client reads them as (10.0.0.1; `010.0.0.1` is octal, 8.0.0.1).
    // Also upper case, full-width digits, ideographic dots, percent-encoding, a tab or a port (review 6).
    for (const host of ["167772161", "10.1", "0xa.0.0.1", "0XA000001", "\uff11\uff10.0.0.1", "10\u30020\u30020\u30021", "%31%30.0.0.1", "10.0\t.0.1", "10.0.0.1:80"]) expect(lookup(host), host).toBe("allow");
    // Names, and no address at all.
    for (const host of ["10.evil.example", "10.0.0.1.nip.io", "", "010.0.0.1", "[10.0.0.1]", "fe80::1%eth0", " 10.0.0.1"]) expect(lookup(host), host).toBe("deny");
    // What is no bare host is an evaluation error, so an allow on it never matches: a path, user information, more than 253 characters.
    for (const host of ["10.0.0.1/", "user@10.0.0.1", "10.0.0." + "0".repeat(300) + "1"]) {
      const refused = engine.decide({ session: "r", time: "2026-01-01T10:00:00Z", tool: "ip.lookup", args: { host } });
      expect([refused.decision, refused.errors.length], host).toEqual(["deny", 1]);
    }
    // A whole URL is no host: an evaluation error, which fails closed (the allow does not match).
    const url = engine.decide({ session: "u", time: "2026-01-01T10:00:00Z", tool: "ip.lookup", args: { host: "http://10.0.0.1/" } });
    expect(url.decision).toBe("deny");
    expect(url.errors.join(" ")).toContain("is a URL, not a host: take its host with url.host(…)");
  });

  it("an IPv6 address with a zone is that address, as the clients that connect to it read it: a deny on link-local holds it (a4, s19)", () => {
    const policy = `tool net.connect { risk high args { host: string } }\npolicy p {\n  allow net.connect\n  @name("no-link-local") deny net.connect when ip.inRange(args.host, ["169.254.0.0/16", "fe80::/10"])\n  allow ip.lookup when ip.inRange(args.host, "fe80::/10")\n}\n`;
    const engine = compile([{ path: "zone.policy", text: `tool ip.lookup { risk low args { host: string } }\n${policy}` }]);
    const connect = (host: string): string => engine.decide({ session: host, time: "2026-01-01T10:00:00Z", tool: "net.connect", args: { host } }).decision;
    for (const host of ["fe80::1", "fe80::1%eth0", "[fe80::1%25eth0]", "[fe80::1%eth0]", "fe80::1%", "::ffff:169.254.169.254%eth0"]) expect(connect(host), host).toBe("deny");
    // With a port after the brackets too (review r6: these were in no range).
    for (const host of ["[fe80::1%25eth0]:80", "[fe80::1%eth0]:80", "[fe80::1]:80", "[::ffff:169.254.169.254%25lo]:8080", "[fe80::1%25eth0]:"]) expect(connect(host), host).toBe("deny");
    for (const host of ["2001:db8::1%eth0", "example.com"]) expect(connect(host), host).toBe("allow");
    // And an allow on the range holds it too.
    expect(engine.decide({ session: "l", time: "2026-01-01T10:00:00Z", tool: "ip.lookup", args: { host: "fe80::2%wlan0" } }).decision).toBe("allow");
  });

  it("explains the clause with the address it tested, from sources and from a bundle", () => {
    for (const engine of [compile(SOURCES), bundled()]) {
      const [trace] = explain(engine, fetchOf("http://169.254.169.254/x")).rules;
      expect(trace).toMatchObject({ id: "private", matched: true });
      expect(clauseLines(trace!)).toEqual([
        '`ip.inRange(url.host(args.url), ["169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"])` was true (url.host(args.url) is "169.254.169.254")',
      ]);
      // url.host gives an IPv4-mapped address as its IPv4 address.
      const [mapped] = explain(engine, fetchOf("http://[::ffff:a9fe:a9fe]/")).rules;
      expect(mapped!.clauses[0]!.evidence).toEqual([
        expect.objectContaining({ kind: "text", operator: "inRange", value: true, left: { text: "url.host(args.url)", shown: '"169.254.169.254"', constant: false } }),
      ]);
      // Inside a quantifier, the element is named once; `not` and `unless` show the test's own value.
      const scan = compile([{ path: "q.policy", text: 'tool net.scan { risk low args { hosts: list<string>, url: string } }\npolicy q {\n  deny net.scan when any(h in args.hosts: ip.inRange(h, ["10.0.0.0/8", "fd00::/8"]))\n  deny net.scan when not ip.inRange(url.host(args.url), "192.168.0.0/16")\n  allow net.scan unless ip.inRange(url.host(args.url), "192.168.0.0/16")\n}\n' }]);
      const traces = explain(scan, { session: "s", tool: "net.scan", args: { hosts: ["a.example", "[fd00::5]"], url: "http://192.168.2.2/" } }).rules;
      expect(traces.flatMap((trace) => clauseLines(trace))).toEqual([
        '`any(h in args.hosts: ip.inRange(h, ["10.0.0.0/8", "fd00::/8"]))` was true for args.hosts[1] = "[fd00::5]"',
        '`not ip.inRange(url.host(args.url), "192.168.0.0/16")` was false (url.host(args.url) is "192.168.2.2")',
        'unless `ip.inRange(url.host(args.url), "192.168.0.0/16")` was true (url.host(args.url) is "192.168.2.2")',
      ]);
      const [name] = explain(engine, fetchOf("http://10.evil.example/")).rules;
      expect(clauseLines(name!)[0]).toMatch(/` was false \(url\.host\(args\.url\) is "10\.evil\.example"\)$/);
    }
  });

  it("a bundle built before ip.inRange noted its errors fails the rule closed on one, never allows on it nor throws, and its explanation fails the same rules (review r5 #1)", () => {
    // Built by policyc at b4423d5 (test/fixtures/bundles/ip-ranges.policy): rt.inIpRanges(K, x), no decision context.
    const old = loadBundle(JSON.parse(readFileSync(join(ROOT, "test/fixtures/bundles/ip-ranges-old-calls.json"), "utf8")));
    const hosts = ["10.0.0.1", "192.168.1.1", "http://10.0.0.1/", "a@10.0.0.1", "10.0.0.1/x", "a@acme.com", "name.example"];
    let failed = 0;
    let session = 0;
    for (const tool of ["t.a", "t.b"])
      for (const s of hosts)
        for (const u of ["", "http://192.168.0.1/", "http://u@192.168.0.1/"])
          for (const to of [[], ...hosts.map((h) => [h]), ["a@acme.com", "10.0.0.1"], ["10.0.0.1", "a@acme.com"]])
            for (const n of [0, 200]) {
              const request = { session: `s${session++}`, tool, args: { s, u, to, n } };
              const decided = old.decide(request);
              const errored = new Set(decided.errors.map((error) => error.slice(0, error.indexOf(":"))));
              for (const rule of explain(old, request).rules) expect(rule.matched === "error", `${rule.id} on ${JSON.stringify(request)}`).toBe(errored.has(rule.id));
              // The ip.inRange errors of the old code: the deny fails closed, the allow does not allow.
              if (tool === "t.a" && /[/@]/.test(s)) expect([decided.decision, decided.rules.includes("d")]).toEqual(["deny", true]);
              if (tool === "t.b" && /[/@]/.test(to[0] ?? "")) expect([decided.decision, decided.errors.length]).toEqual(["deny", 1]);
              if (decided.errors.some((error) => error.includes("ip.inRange"))) failed++;
            }
    expect(failed).toBeGreaterThan(50);
  });

  it("carries its ranges in the bundle's IR as an operation of its own, which a runtime without it refuses", () => {
    const { policy } = compileSources(SOURCES);
    const bundle = JSON.parse(serializeBundle(createBundle(policy!, SOURCES))) as Bundle;
    expect(bundle.rules[0]!.ir).toEqual({ op: "ipInRange", subject: { op: "call", name: "url.host", arg: { op: "get", object: { op: "root", root: "args" }, name: "url", convert: "none" } }, ranges: ["169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"] });
    expect(unknownIrOps(bundle.rules.flatMap((rule) => (rule.ir === null ? [] : [rule.ir])))).toEqual([]);
    // A runtime of before `ip.inRange` lacks its support: the bundle is refused as it loads, not failed closed in traffic.
    expect(Object.hasOwn(RUNTIME_SUPPORT, "ipRanges") && Object.hasOwn(RUNTIME_SUPPORT, "inIpRanges")).toBe(true);
    // Stood for by names this runtime lacks (the support is frozen: no test takes it away).
    const earlier = { ...bundle, code: bundle.code.replaceAll("rt.ipRanges(", "rt.ipRangesOfLater(").replaceAll("rt.inIpRanges(", "rt.inIpRangesOfLater(") } as Bundle;
    (earlier as { manifest: Bundle["manifest"] }).manifest = { ...(earlier as Bundle).manifest, contentHash: contentHash(earlier) };
    expect(() => loadBundle(earlier)).toThrow(`the bundle was built by "policyc ${VERSION}", and its code calls rt.ipRangesOfLater, rt.inIpRangesOfLater, which this runtime (an earlier build of policyc ${VERSION}) lacks: load it with the runtime of the policyc that built it, or rebuild it with this policyc`);
    expect(loadBundle(bundle).decide(fetchOf("http://10.0.0.1/")).decision).toBe("deny");
  });

  it("reads CIDRs strictly, with the range meant where one is clear", () => {
    expect(readCidr("169.254.0.0/16")).toEqual({ range: { first: (0xffffn << 32n) | 0xa9fe0000n, bits: 112 } });
    expect(readCidr("::/0")).toEqual({ range: { first: 0n, bits: 0 } });
    expect(readCidr("::ffff:169.254.0.0/112")).toEqual(readCidr("169.254.0.0/16"));
    expect(readCidr("10.0.0.1/8")).toEqual({ problem: "`10.0.0.1` has bits set after the first 8", fix: 'write "10.0.0.0/8", the range it is in' });
    expect(readCidr("fc00::1/7")).toMatchObject({ fix: 'write "fc00::/7", the range it is in' });
    expect(readCidr("2001:db8:0:0:1::/64")).toMatchObject({ fix: 'write "2001:db8::/64", the range it is in' });
    expect(readCidr("10.0.0.1")).toEqual({ problem: "it has no prefix length", fix: 'write "10.0.0.1/32" for the one address' });
    expect(readCidr("[::1]/128")).toMatchObject({ fix: 'write "::1/128"' });
    // An IPv4 range written as mapped IPv6 with an IPv4 prefix length would cover far more (`::/8`, IPv4 and `::1`): the IPv4 range is the help.
    expect(readCidr("::ffff:10.0.0.0/8")).toMatchObject({ fix: 'write the IPv4 range, as in "10.0.0.0/8": an IPv4-mapped address is in the IPv4 ranges of its IPv4 address' });
    expect(readCidr("::ffff:10.0.0.1/104")).toMatchObject({ fix: 'write "::ffff:a00:0/104", the range it is in' });
    expect(readCidr("::ffff:10.0.0.1/8")).toMatchObject({ fix: 'write the IPv4 range, as in "10.0.0.0/8": an IPv4-mapped address is in the IPv4 ranges of its IPv4 address' });
    expect(readCidr("::ffff:10.0.0.0/104")).toEqual(readCidr("10.0.0.0/8"));
    // The ranges language.md suggests adding: NAT64 and the shared address space (Alibaba Cloud's metadata address).
    expect(inIpRanges(ipRanges(["64:ff9b::/96", "100.64.0.0/10"]), "[64:ff9b::a9fe:a9fe]")).toBe(true);
    expect(inIpRanges(ipRanges(["64:ff9b::/96", "100.64.0.0/10"]), "100.100.100.200")).toBe(true);
    expect(inIpRanges(ipRanges(["169.254.0.0/16"]), "[64:ff9b::a9fe:a9fe]")).toBe(false);
    // The unspecified address reaches the host itself, as 0.0.0.0 does: the docs' SSRF list holds `::/128`.
    expect(inIpRanges(ipRanges(["::/128"]), "[::]")).toBe(true);
    expect(inIpRanges(ipRanges(["::/128"]), "[::1]")).toBe(false);
    // An IPv6 range shorter than /96 holds no IPv4 address, mapped or not: `::/8` is an IPv6 bogon, not all of IPv4.
    expect(inIpRanges(ipRanges(["::/8"]), "8.8.8.8")).toBe(false);
    expect(inIpRanges(ipRanges(["::/0"]), "[::ffff:8.8.8.8]")).toBe(false);
    expect(inIpRanges(ipRanges(["::/8"]), "[::1]")).toBe(true);
    // Many ranges of several lengths: each address is looked up once per length.
    const many = ipRanges([...Array.from({ length: 3000 }, (_, i) => `${(i >> 8) + 1}.${i & 255}.0.0/16`), "10.0.0.0/8", "192.168.1.0/24", "fd00::/8", "2001:db8::1/128"]);
    for (const [host, inside] of [["1.0.0.1", true], ["12.183.255.255", true], ["12.184.0.0", false], ["10.9.9.9", true], ["192.168.1.77", true], ["192.168.2.1", false], ["[fd12::1]", true], ["[2001:db8::1]", true], ["[2001:db8::2]", false], ["[::ffff:10.1.1.1]", true]] as const) {
      expect(inIpRanges(many, host), host).toBe(inside);
    }
    expect(inIpRanges(ipRanges(["::ffff:0:0/96"]), "8.8.8.8")).toBe(true);
    expect(inIpRanges(ipRanges(["::/0"]), 42)).toBe(false);
    // A bundle edited by hand (and hashed again) with a range that is none: its code does not load.
    expect(() => ipRanges(["10.0.0.0/8", "10/8"])).toThrow('ip.inRange: "10/8" is not an IP range: `10` is not an IPv4 or IPv6 address');
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/08", "10.0.0.0/", "10.0.0.0/-1", "10/8", "010.0.0.0/8", "fe80::%eth0/64", "example.com/8", "", "/8"]) expect(readCidr(bad), bad).toHaveProperty("problem");
  });
});

describe("ip.inRange on the command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "policyc-ip-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("eval explains the deciding range test, from sources and from a built bundle", async () => {
    writeFileSync(join(dir, "egress.policy"), DECLS + SSRF);
    writeFileSync(join(dir, "r.json"), JSON.stringify(fetchOf("http://[::ffff:169.254.169.254]/latest/meta-data/iam/")));
    const expected = [
      "deny http.get (session s)",
      "  by private (deny, egress.policy:4:20)",
      '    `ip.inRange(url.host(args.url), ["169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"])` was true (url.host(args.url) is "169.254.169.254")',
      "  also considered:",
      '    no-host (deny) did not match: `url.host(args.url) == ""` was false (url.host(args.url) is "169.254.169.254")',
      "    egress/3 (allow) matched: no condition: it always matches",
      "",
    ].join("\n");
    expect(await cli(["eval", "egress.policy", "--request", "r.json"], { cwd: dir })).toEqual({ code: 0, stdout: expected, stderr: "" });
    expect(await cli(["build", "egress.policy", "-o", "egress.bundle.json"], { cwd: dir })).toMatchObject({ code: 0 });
    expect(JSON.parse(readFileSync(join(dir, "egress.bundle.json"), "utf8")).code).toContain("rt.inIpRanges(");
    expect(await cli(["eval", "--bundle", "egress.bundle.json", "--request", "r.json"], { cwd: dir })).toEqual({ code: 0, stdout: expected, stderr: "" });
  });

  it("check refuses a range that is not a CIDR, and ranges not written in the policy", async () => {
    writeFileSync(join(dir, "bad.policy"), `${DECLS}policy p {\n  deny http.get when ip.inRange(url.host(args.url), ["10.0.0.0/8", "172.16.0.1/12"])\n  deny http.get when ip.inRange(args.host, args.url)\n}\n`);
    const result = await cli(["check", "bad.policy"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toContain('bad.policy:4:68: error[PC307]: "172.16.0.1/12" is not an IP range: `172.16.0.1` has bits set after the first 12');
    expect(result.stderr + result.stdout).toContain('= help: write "172.16.0.0/12", the range it is in');
    expect(result.stderr + result.stdout).toContain("bad.policy:5:44: error[PC307]: `ip.inRange` takes its ranges written in the policy");
  });
});
