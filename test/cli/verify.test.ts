import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { BUNDLE_CODES } from "../../src/bundle/errorCodes.js";
import { contentHash } from "../../src/bundle/hash.js";
import { BundleError } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compileSources } from "../../src/compile/compile.js";
import { verifyBundleCode } from "../../src/index.js";
import { bin, cli, resigned, ROOT } from "../helpers.js";
import { Engine } from "../../src/runtime/engine.js";
import { VERSION } from "../../src/version.js";
import { readdirSync } from "node:fs";
import { IR_KINDS_TEXT, SUPPORT_SOURCES } from "../runtime/fixtures.js";

/**
 * `policyc verify` and `verifyBundleCode`: a bundle whose code was edited and rehashed passes its
 * hash check; its code is compared with what this policyc emits from the bundle's own rules,
 * and refused before it runs (audit of a multi-tenant operator, untrusted bundles 1 and 2).
 */
let dir: string;
const TEXT = `tool t { risk high args { s: string } }\npolicy p {\n  @name("a") allow t when args.s == "ok"\n}\n`;
const SOURCES = [{ path: "p.policy", text: TEXT }];
const OLD = join(ROOT, "test/fixtures/bundles/ip-ranges-old-calls.json");

function built(sources = SOURCES, options: Parameters<typeof createBundle>[2] = {}): Bundle {
  return JSON.parse(serializeBundle(createBundle(compileSources(sources).policy!, sources, options))) as Bundle;
}

/** `bundle` with `edit` applied and its hash recomputed, as anyone can. */
function rehashed(bundle: Bundle, edit: (b: { code: string; session: unknown; manifest: { compiler: string } }) => void): Bundle {
  const copy = structuredClone(bundle);
  edit(copy as never);
  (copy.manifest as { contentHash: string }).contentHash = contentHash(copy);
  return copy;
}

const FORGE_TEXT = IR_KINDS_TEXT;
const FORGE_SOURCES = [{ path: "f.policy", text: FORGE_TEXT }];

/** What forged IR runs if its code runs: sets a global flag, which the tests look at. */
const INJECTED = (field: string) => `(globalThis.policycInjected = ${JSON.stringify(field)}, 0)`;

/**
 * Bundles whose rules' IR holds code, with the code an emitter that wrote IR fields as they are
 * would emit from it (`from` replaced by `to`), rehashed: their code is "what the rules say".
 */
const FORGED: readonly { field: string; path: string; edit: (rules: any[]) => void; from: string; to: string }[] = [
  { field: "operator", path: "rules[0].ir.operator", edit: (rules) => (rules[0].ir.operator = `=== "no" || ${INJECTED("operator")} ||`), from: '(cArgs["s"] === "ok")', to: `(cArgs["s"] === "no" || ${INJECTED("operator")} || "ok")` },
  { field: "count withinMs", path: "rules[1].ir.left.withinMs", edit: (rules) => (rules[1].ir.left.withinMs = `600000 + ${INJECTED("count withinMs")}`), from: "c.now - 600000", to: `c.now - 600000 + ${INJECTED("count withinMs")}` },
  { field: "called withinMs", path: "rules[2].ir.terms[0].withinMs", edit: (rules) => (rules[2].ir.terms[0].withinMs = `3600000 + ${INJECTED("called withinMs")}`), from: "c.now - 3600000", to: `c.now - 3600000 + ${INJECTED("called withinMs")}` },
  { field: "function name", path: "rules[2].ir.terms[1].left.name", edit: (rules) => (rules[2].ir.terms[1].left.name = `urlHostAt(K2, c, ${INJECTED("function name")}) || rt.urlHostAt`), from: "rt.urlHostAt(", to: `rt.urlHostAt(K2, c, ${INJECTED("function name")}) || rt.urlHostAt(` },
  { field: "quantifier kind", path: "rules[3].ir.kind", edit: (rules) => (rules[3].ir.kind = `some(() => ${INJECTED("quantifier kind")}) || [].some`), from: '.some(($', to: `.some(() => ${INJECTED("quantifier kind")}) || [].some(($` },
  { field: "count withinMs (a number out of range)", path: "rules[1].ir.left.withinMs", edit: (rules) => (rules[1].ir.left.withinMs = -1), from: "c.now - 600000", to: `c.now - -1 + ${INJECTED("negative window")}` },
];

