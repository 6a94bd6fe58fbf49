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
import { bin, cli, ROOT } from "../helpers.js";
import { SUPPORT_SOURCES } from "../runtime/fixtures.js";

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
  write("no.json", JSON.stringify({ session: "s", tool: "t", args: { s: "no" } }));
});

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

describe("policyc verify", () => {
  it("passes bundles this policyc built, saying what was checked (exit 0)", async () => {
    const both = await run(["verify", "good.json", "signed.json"]);
    expect(both).toMatchObject({ code: 0 });
    expect(both.stdout).toMatch(/^good\.json: verified: sha256:[0-9a-f]{64}, policyc [^,]+, unsigned; its code is what this policyc emits from its rules\nsigned\.json: verified: sha256:[0-9a-f]{64}, policyc [^,]+, signature not checked; /);
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

  it("eval, test and diff take another policyc's bundle with a warning that its code could not be checked against its rules", async () => {
    const result = await run(["eval", "--bundle", "other-compiler.json", "--request", "no.json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^other-compiler\.json: warning\[PC708\]: .*Its decisions come from its code and its explanations from its rules: if the code was changed, they disagree\n/);
    const diff = await run(["diff", "good.json", "tampered.json", "--replay", "no.json"]);
    expect(diff.code).toBe(2);
    expect(diff.stderr).toContain("tampered.json: error[PC707]");
  });
});