function forged(forgery: (typeof FORGED)[number]): Bundle {
  return rehashed(built(FORGE_SOURCES), (b) => {
    forgery.edit((b as unknown as { rules: unknown[] }).rules);
    b.code = b.code.replaceAll(forgery.from, forgery.to);
  });
}

declare global {
  // eslint-disable-next-line no-var
  var policycInjected: unknown;
}

const write = (name: string, value: unknown): void => writeFileSync(join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
const run = (args: string[]) => cli(args, { cwd: dir });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-verify-"));
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  write("public.pem", publicKey.export({ type: "spki", format: "pem" }) as string);
  write("other.pem", generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string);
  write("good.json", built());
  write("signed.json", built(SOURCES, { privateKey }));
  // Allows everything, whatever its rules say; and says so on standard output if it ever runs.
  write("tampered.json", rehashed(built(), (b) => (b.code = `process.stdout.write("TAMPERED CODE RAN\\n");\n${b.code.replace('(cArgs["s"] === "ok")', "true")}`)));
  write("other-compiler.json", rehashed(built(), (b) => ((b.code = b.code.replace('(cArgs["s"] === "ok")', "true")), (b.manifest.compiler = "policyc 0.10.0"))));
  write("ok.json", JSON.stringify({ session: "s", tool: "t", args: { s: "ok" } }));
  write("forge-request.json", JSON.stringify({ session: "s", tool: "t", args: { s: "ok", u: "https://a.example/" } }));
  write("forge.jsonl", `${JSON.stringify({ session: "s", tool: "t", args: { s: "ok", u: "https://a.example/" }, expect: "allow" })}\n`);
  FORGED.forEach((forgery, index) => write(`forged-${index}.json`, forged(forgery)));
  // Another policyc's bundle whose code differs and says so on standard error when it runs (its first line runs as it loads).
  const otherCompiler = rehashed(built(), (b) => ((b.code = `process.stderr.write("OTHER COMPILER'S CODE RAN\\n"); globalThis.policycInjected = "other compiler";\n${b.code}`), (b.manifest.compiler = "policyc 0.10.0")));
  write("other-unsigned.json", otherCompiler);
  write("other-signed.json", resigned(otherCompiler, privateKey));
  // Signed by a checked key, built by another policyc, whose IR has a field this one does not know (review r2 finding 6).
  const extraField = rehashed(built(), (b) => {
    (b as unknown as { rules: { ir: { left: Record<string, unknown> } }[] }).rules[0]!.ir.left["legacyFlag"] = true;
    b.manifest.compiler = "policyc 0.11.0";
  });
  write("extra-field-unsigned.json", extraField);
  write("extra-field-signed.json", resigned(extraField, privateKey));
  write("not-json.json", "this is no JSON");
  write("number.json", "42");
  write("empty-object.json", "{}");
  write("p.policy", TEXT);
  write("no.json", JSON.stringify({ session: "s", tool: "t", args: { s: "no" } }));
  // Says it allows `s == "no"` while its IR (and code) allows `s == "ok"`: what eval would explain by.
  write("forged-text.json", textForged(built(), (rule) => ((rule.condition = 'when args.s == "no"'), (rule.clauses = ['args.s == "no"']))));
  write("unparsable-text.json", textForged(built(), (rule) => (rule.condition = "when args.s == (")));
  const otherText = textForged(built(), (rule, bundle) => ((rule.clauses = ["args.s"]), (bundle.manifest.compiler = "policyc 0.12.0")));
  write("other-text-unsigned.json", otherText);
  write("other-text-signed.json", resigned(otherText, privateKey));
});

/** `bundle` with `edit` applied to its first rule (and the bundle), rehashed: code, IR and session untouched. */
function textForged(bundle: Bundle, edit: (rule: { condition: string | null; clauses: string[] }, bundle: { manifest: { compiler: string } }) => void): Bundle {
  return rehashed(bundle, (b) => edit((b as unknown as { rules: { condition: string | null; clauses: string[] }[] }).rules[0]!, b));
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verifyBundleCode (library)", () => {
  it("returns a bundle this policyc built, and those of the sample policy sets", () => {
    expect(verifyBundleCode(built()).manifest.compiler).toMatch(/^policyc /);
    expect(verifyBundleCode(built([...SUPPORT_SOURCES])).rules.length).toBeGreaterThan(3);
  });

  it("refuses code edited and rehashed, with PC707, and says where it differs", () => {
    const tampered = JSON.parse(readFileSync(join(dir, "tampered.json"), "utf8")) as Bundle;
    expect(() => verifyBundleCode(tampered)).toThrow(BundleError);
    expect(() => verifyBundleCode(tampered)).toThrow(/^the bundle's code is not what this policyc emits from its rules, schema and session \(first at line 1 of \d+; \d+ emitted\): it was changed after it was built/);
    try {
      verifyBundleCode(tampered);
    } catch (error) {
      expect((error as BundleError).code).toBe(BUNDLE_CODES.codeDiffers);
    }
  });

  it("refuses a session use its rules do not read (PC707), and another policyc's code this one does not emit (PC708)", () => {
    const session = rehashed(built(), (b) => (b.session = { ...(b.session as { repeats: boolean }), repeats: !(b.session as { repeats: boolean }).repeats }));
    expect(() => verifyBundleCode(session)).toThrow(/session use \(`session`\) is not what its rules read/);
    const old = JSON.parse(readFileSync(OLD, "utf8")) as Bundle;
    let code: string | undefined;
    try {
      verifyBundleCode(old);
    } catch (error) {
      code = (error as BundleError).code;
      expect((error as Error).message).toContain('and it was built by "policyc 0.10.0", not this policyc');
    }
    expect(code).toBe(BUNDLE_CODES.codeOfOtherCompiler);
  });
});

describe("verifyBundleCode and getters (review r1 M2)", () => {
  it("compares the code it hashed: a bundle whose `code` getter shows the honest code to one read and tampered code to the next is refused (PC701)", () => {
    const honest = built();
    let reads = 0;
    const shifty = Object.defineProperty({ ...honest }, "code", { enumerable: true, get: () => (reads++ % 2 === 0 ? honest.code : `globalThis.policycInjected = "getter";\n${honest.code}`) });
    expect(() => verifyBundleCode(shifty)).toThrow(/^not a valid policyc bundle: its "code" is a getter/);
    expect(globalThis.policycInjected).toBeUndefined();
  });
});

describe("policyc verify", () => {
  it("passes bundles this policyc built, saying what was checked (exit 0)", async () => {
    const both = await run(["verify", "good.json", "signed.json"]);
    expect(both).toMatchObject({ code: 0 });
    expect(both.stdout).toMatch(/^good\.json: verified: sha256:[0-9a-f]{64}, policyc [^,]+, unsigned; its code is what this policyc emits from its rules, and its rules' text what they run\nsigned\.json: verified: sha256:[0-9a-f]{64}, policyc [^,]+, signature not checked; /);
    expect(both.stderr).toBe("policyc verify: note: `signed.json` is signed, but its signature was not checked: give --public-key KEY.pem to check it\n");
    const unsignedOk = await run(["verify", "good.json"]);
    expect(unsignedOk).toMatchObject({ code: 0, stderr: "" });
    expect(unsignedOk.stdout).toContain("good.json: verified: sha256:");
    const signed = await run(["verify", "signed.json", "--public-key", "public.pem"]);
    expect(signed).toMatchObject({ code: 0, stderr: "" });
    expect(signed.stdout).toContain(", signature checked;");
  });

  it("refuses edited code before it runs (PC707, exit 1), and names each bundle", async () => {
    const result = bin(["verify", "good.json", "tampered.json"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("TAMPERED CODE RAN");
    expect(result.stdout).toMatch(/^good\.json: verified: /);
    expect(result.stderr).toMatch(/^tampered\.json: error\[PC707\]: the bundle's code is not what this policyc emits from its rules, schema and session/);
  });

  it("refuses another policyc's code it does not emit (PC708, exit 1), a wrong signature (PC703, exit 1), and a missing file (PC700, exit 2)", async () => {
    expect(await run(["verify", "other-compiler.json"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^other-compiler\.json: error\[PC708\]: .*built by "policyc 0\.10\.0"/) });
    expect(await run(["verify", "signed.json", "--public-key", "other.pem"])).toMatchObject({ code: 1, stderr: expect.stringContaining("signed.json: error[PC703]") });
    expect(await run(["verify", "missing.json", "tampered.json"])).toMatchObject({ code: 2, stderr: expect.stringContaining("missing.json: error[PC700]") });
    expect(await run(["verify"])).toMatchObject({ code: 2, stderr: "policyc verify: give the bundle files to verify\n" });
  });
});

describe("eval, test and diff with a bundle", () => {
  it("eval refuses edited code (PC707, exit 2) rather than explain by rules a decision its code made", async () => {
    const tampered = bin(["eval", "--bundle", "tampered.json", "--request", "no.json"], { cwd: dir });
    expect(tampered.code).toBe(2);
    expect(tampered.stdout).toBe("");
    expect(tampered.stderr).toMatch(/^tampered\.json: error\[PC707\]: /);
    expect((await run(["eval", "--bundle", "good.json", "--request", "no.json"])).stdout).toMatch(/^deny t/);
  });

  it("eval refuses another policyc's unsigned bundle whose code this one does not emit (PC708, exit 2)", async () => {
    const result = await run(["eval", "--bundle", "other-compiler.json", "--request", "no.json"]);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toMatch(/^other-compiler\.json: error\[PC708\]: .*Refusing to run it unsigned: .*Give --public-key KEY\.pem to run a bundle its builder signed\n$/);
    const diff = await run(["diff", "good.json", "tampered.json", "--replay", "no.json"]);
    expect(diff.code).toBe(2);
    expect(diff.stderr).toContain("tampered.json: error[PC707]");
  });
});

describe("bundles whose rules' IR holds code (review r1 H1)", () => {
  for (const [index, forgery] of FORGED.entries()) {
    it(`refuses a forged ${forgery.field} in verify, eval and test (PC701, at \`${forgery.path}\`), and its code never runs`, async () => {
      const name = `forged-${index}.json`;
      delete globalThis.policycInjected;
      expect(() => verifyBundleCode(JSON.parse(readFileSync(join(dir, name), "utf8")))).toThrow(new RegExp(`^not a valid policyc bundle: \`${forgery.path.replace(/[[\].]/g, "\\$&")}\` is `));
      const verify = await run(["verify", name]);
      expect(verify).toMatchObject({ code: 1, stdout: "" });
      expect(verify.stderr).toMatch(new RegExp(`^${name.replace(".", "\\.")}: error\\[PC701\\]: not a valid policyc bundle: \`${forgery.path.replace(/[[\].]/g, "\\$&")}\` is .*: no policyc writes that, so its code is not compared with it, and it does not run; rebuild the bundle from its sources\n$`));
      const evaluated = await run(["eval", "--bundle", name, "--request", "forge-request.json"]);
      expect(evaluated).toMatchObject({ code: 2, stdout: "" });
      expect(evaluated.stderr).toContain(`${name}: error[PC701]: not a valid policyc bundle: \``);
      const tested = await run(["test", "--bundle", name, "--replay", "forge.jsonl"]);
      expect(tested).toMatchObject({ code: 2, stdout: "" });
      expect(tested.stderr).toContain(`${name}: error[PC701]`);
      const diffed = await run(["diff", name, "good.json", "--replay", "forge.jsonl"]);
      expect(diffed.code).toBe(2);
      expect(diffed.stderr).toContain(`${name}: error[PC701]`);
      expect(globalThis.policycInjected).toBeUndefined();
    });
  }

  it("the forged bundles are otherwise sound: their hash holds, and an honest one of the same rules runs", async () => {
    const honest = built(FORGE_SOURCES);
    write("forge-honest.json", honest);
    expect(await run(["verify", "forge-honest.json"])).toMatchObject({ code: 0 });
    expect((await run(["eval", "--bundle", "forge-honest.json", "--request", "forge-request.json"])).stdout).toMatch(/^allow t/);
    // A forged operator's code is the code the emitter wrote from that IR before the IR was checked.
    expect(JSON.parse(readFileSync(join(dir, "forged-0.json"), "utf8")).code).toContain('(cArgs["s"] === "no" || (globalThis.policycInjected = "operator", 0) || "ok")');
  });
});

describe("another policyc's bundle (review r1 H2)", () => {
  it("unsigned: eval, test and diff refuse it (PC708, exit 2) before any of its code runs", () => {
    for (const args of [["eval", "--bundle", "other-unsigned.json", "--request", "no.json"], ["test", "--bundle", "other-unsigned.json", "--replay", "forge.jsonl"], ["diff", "good.json", "other-unsigned.json", "--replay", "no.json"]]) {
      const result = bin(args, { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^other-unsigned\.json: error\[PC708\]: .*built by "policyc 0\.10\.0".*Refusing to run it unsigned/m);
      expect(result.stderr).not.toContain("OTHER COMPILER'S CODE RAN");
      expect(result.stdout).toBe("");
    }
  });

  it("unsigned but signed by nobody checked: a signature not checked (no --public-key) is no signature", () => {
    const result = bin(["eval", "--bundle", "other-signed.json", "--request", "no.json"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("other-signed.json: error[PC708]");
    expect(result.stderr).not.toContain("OTHER COMPILER'S CODE RAN");
  });

  it("signed and checked (--public-key): used, with the PC708 warning printed before any of its code runs", () => {
    for (const args of [["eval", "--bundle", "other-signed.json", "--public-key", "public.pem", "--request", "no.json"], ["test", "--bundle", "other-signed.json", "--public-key", "public.pem", "--replay", "forge.jsonl"]]) {
      const result = bin(args, { cwd: dir });
      const warning = result.stderr.indexOf("other-signed.json: warning[PC708]: ");
      expect(warning).toBe(0);
      expect(result.stderr).toContain("Its signature was checked, so it runs as signed");
      expect(result.stderr.indexOf("OTHER COMPILER'S CODE RAN")).toBeGreaterThan(warning);
    }
    expect(bin(["eval", "--bundle", "other-signed.json", "--public-key", "public.pem", "--request", "no.json"], { cwd: dir }).code).toBe(0);
    // A key that did not sign it: refused as ever (PC703), before anything runs.
    const wrongKey = bin(["eval", "--bundle", "other-signed.json", "--public-key", "other.pem", "--request", "no.json"], { cwd: dir });
    expect(wrongKey).toMatchObject({ code: 2 });
    expect(wrongKey.stderr).not.toContain("OTHER COMPILER'S CODE RAN");
  });

  it("verify refuses it whether or not its signature was checked (PC708, exit 1): it vouches only for code this policyc emits", async () => {
    expect(await run(["verify", "other-signed.json", "--public-key", "public.pem"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^other-signed\.json: error\[PC708\]/) });
    expect(globalThis.policycInjected).toBeUndefined();
  });
});

describe("policyc verify: exit codes and --json (review r1 M6, M7)", () => {
  it("exits 2 for a file that is no bundle or cannot be read, 1 for a JSON object refused as a bundle", async () => {
    expect(await run(["verify", "not-json.json"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^not-json\.json: error\[PC700\]: not JSON/) });
    expect(await run(["verify", "number.json"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^number\.json: error\[PC701\]/) });
    expect(await run(["verify", "p.policy"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^p\.policy: error\[PC701\]/) });
    expect(await run(["verify", "empty-object.json"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^empty-object\.json: error\[PC701\]/) });
    expect((await run(["verify", "empty-object.json", "missing.json"])).code).toBe(2);
  });

  it("--json prints one document (golden): ok, counts, each bundle's result and the refusals as diagnostics", async () => {
    const good = JSON.parse(readFileSync(join(dir, "good.json"), "utf8")) as Bundle;
    const result = await run(["verify", "good.json", "signed.json", "tampered.json", "missing.json", "--json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    const json = JSON.parse(result.stdout);
    const tamperedMessage = json.diagnostics[0]?.message as string;
    expect(tamperedMessage).toMatch(/^the bundle's code is not what this policyc emits from its rules, schema and session \(first at line 1 of \d+; \d+ emitted\)/);
    expect(json).toEqual({
      ok: false,
      errors: 2,
      warnings: 0,
      bundles: [
        { path: "good.json", ok: true, contentHash: good.manifest.contentHash, compiler: good.manifest.compiler, signature: "unsigned", notes: [] },
        { path: "signed.json", ok: true, contentHash: good.manifest.contentHash, compiler: good.manifest.compiler, signature: "not checked", notes: ["`signed.json` is signed, but its signature was not checked: give --public-key KEY.pem to check it"] },
        { path: "tampered.json", ok: false, code: "PC707", reason: `\`tampered.json\`: ${tamperedMessage}` },
        { path: "missing.json", ok: false, code: "PC700", reason: expect.stringMatching(/^cannot read bundle `missing\.json`: /) },
      ],
      diagnostics: [
        { code: "PC707", severity: "error", message: tamperedMessage, file: "tampered.json", line: null, column: null, end: null },
        { code: "PC700", severity: "error", message: expect.stringMatching(/^cannot read bundle `missing\.json`: /), file: "missing.json", line: null, column: null, end: null },
      ],
    });
    const passed = JSON.parse((await run(["verify", "good.json", "--json"])).stdout);
    expect(passed).toMatchObject({ ok: true, errors: 0, warnings: 0, diagnostics: [] });
  });
});

/** The coding-agent sample's bundle (records and enums declared), with `edit` applied to its schema and rehashed. */
function sampleWithSchema(edit: (schema: any) => void): Bundle {
  const folder = join(ROOT, "samples/coding-agent");
  const sources = readdirSync(folder).filter((name) => name.endsWith(".policy")).sort().map((name) => ({ path: name, text: readFileSync(join(folder, name), "utf8") }));
  return rehashed(built(sources), (b) => edit((b as unknown as { schema: unknown }).schema));
}

describe("declared types naming no declared record or enum (review r2 finding 5)", () => {
  const cases: [string, (schema: any) => void, string][] = [
    ["a record named __proto__", (schema) => (schema.entities.context.repo.type = { record: "__proto__" }), "`schema.entities.context.repo.type.record` is \"__proto__\", which is no record the bundle's schema declares"],
    ["an enum named toString inside a set", (schema) => (schema.entities.context.labels.type = { set: { enum: "toString" } }), "`schema.entities.context.labels.type.set.enum` is \"toString\", which is no enum the bundle's schema declares"],
    ["an enum named constructor in a tool's arguments", (schema) => (schema.tools["pkg.install"].args.manager.type = { enum: "constructor" }), "`schema.tools[\"pkg.install\"].args.manager.type.enum` is \"constructor\", which is no enum the bundle's schema declares"],
    ["a record undeclared inside a list, in a record", (schema) => (schema.records.Repo.tags.type = { list: { record: "Nowhere" } }), "`schema.records.Repo.tags.type.list.record` is \"Nowhere\", which is no record the bundle's schema declares"],
  ];
  for (const [what, edit, message] of cases) {
    it(`refuses ${what} (PC701, naming the path) in verify and verifyBundle`, async () => {
      const bundle = sampleWithSchema(edit);
      let code: string | undefined;
      try {
        verifyBundleCode(structuredClone(bundle));
      } catch (error) {
        code = (error as BundleError).code;
        expect((error as Error).message).toBe(`not a valid policyc bundle: ${message}`);
      }
      expect(code).toBe("PC701");
      write("type-name.json", bundle);
      const result = await run(["verify", "type-name.json"]);
      expect(result).toMatchObject({ code: 1, stderr: `type-name.json: error[PC701]: not a valid policyc bundle: ${message}\n` });
    });
  }

  it("passes the sample's own bundle, whose every type names what its schema declares", () => {
    expect(() => verifyBundleCode(sampleWithSchema(() => undefined))).not.toThrow();
  });
});

describe("another policyc's signed bundle with IR this policyc does not know (review r2 finding 6)", () => {
  it("says this policyc does not know it (PC701), not that no policyc writes it, once its signature was checked", async () => {
    const signed = await run(["verify", "extra-field-signed.json", "--public-key", "public.pem"]);
    expect(signed.code).toBe(1);
    expect(signed.stderr).toBe(`extra-field-signed.json: error[PC701]: this policyc (${VERSION}) does not know what the bundle's rules hold: \`rules[0].ir.left\` (get) has "legacyFlag", which no \`get\` of this policyc has; it was built by "policyc 0.11.0", so its code is not compared with its rules, and it does not run: rebuild the bundle with this policyc\n`);
    const evaluated = bin(["eval", "--bundle", "extra-field-signed.json", "--public-key", "public.pem", "--request", "ok.json"], { cwd: dir });
    expect(evaluated.stderr).toContain(`extra-field-signed.json: error[PC701]: this policyc (${VERSION}) does not know`);
    // Unsigned (or its signature not checked), its claim of another policyc is anyone's: no policyc writes that.
    for (const args of [["verify", "extra-field-unsigned.json"], ["verify", "extra-field-signed.json"]]) {
      expect((await run(args)).stderr).toContain(": no policyc writes that, so its code is not compared with it");
    }
    expect(() => verifyBundleCode(JSON.parse(readFileSync(join(dir, "extra-field-signed.json"), "utf8")), { publicKey: readFileSync(join(dir, "public.pem"), "utf8") })).toThrow(/^this policyc \(.*\) does not know what the bundle's rules hold: .*: rebuild the bundle with this policyc$/);
  });
});

describe("verifyBundleCode marks a bundle checked only once its code passed (review r2 finding 3)", () => {
  it("a bundle refused with PC707 is not taken by new Engine afterwards, nor a copy of it, and its code never runs", () => {
    const tampered = rehashed(built(), (b) => (b.code = `globalThis.policycInjected = "after PC707";\n${b.code}`));
    expect(() => verifyBundleCode(tampered)).toThrow(/^the bundle's code is not what this policyc emits/);
    expect(() => new Engine(tampered)).toThrow(TypeError);
    expect(() => new Engine(structuredClone(tampered))).toThrow(TypeError);
    expect(globalThis.policycInjected).toBeUndefined();
    // A bundle that passes is taken.
    const good = built();
    expect(new Engine(verifyBundleCode(good)).decide({ session: "s", tool: "t", args: { s: "ok" } }).decision).toBe("allow");
  });
});

describe("rules whose readable text is not what they run (PC709)", () => {
  const FORGED_TEXT = 'the bundle\'s rule "a" (`rules[0]`): its `condition` "when args.s == \\"no\\"" compiles to `{"op":"compare","operator":"==","left":{"op":"get","object":{"op":"root","root":"args"},"name":"s","convert":"none"},"right":{"op":"const","value":"no"},"deep":false}`, while its `ir`, which its code runs, is `{"op":"compare","operator":"==","left":{"op":"get","object":{"op":"root","root":"args"},"name":"s","convert":"none"},"right":{"op":"const","value":"ok"},"deep":false}`: its text (which explanations, diffs and reviewers show) is not what its code runs; refusing it: rebuild it from its sources, and require a signature (--public-key) for bundles you did not build';

  it("verify refuses a condition forged over honest IR (exit 1), naming the rule and the field, and --json lists it", async () => {
    expect(await run(["verify", "good.json", "forged-text.json"])).toMatchObject({ code: 1, stderr: `forged-text.json: error[PC709]: ${FORGED_TEXT}\n`, stdout: expect.stringMatching(/^good\.json: verified: /) });
    const json = JSON.parse((await run(["verify", "forged-text.json", "--json"])).stdout);
    expect(json).toEqual({
      ok: false,
      errors: 1,
      warnings: 0,
      bundles: [{ path: "forged-text.json", ok: false, code: "PC709", reason: `\`forged-text.json\`: ${FORGED_TEXT}` }],
      diagnostics: [{ code: "PC709", severity: "error", message: FORGED_TEXT, file: "forged-text.json", line: null, column: null, end: null }],
    });
  });

  it("verify refuses text that does not parse with PC709 naming the rule, never a stack trace (exit 1)", async () => {
    const result = await run(["verify", "unparsable-text.json"]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(/^unparsable-text\.json: error\[PC709\]: the bundle's rule "a" \(`rules\[0\]`\): its text does not check against the bundle's schema: "allow t when args\.s == \(" is error\[PC1\d\d\]: [^\n]+\n$/);
  });

  it("eval, test and diff refuse it before explaining by its text (exit 2)", async () => {
    for (const args of [["eval", "--bundle", "forged-text.json", "--request", "no.json"], ["test", "--bundle", "forged-text.json", "--replay", "forge.jsonl"], ["diff", "good.json", "forged-text.json", "--replay", "no.json"]]) {
      const result = await run(args);
      expect(result).toMatchObject({ code: 2, stdout: "" });
      // diff says which side the bundle is (`NEW: `).
      expect(result.stderr).toContain(`forged-text.json: error[PC709]: ${args[0] === "diff" ? "NEW: " : ""}${FORGED_TEXT}`);
    }
  });

  it("another policyc's text: refused unsigned, and run with a warning once its signature was checked, as PC708", async () => {
    const verified = await run(["verify", "other-text-signed.json", "--public-key", "public.pem"]);
    expect(verified).toMatchObject({ code: 1, stderr: expect.stringMatching(/^other-text-signed\.json: error\[PC709\]: the bundle's rule "a" \(`rules\[0\]`\): its `clauses` are not its condition's clauses .*, and it was built by "policyc 0\.12\.0", not this policyc/) });
    const unsigned = await run(["eval", "--bundle", "other-text-unsigned.json", "--request", "ok.json"]);
    expect(unsigned).toMatchObject({ code: 2, stdout: "" });
    expect(unsigned.stderr).toMatch(/^other-text-unsigned\.json: error\[PC709\]: .*Refusing to run it unsigned: its rules' text is checked by no one/);
    const signed = await run(["eval", "--bundle", "other-text-signed.json", "--public-key", "public.pem", "--request", "ok.json"]);
    expect(signed.code).toBe(0);
    expect(signed.stderr).toMatch(/^other-text-signed\.json: warning\[PC709\]: .*Its signature was checked, so it runs as signed/);
    expect(signed.stdout).toMatch(/^allow t/);
  });
});
