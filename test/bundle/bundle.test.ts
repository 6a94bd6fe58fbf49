import { createHash, createSecretKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { BUNDLE_FORMAT, bundleJsonSchema } from "../../src/bundle/bundleSchema.js";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { BundleError, loadBundle, verifyBundle, type LoadOptions } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compileSources } from "../../src/compile/compile.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { VERSION } from "../../src/version.js";
import { ROOT } from "../helpers.js";
import { call, SUPPORT_SOURCES } from "../runtime/fixtures.js";

/**
 * Bundles: deterministic bytes, a content hash that catches any change, a JSON Schema that
 * rejects malformed bundles, and Ed25519 signatures — all checked before any bundle code runs.
 */

function compiled(sources: readonly { path: string; text: string }[] = SUPPORT_SOURCES): CompiledPolicy {
  const { policy, diagnostics } = compileSources(sources);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return policy;
}

/** A fresh bundle as an enforcement point receives it: parsed JSON. */
function bundleJson(options: Parameters<typeof createBundle>[2] = {}): Bundle {
  return JSON.parse(serializeBundle(createBundle(compiled(), SUPPORT_SOURCES, options))) as Bundle;
}

function expectBundleError(action: () => unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    action();
  } catch (caught) {
    error = caught;
  }
  expect(error, "expected a BundleError").toBeInstanceOf(BundleError);
  expect((error as Error).message).toMatch(pattern);
}

declare global {
  // eslint-disable-next-line no-var
  var pwned: unknown;
}

afterEach(() => {
  expect(globalThis.pwned).toBeUndefined();
  delete globalThis.pwned;
});

describe("determinism", () => {
  it("the same sources give byte-identical bundles (built twice, from scratch)", () => {
    const first = serializeBundle(createBundle(compiled(), SUPPORT_SOURCES));
    const second = serializeBundle(createBundle(compiled(SUPPORT_SOURCES.map((s) => ({ ...s }))), SUPPORT_SOURCES));
    expect(second).toBe(first);
    expect(first.endsWith("\n")).toBe(true);
  });

  it("a signature does not change the content hash; signing twice gives the same bytes (Ed25519 is deterministic)", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const unsigned = createBundle(compiled(), SUPPORT_SOURCES);
    const signed = createBundle(compiled(), SUPPORT_SOURCES, { privateKey });
    expect(signed.manifest.contentHash).toBe(unsigned.manifest.contentHash);
    expect(serializeBundle(createBundle(compiled(), SUPPORT_SOURCES, { privateKey }))).toBe(serializeBundle(signed));
  });

  it("a different source changes the hash", () => {
    const other = SUPPORT_SOURCES.map((s) => (s.path === "support.policy" ? { ...s, text: s.text.replace("30 calls", "31 calls") } : s));
    expect(createBundle(compiled(other), other).manifest.contentHash).not.toBe(createBundle(compiled(), SUPPORT_SOURCES).manifest.contentHash);
  });
});

describe("contents", () => {
  it("carries the format, the compiler version, the sources' hashes, schema, session use, rules and code", () => {
    const bundle = bundleJson();
    expect(bundle.format).toBe(BUNDLE_FORMAT);
    expect(bundle.manifest.compiler).toBe(`policyc ${VERSION}`);
    expect(bundle.manifest.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(bundle.manifest.sources).toEqual(SUPPORT_SOURCES.map((s) => ({ path: s.path, sha256: createHash("sha256").update(s.text, "utf8").digest("hex") })));
    expect(Object.keys(bundle.schema.tools).sort()).toEqual(["crm.lookup", "email.send", "http.get", "kb.search"]);
    expect(bundle.rules.map((r) => r.id)).toEqual(["lookup-for-tickets", "support/2", "pii-stays-inside", "support/4", "rate", "loop", "off-intent", "risk-escalation"]);
    expect(bundle.rules[2]).toMatchObject({ controls: ["OWASP-ASI03", "MAESTRO-L3"], docs: "Customer data never leaves acme.com by email.", location: "support.policy:13:3" });
    expect(typeof bundle.code).toBe("string");
  });

  it("validates against its own JSON Schema with an independent ajv instance", () => {
    const validate = new Ajv({ strict: false, strictNumbers: true }).compile(bundleJsonSchema);
    expect(validate(bundleJson()), JSON.stringify(validate.errors)).toBe(true);
    const { privateKey } = generateKeyPairSync("ed25519");
    expect(validate(bundleJson({ privateKey })), JSON.stringify(validate.errors)).toBe(true);
  });

  it("decides like the compiled policy after a round trip", () => {
    const engine = loadBundle(bundleJson());
    expect(engine.decide(call("crm.lookup", 0))).toMatchObject({ decision: "allow", rules: ["lookup-for-tickets"], grants: [{ scope: "crm:read", ttlSeconds: 300 }] });
  });
});

describe("tampering", () => {
  it("an edited reason is refused, naming the hash", () => {
    const bundle = bundleJson();
    (bundle.rules[2] as { reason: string }).reason = "anything goes";
    expectBundleError(() => loadBundle(bundle), /hash/);
    expectBundleError(() => verifyBundle(bundle), /sha256:[0-9a-f]{64}/);
  });

  it("edited code is refused before it runs", () => {
    const bundle = bundleJson();
    (bundle as { code: string }).code = "globalThis.pwned = 1;\n" + bundle.code;
    expectBundleError(() => loadBundle(bundle), /hash/);
    expect(globalThis.pwned).toBeUndefined();
  });

  it("edits anywhere in the content are refused: schema, session use, sources, compiler", () => {
    const edits: ((b: Record<string, any>) => void)[] = [
      (b) => (b["schema"].tools["kb.search"].risk = "critical"),
      (b) => (b["session"].windowMs = 1),
      (b) => (b["manifest"].sources[0].path = "other.policy"),
      (b) => (b["manifest"].compiler = "policyc 9.9.9"),
      (b) => (b["rules"][0].grants[0].ttlSeconds = 86400),
      (b) => (b["rules"][0].ir = null),
      (b) => b["rules"].pop(),
    ];
    for (const edit of edits) {
      const bundle = bundleJson() as unknown as Record<string, any>;
      edit(bundle);
      expectBundleError(() => loadBundle(bundle), /hash/);
    }
  });

  it("a bundle rewritten with its keys sorted (jq -S, a jsonb column) is refused, signed or not: the code numbers the declared tools in the schema's order", () => {
    const sorted = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(sorted);
      if (value === null || typeof value !== "object") return value;
      return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, unknown>)[key])]));
    };
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const original = bundleJson({ privateKey });
    const rewritten = sorted(original);
    // The same data, its keys in another order.
    expect(rewritten).toEqual(original);
    expect(JSON.stringify(rewritten)).not.toBe(JSON.stringify(original));
    expectBundleError(() => loadBundle(rewritten), /rewritten with its keys in another order .*: ship the bundle file byte for byte/);
    expectBundleError(() => loadBundle(rewritten, { publicKey }), /byte for byte/);
  });

  it("a signature has one spelling: the last digit's padding bits set, it is refused though the bytes are the same (review s19 #2)", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const signed = bundleJson({ privateKey });
    const value = signed.signature!.value;
    const last = value.at(-3)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The 16 digits that carry the same two data bits: Buffer.from(…, "base64") reads them all alike.
    const group = alphabet.slice(alphabet.indexOf(last) & ~15).slice(0, 16);
    expect(() => loadBundle(signed, { publicKey })).not.toThrow();
    for (const digit of group.replace(last, "")) {
      const respelled = { ...signed, signature: { ...signed.signature!, value: `${value.slice(0, -3)}${digit}==` } };
      expect(Buffer.from(respelled.signature.value, "base64")).toEqual(Buffer.from(value, "base64"));
      expectBundleError(() => loadBundle(respelled, { publicKey }), /`signature\.value` must be an Ed25519 signature \(64 bytes\) in base64/);
    }
  });

  it("a changed bundle with a recomputed hash passes the hash check, but not the signature check", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const bundle = bundleJson({ privateKey }) as unknown as Record<string, any>;
    bundle["rules"][2].reason = "changed";
    // An attacker recomputes the hash: the signature (over the old hash) no longer matches.
    const forged = { ...(bundle as unknown as Bundle), manifest: { ...(bundle as unknown as Bundle).manifest } };
    const { contentHash: recomputed } = recomputeHash(forged);
    (forged.manifest as { contentHash: string }).contentHash = recomputed;
    expect(() => verifyBundle(forged)).not.toThrow(); // the hash alone only detects accidents
    expectBundleError(() => loadBundle(forged, { publicKey }), /signature/);
  });
});

/** A policy whose IR holds a `null` (`session.count` of no tool) and a `0` (its bound), as the compiler writes them. */
const COUNT_SOURCES = [{ path: "p.policy", text: ["tool shell.exec {", "  risk high", "  args { cmd: string }", "}", "policy base {", '  deny shell.exec when session.count(within 1m) > 0 reason "too many"', "  allow shell.exec", "}", ""].join("\n") }];

describe("numbers JSON reads as values it cannot write back", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const text = serializeBundle(createBundle(compiled(COUNT_SOURCES), COUNT_SOURCES, { privateKey }));

  it("a signed bundle edited to 1e400 for a null or -0 for a 0 (the same content hash once re-serialised) is refused, with or without its key (audit s19 F1)", () => {
    expect(loadBundle(JSON.parse(text), { publicKey }).rules.length).toBe(2);
    const edits: [string, RegExp][] = [
      [text.replace('"tools": null,', '"tools": 1e400,'), /^the bundle's content does not match its hash: its `rules\[0\]\.ir\.left\.tools` holds a number too large for JSON \(read as Infinity\), which JSON writes back as null, so no hash covers it as written; the compiler writes no such number, so it was changed after it was built/],
      [text.replace('"tools": null,', '"tools": -1e400,'), /its `rules\[0\]\.ir\.left\.tools` holds a number too small for JSON \(read as -Infinity\), which JSON writes back as null/],
      [text.replace(/"value": 0\n/, '"value": -0\n'), /its `rules\[0\]\.ir\.right\.value` holds -0, which JSON writes back as 0, so no hash covers it as written/],
    ];
    for (const [edited, message] of edits) {
      expect(edited).not.toBe(text);
      expectBundleError(() => loadBundle(JSON.parse(edited), { publicKey }), message);
      expectBundleError(() => verifyBundle(JSON.parse(edited)), message);
      expectBundleError(() => loadBundle(JSON.parse(edited)), message);
    }
  });

  it("the hash binds the values the file parses to, not their spelling: other spellings of the same values load with the key (review s19 #5)", () => {
    const respelled = [
      text.replace(/"windowMs": 60000/, '"windowMs": 60000.0'),
      text.replace(/"windowMs": 60000/, '"windowMs": 6E4'),
      text.replace('"reason": "too many"', '"reason": "too \\u006dany"'),
      text.replace('"tools": null,', '"tools": "first", "tools": null,'),
      text.replace(/\n */g, ""),
    ];
    for (const edited of respelled) {
      expect(edited).not.toBe(text);
      expect(JSON.parse(edited)).toEqual(JSON.parse(text));
      expect(loadBundle(JSON.parse(edited), { publicKey }).rules.length).toBe(2);
    }
  });

  it("the refusal names where the number is, the bundle's names escaped: a terminal control in a key is shown, not acted on (review s19 #1)", () => {
    const inList = text.replace('"tools": null,', '"tools": null, "x": [1, -0],');
    expectBundleError(() => verifyBundle(JSON.parse(inList)), /^the bundle's content does not match its hash: its `rules\[0\]\.ir\.left\.x\[1\]` holds -0, which JSON writes back as 0/);
    const escaping = text.replace('"tools": null,', '"tools": null, "\\u001b[31mEVIL\\u001b[0m\\u202e": -0,');
    let message = "";
    try {
      verifyBundle(JSON.parse(escaping));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^the bundle's content does not match its hash: its `rules\[0\]\.ir\.left\["\\u001b\[31mEVIL\\u001b\[0m\\u202e"\]` holds -0/);
    expect(message).not.toMatch(/[\u001b\u202e]/u);
  });
});

describe("a pinned content hash (LoadOptions.contentHash)", () => {
  const SOURCE_OF_HASH = "a bundle's content hash is what `policyc build` prints and its `manifest\\.contentHash` holds, not a digest of the file's bytes \\(`sha256sum` of the file gives another\\)";
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const current = bundleJson({ privateKey });
  const older = JSON.parse(serializeBundle(createBundle(compiled(COUNT_SOURCES), COUNT_SOURCES, { privateKey }))) as Bundle;

  it("loads the bundle of that hash; refuses another the same key signed (an older release, another policy set), naming both hashes (audit s19 F2)", () => {
    const pin = current.manifest.contentHash;
    expect(loadBundle(current, { publicKey, contentHash: pin }).rules.length).toBe(current.rules.length);
    expect(verifyBundle(current, { contentHash: `${pin}\n` })).toBe(current);
    expect(loadBundle(older, { publicKey }).rules.length).toBe(2);
    for (const load of [loadBundle, verifyBundle]) {
      expectBundleError(() => load(older, { publicKey, contentHash: pin }), new RegExp(`^the bundle's content hash is ${older.manifest.contentHash}, not the pinned ${pin} \\(contentHash\\): refusing to load it\\. It is another bundle \\(an older release, or another policy set\\), or the pin is some other digest: ${SOURCE_OF_HASH}$`));
    }
  });

  it("a pin of the file's sha256 (sha256sum) is not told only that it is another bundle: where a content hash is had is said (review s19 #6)", () => {
    const fileDigest = createHash("sha256").update(serializeBundle(current)).digest("hex");
    expectBundleError(() => loadBundle(current, { publicKey, contentHash: `sha256:${fileDigest}` }), new RegExp(`: refusing to load it\\. It is another bundle \\(an older release, or another policy set\\), or the pin is some other digest: ${SOURCE_OF_HASH}$`));
    // As sha256sum prints it, 64 bare hex digits; or the content hash without its prefix.
    for (const digest of [fileDigest, current.manifest.contentHash.slice("sha256:".length)]) {
      expectBundleError(() => verifyBundle(current, { contentHash: digest }), new RegExp(`^the pinned content hash \\(contentHash\\) is 64 hex digits without \`sha256:\`: ${SOURCE_OF_HASH}; if they are the content hash, add the \`sha256:\` prefix$`));
    }
  });

  it("a pin that is there but undefined, empty or not a hash is a BundleError, never a skipped check", () => {
    for (const contentHash of [undefined, null, "", " ", "491bd59c", "sha256:XYZ", 42]) {
      expectBundleError(() => loadBundle(current, { contentHash: contentHash as never }), /^the pinned content hash \(contentHash\) is (empty|not a content hash|undefined, not a string|null, not a string|a number, not a string): give the hash as `policyc build` prints it/);
    }
    expect(() => loadBundle(current, { contenthash: current.manifest.contentHash } as never)).toThrow(TypeError);
  });

  it("a pin in capitals or with spaces around it is the same hash (review rx #4: it was refused as not 64 hex digits)", () => {
    for (const contentHash of [current.manifest.contentHash.toUpperCase(), ` ${current.manifest.contentHash}\n`]) {
      expect(loadBundle(current, { publicKey, contentHash }).rules.length).toBe(current.rules.length);
    }
  });
});

/** The content hash as createBundle computes it (for the forgery test). */
function recomputeHash(bundle: Bundle): { contentHash: string } {
  const { signature: _signature, ...rest } = bundle;
  void _signature;
  const content = JSON.stringify({ format: rest.format, manifest: { compiler: rest.manifest.compiler, sources: rest.manifest.sources }, schema: rest.schema, session: rest.session, rules: rest.rules, code: rest.code });
  return { contentHash: `sha256:${createHash("sha256").update(content, "utf8").digest("hex")}` };
}

describe("schema validation", () => {
  it("refuses values that are not bundles", () => {
    for (const value of [null, 42, [], {}]) expectBundleError(() => loadBundle(value), /not a valid policyc bundle/);
  });

  it("a bundle's text or bytes, where the parsed bundle belongs, is a TypeError that says to pass JSON.parse of it", () => {
    const text = serializeBundle(createBundle(compiled(), SUPPORT_SOURCES));
    for (const load of [loadBundle, verifyBundle]) {
      expect(() => load(text)).toThrow(new TypeError("a bundle is passed as the object its JSON holds, not as its text (a string): pass JSON.parse(text)"));
      expect(() => load("bundle")).toThrow(TypeError);
      for (const bytes of [Buffer.from(text), new Uint8Array(Buffer.from(text)), new ArrayBuffer(8)]) {
        expect(() => load(bytes)).toThrow(/^a bundle is passed as the object its JSON holds, not as its bytes \(an? \w+\): pass JSON\.parse\(readFileSync\(path, "utf8"\)\)$/);
      }
    }
    expect(loadBundle(JSON.parse(text)).rules.length).toBeGreaterThan(0);
  });

  it("a public key given as a file path is refused, saying to pass the key itself", () => {
    for (const path of ["../pol/pub.pem", "/etc/policyc/public.pem", "keys/signing.pub"]) expectBundleError(() => loadBundle(bundleJson(), { publicKey: path }), /it looks like a file path: give the key itself, readFileSync\(path\)$/);
  });

  it("refuses malformed bundles, saying where", () => {
    const cases: [(b: Record<string, any>) => void, RegExp][] = [
      [(b) => delete b["code"], /code/],
      [(b) => (b["format"] = 2), /format/],
      [(b) => (b["format"] = "something else"), /`format` must be "policyc-bundle\/1"/],
      [(b) => (b["extra"] = true), /the bundle has "extra", which a bundle of this policyc does not have/],
      [(b) => (b["manifest"].contentHash = "md5:abc"), /contentHash/],
      [(b) => (b["rules"][0].effect = "maybe"), /`rules\[0\]\.effect` must be one of "allow", "ask", "deny"/],
      [(b) => (b["rules"][0].grants[0].ttlSeconds = 0), /ttlSeconds/],
      [(b) => (b["schema"].tools["kb.search"].risk = "extreme"), /risk/],
      [(b) => (b["session"].windowMs = -1), /windowMs/],
      // `1e400` parses as Infinity, which the schema's whole numbers do not take (audit s19 F5).
      [(b) => (b["session"].windowMs = Infinity), /`session\.windowMs` must be a whole number/],
      [(b) => (b["rules"][0].grants[0].ttlSeconds = Infinity), /`rules\[0\]\.grants\[0\]\.ttlSeconds` must be a whole number/],
      [(b) => (b["signature"] = { algorithm: "rsa", value: "x" }), /signature/],
      // Not base64 around a valid signature, or spaces in it: no text the signature check skips (audit s19 F6).
      [(b) => (b["signature"] = { algorithm: "ed25519", value: `${"A".repeat(86)}==!!! not base64` }), /`signature\.value` must be an Ed25519 signature \(64 bytes\) in base64, as `policyc build --sign` writes it$/],
      [(b) => (b["signature"] = { algorithm: "ed25519", value: `${"A".repeat(40)} ${"A".repeat(46)}==` }), /`signature\.value` must be an Ed25519 signature/],
      [(b) => (b["signature"] = { algorithm: "ed25519", value: "AAAA" }), /`signature\.value` must be an Ed25519 signature/],
      // The padding bits of the last digit set: the same 64 bytes, another spelling (review s19 #2).
      [(b) => (b["signature"] = { algorithm: "ed25519", value: `${"A".repeat(85)}B==` }), /`signature\.value` must be an Ed25519 signature/],
      [(b) => (b["code"] = 42), /code/],
    ];
    // Said in policyc's words, not Ajv's (`must have required property 'manifest'`) (audit a1 F4).
    expectBundleError(() => loadBundle({ format: "policyc-bundle/1" }), /^not a valid policyc bundle: the bundle lacks `manifest`$/);
    for (const [edit, where] of cases) {
      const bundle = bundleJson() as unknown as Record<string, any>;
      edit(bundle);
      expectBundleError(() => loadBundle(bundle), /not a valid policyc bundle/);
      expectBundleError(() => loadBundle(bundle), where);
    }
  });
});

/** A key as bytes of PEM (`readFileSync("key.pem")`) and DER, as an ArrayBuffer and a DataView, and as input objects (DER, JWK). */
function keyForms(key: KeyObject, type: "pkcs8" | "spki"): unknown[] {
  const pem = Buffer.from(key.export({ type, format: "pem" }) as string);
  const der = key.export({ type, format: "der" });
  return [
    pem,
    new Uint8Array(pem),
    pem.buffer.slice(pem.byteOffset, pem.byteOffset + pem.length),
    der,
    new DataView(der.buffer, der.byteOffset, der.byteLength),
    { key: der, format: "der", type },
    { key: key.export({ format: "jwk" }), format: "jwk" },
  ];
}

describe("signatures", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");

  it("a signed bundle loads with its public key (KeyObject or PEM)", () => {
    const signed = bundleJson({ privateKey });
    expect(signed.signature).toMatchObject({ algorithm: "ed25519" });
    expect(loadBundle(signed, { publicKey }).decide(call("kb.search", 0)).decision).toBe("allow");
    expect(() => loadBundle(signed, { publicKey: publicKey.export({ type: "spki", format: "pem" }) as string })).not.toThrow();
  });

  it("signs with a PEM private key too", () => {
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const signed = JSON.parse(serializeBundle(createBundle(compiled(), SUPPORT_SOURCES, { privateKey: pem }))) as Bundle;
    expect(() => loadBundle(signed, { publicKey })).not.toThrow();
  });

  it("an unsigned bundle is refused when a public key is given", () => {
    expectBundleError(() => loadBundle(bundleJson(), { publicKey }), /not signed/);
  });

  it("a bundle signed by another key is refused", () => {
    expectBundleError(() => loadBundle(bundleJson({ privateKey: other.privateKey }), { publicKey }), /signature/);
  });

  it("a damaged signature is refused", () => {
    const signed = bundleJson({ privateKey });
    const bytes = Buffer.from(signed.signature!.value, "base64");
    bytes[0] = bytes[0]! ^ 1;
    expectBundleError(() => loadBundle({ ...signed, signature: { algorithm: "ed25519", value: bytes.toString("base64") } }, { publicKey }), /signature/);
    expectBundleError(() => loadBundle({ ...signed, signature: { algorithm: "ed25519", value: "" } }, { publicKey }), /signature/);
  });

  it("a signing key of several PEM keys is refused, as a public key of several is: the first alone would sign (audit s19 F4)", () => {
    const pems = [privateKey, other.privateKey].map((key) => key.export({ type: "pkcs8", format: "pem" }) as string).join("");
    for (const given of [pems, Buffer.from(pems)]) {
      const sign = (): unknown => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: given });
      expect(sign).toThrow(TypeError);
      expect(sign).toThrow(/^the signing key holds 2 PEM private keys, and one is read: the first alone would sign, perhaps not the one you meant\. Give the one private key to sign with$/);
    }
  });

  it("a signing key of one private key and its public key, in either order, signs with the private key (review s19 #3)", () => {
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
    for (const pems of [privatePem + publicPem, publicPem + privatePem]) {
      for (const given of [pems, Buffer.from(pems)]) {
        const signed = JSON.parse(serializeBundle(createBundle(compiled(), SUPPORT_SOURCES, { privateKey: given }))) as Bundle;
        expect(() => loadBundle(signed, { publicKey })).not.toThrow();
      }
    }
  });

  it("an empty or missing signing key is an error, not an unsigned bundle", () => {
    for (const privateKey of ["", " \n"]) expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey })).toThrow(/the signing key is empty/);
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: null as never })).toThrow(/the signing key must be a private key \(PEM as a string or bytes, DER bytes, a JWK input object or a KeyObject\), not null/);
    expect(createBundle(compiled(), SUPPORT_SOURCES, {}).signature).toBeUndefined();
    // An unset setting (`{ privateKey: process.env.KEY }`) is not "unsigned": only leaving the property out is.
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: undefined as never })).toThrow(/the signing key must be a private key .*, not undefined$/);
  });

  it("a misspelled option or options that are not an object are a TypeError, never an unsigned bundle or a skipped signature check", () => {
    const unsigned = bundleJson();
    const pem = publicKey.export({ type: "spki", format: "pem" }) as string;
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const refusals: [() => unknown, RegExp][] = [
      [() => verifyBundle(unsigned, { publickey: publicKey } as never), /^verifyBundle has no option `publickey`: did you mean `publicKey`\? \(the options are publicKey, contentHash, and loadBundle's engine options, which it checks and does not use \(clock, sessionIdleMs, expiredSessionMs, revokedSessionMs, maxWindowEntries, maxSessions, maxTimeSkewMs, sessionsFrom\)\)$/],
      [() => verifyBundle(unsigned, { key: pem } as never), /^verifyBundle has no option `key` \(the options are publicKey, contentHash, and loadBundle's engine options/],
      [() => verifyBundle(unsigned, publicKey as never), /^the options must be an object such as \{ publicKey \}, not a PublicKeyObject$/],
      [() => verifyBundle(unsigned, pem as never), /^the options must be an object such as \{ publicKey \}, not a string$/],
      [() => verifyBundle(unsigned, Buffer.from(pem) as never), /^the options must be an object such as \{ publicKey \}, not a Buffer$/],
      [() => loadBundle(unsigned, Buffer.from(pem) as never), /^the options must be an object such as \{ publicKey \}, not a Buffer$/],
      [() => loadBundle(unsigned, [pem] as never), /^the options must be an object such as \{ publicKey \}, not an array$/],
      [() => createBundle(compiled(), SUPPORT_SOURCES, { privatekey: privatePem } as never), /^createBundle has no option `privatekey`: did you mean `privateKey`\?/],
      [() => createBundle(compiled(), SUPPORT_SOURCES, privatePem as never), /^the options must be an object such as \{ privateKey \}, not a string$/],
      [() => createBundle(compiled(), SUPPORT_SOURCES, privateKey as never), /^the options must be an object such as \{ privateKey \}, not a PrivateKeyObject$/],
    ];
    for (const [action, message] of refusals) {
      let error: unknown;
      try {
        action();
      } catch (caught) {
        error = caught;
      }
      expect(error, String(message)).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(message);
    }
    // The control: the right name checks the signature, and refuses the unsigned bundle.
    expectBundleError(() => verifyBundle(unsigned, { publicKey }), /not signed/);
    expect(verifyBundle(unsigned, Object.create(null) as object)).toBe(unsigned);
  });

  it("verifyBundle takes loadBundle's options (one LoadOptions object for both): it checks with publicKey and checks the engine's options without using them; a misspelled one, or a value loadBundle refuses, is still refused", () => {
    const signed = bundleJson({ privateKey });
    const options: LoadOptions = { publicKey, sessionIdleMs: 60_000, maxSessions: 1000, clock: () => 0 };
    expect(verifyBundle(signed, options)).toBe(signed);
    expect(loadBundle(signed, options).decide(call("crm.lookup", 0)).decision).toBe("allow");
    // The key in the same object is still used: another key, or an unsigned bundle, is refused.
    const other = generateKeyPairSync("ed25519").publicKey;
    expectBundleError(() => verifyBundle(signed, { ...options, publicKey: other }), /signature/);
    expectBundleError(() => verifyBundle(bundleJson(), options), /not signed/);
    expect((() => {
      try {
        return verifyBundle(signed, { ...options, sessionIdleMS: 60_000 } as never);
      } catch (error) {
        return error;
      }
    })()).toMatchObject({ name: "TypeError", message: expect.stringMatching(/^verifyBundle has no option `sessionIdleMS`: did you mean `sessionIdleMs`\?/) });
    // A value loadBundle would refuse fails the vetting step, not the deploy after it.
    expect(() => verifyBundle(signed, { ...options, sessionIdleMs: "1h" } as never)).toThrow(TypeError);
    expect(() => loadBundle(signed, { ...options, sessionIdleMs: "1h" } as never)).toThrow(TypeError);
  });

  it("an encrypted private key is named as such, with what to do, to sign with or to verify with; with its passphrase it signs", () => {
    const { privateKey: encrypted } = generateKeyPairSync("ed25519", { privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    expect(encrypted).toContain("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    const hint = "it is an encrypted private key: give it with its passphrase ({ key, passphrase }, as crypto.createPrivateKey reads it), or decrypt it first";
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: encrypted })).toThrow(hint);
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: Buffer.from(encrypted) })).toThrow(hint);
    const signed = JSON.parse(serializeBundle(createBundle(compiled(), SUPPORT_SOURCES, { privateKey: { key: encrypted, passphrase: "secret" } }))) as Bundle;
    expectBundleError(() => loadBundle(signed, { publicKey: encrypted }), /it is an encrypted private key: give it with its passphrase/);
    expect(loadBundle(signed, { publicKey: { key: encrypted, passphrase: "secret" } }).rules.length).toBe(signed.rules.length);
  });

  it("only Ed25519 keys sign", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: rsa.privateKey })).toThrow(/the signing key is an RSA key, not Ed25519/);
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: createSecretKey(Buffer.alloc(32)) })).toThrow(/the signing key is a secret \(symmetric\) key/);
  });

  it("signs with the key in every form crypto.createPrivateKey reads, as publicKey takes its key: PEM or DER bytes, JWK", () => {
    const forms = keyForms(privateKey, "pkcs8");
    const expected = createBundle(compiled(), SUPPORT_SOURCES, { privateKey }).signature;
    for (const form of forms) {
      const signed = createBundle(compiled(), SUPPORT_SOURCES, { privateKey: form as never });
      expect(signed.signature).toEqual(expected);
      expect(() => loadBundle(JSON.parse(serializeBundle(signed)), { publicKey })).not.toThrow();
    }
  });

  it("a public key given to sign with is named as one", () => {
    const pem = publicKey.export({ type: "spki", format: "pem" }) as string;
    for (const form of [publicKey, pem, Buffer.from(pem), publicKey.export({ type: "spki", format: "der" })]) {
      expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: form as never })).toThrow(/^the signing key is a public key: sign with the Ed25519 private key/);
    }
  });

  it("no message about a signing key shows the key: only the kind of value given", () => {
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const body = pem.split("\n")[1]!;
    const bytes = new Uint8Array(Buffer.from(pem));
    const mistakes: [unknown, RegExp][] = [
      [[pem], /not an array$/],
      [[bytes], /not an array$/],
      [{ key: 12345678 }, /cannot be read as a private key/],
      [{ key: body, format: "jwk" }, /cannot be read as a private key/],
      [{ key: pem, format: "pem", type: "sec2" }, /cannot be read as a private key/],
      [{ key: Buffer.from(body), format: "der", type: "pkcs8" }, /cannot be read as a private key/],
      [body, /cannot be read as a private key/],
      [Buffer.from(body, "base64").subarray(0, 20), /cannot be read as a private key/],
      [pem.replace(body, body.slice(0, 20)), /cannot be read as a private key/],
      [42, /not a number$/],
      [Symbol("key"), /not a symbol$/],
      [new Map([["key", pem]]), /cannot be read as a private key/],
    ];
    for (const [given, message] of mistakes) {
      let error: unknown;
      try {
        createBundle(compiled(), SUPPORT_SOURCES, { privateKey: given as never });
      } catch (caught) {
        error = caught;
      }
      expect(error, String(message)).toBeInstanceOf(TypeError);
      const text = (error as Error).message;
      expect(text).toMatch(message);
      for (const secret of [body.slice(0, 8), body.slice(-12, -4), "45,45,45", "12345678", "-----BEGIN"]) expect(text, text).not.toContain(secret);
    }
  });

  it("a non-Ed25519 public key refuses the bundle rather than accepting it", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: ec.publicKey }), /an EC key, not Ed25519/);
  });

  it("a public key that is not a key is a BundleError, not a crypto error", () => {
    for (const garbage of ["garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", Buffer.from("garbage"), { key: "x", format: "jwk" }, 42, true, [1]]) {
      expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: garbage as never }), /the public key cannot be read as a public key \(PEM, DER, JWK or a KeyObject\)/);
    }
    // Node's own message would end with the start of the value (`Received type string ('MC4C…')`),
    // and a private key given by mistake is a secret.
    const body = (privateKey.export({ type: "pkcs8", format: "pem" }) as string).split("\n")[1]!;
    for (const given of [{ key: body, format: "jwk" }, { key: 12345678 }]) {
      expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: given as never }), /^the public key cannot be read as a public key \(PEM, DER, JWK or a KeyObject\): The "key.key" property must be of type [^.(]*$/);
    }
  });

  it("takes the key in every form crypto.createPublicKey reads: PEM or DER bytes, JWK, a private key's public half", () => {
    const signed = bundleJson({ privateKey });
    const forms: unknown[] = [
      ...keyForms(publicKey, "spki"),
      privateKey,
      privateKey.export({ type: "pkcs8", format: "pem" }),
    ];
    for (const form of forms) expect(loadBundle(signed, { publicKey: form as never }).decide(call("kb.search", 0)).decision).toBe("allow");
    // The forms check the signature, not just parse: another key's bytes are refused.
    const otherDer = other.publicKey.export({ type: "spki", format: "der" });
    expectBundleError(() => loadBundle(signed, { publicKey: otherDer }), /signature does not match/);
    expectBundleError(() => loadBundle(signed, { publicKey: Buffer.from(other.publicKey.export({ type: "spki", format: "pem" }) as string) }), /signature does not match/);
  });

  it("a missing or empty key is a BundleError, never a skipped signature check", () => {
    const forged = bundleJson({ privateKey }) as Bundle & Record<string, any>;
    (forged.rules[2] as { reason: string | null }).reason = "changed";
    (forged.manifest as { contentHash: string }).contentHash = recomputeHash(forged).contentHash;
    const cases: [unknown, RegExp][] = [
      [null, /the public key is null: give the key/],
      [undefined, /the public key is undefined: give the key .* or leave `publicKey` out/],
      ["", /the public key is empty/],
      ["  \n", /the public key is empty/],
      [Buffer.alloc(0), /the public key is empty/],
      [Buffer.from("\n"), /the public key is empty/],
    ];
    for (const [key, message] of cases) {
      // Refused for the key, whatever the bundle: a forged one, a good one, not a bundle at all.
      for (const bundle of [forged, bundleJson({ privateKey }), "not a bundle"]) {
        expectBundleError(() => loadBundle(bundle, { publicKey: key as never }), message);
        expectBundleError(() => verifyBundle(bundle, { publicKey: key as never }), message);
      }
    }
  });

  it("a secret (symmetric) key or a non-Ed25519 key in bytes is named as such", () => {
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: createSecretKey(Buffer.alloc(32)) }), /a secret \(symmetric\) key, not Ed25519/);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }) as string;
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: Buffer.from(rsa) }), /an RSA key, not Ed25519/);
  });
});

describe("public keys of the wrong kind are named in the user's terms", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pem = publicKey.export({ type: "spki", format: "pem" }) as string;
  const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string;

  it("32 raw bytes and a bare JSON Web Key object: what they are, and how to wrap them, without OpenSSL's codes or Node's `key.key` (audit s19 F8)", () => {
    const signed = bundleJson({ privateKey });
    const jwk = publicKey.export({ format: "jwk" }) as { x: string };
    const raw = Buffer.from(jwk.x, "base64url");
    for (const given of [raw, new Uint8Array(raw)]) {
      expectBundleError(() => loadBundle(signed, { publicKey: given }), /^the public key cannot be read as a public key \(PEM, DER, JWK or a KeyObject\): it is 32 raw bytes, an Ed25519 public key without the DER wrapping Node reads: wrap it as a JSON Web Key, `\{ key: \{ kty: "OKP", crv: "Ed25519", x: Buffer\.from\(bytes\)\.toString\("base64url"\) \}, format: "jwk" \}`$/);
    }
    // The advice works.
    expect(loadBundle(signed, { publicKey: { key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" } }).rules.length).toBe(signed.rules.length);
    expectBundleError(() => loadBundle(signed, { publicKey: jwk as never }), /^the public key cannot be read as a public key \(PEM, DER, JWK or a KeyObject\): it is a JSON Web Key object given bare: pass `\{ key: jwk, format: "jwk" \}`, as crypto\.createPublicKey reads it$/);
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: privateKey.export({ format: "jwk" }) as never })).toThrow(/^the signing key cannot be read as a private key \(PEM, DER, JWK or a KeyObject\): it is a JSON Web Key object given bare: pass `\{ key: jwk, format: "jwk" \}`, as crypto\.createPrivateKey reads it$/);
  });

  it("a JSON Web Key Set is named, with how to pass its one key, not Node's `key.key` (review s19 #7)", () => {
    const signed = bundleJson({ privateKey });
    const jwks = { keys: [publicKey.export({ format: "jwk" })] };
    expectBundleError(() => loadBundle(signed, { publicKey: jwks as never }), /^the public key cannot be read as a public key \(PEM, DER, JWK or a KeyObject\): it is a JSON Web Key Set \(`\{ keys: \[\.\.\.\] \}`\), and a public key is one key: pass the one whose private key signs the bundles, as `\{ key: jwks\.keys\[0\], format: "jwk" \}`$/);
    // The advice works.
    expect(loadBundle(signed, { publicKey: { key: jwks.keys[0]!, format: "jwk" } }).rules.length).toBe(signed.rules.length);
    expect(() => createBundle(compiled(), SUPPORT_SOURCES, { privateKey: { keys: [privateKey.export({ format: "jwk" })] } as never })).toThrow(/^the signing key cannot be read as a private key \(PEM, DER, JWK or a KeyObject\): it is a JSON Web Key Set \(`\{ keys: \[\.\.\.\] \}`\), and a signing key is one key: pass the one to sign with, as `\{ key: jwks\.keys\[0\], format: "jwk" \}`$/);
  });

  it("an OpenSSH public or private key, a DER private key: what it is, and how to write the one it takes", () => {
    const raw = (publicKey.export({ format: "jwk" }) as { x: string }).x;
    const openSshPublic = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.from(raw, "base64url")]).toString("base64")} me@host\n`;
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: openSshPublic }), /cannot be read as a public key .*: it is an OpenSSH public key \(ssh-keygen's `\.pub` format\): give the Ed25519 public key as PEM/);
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: Buffer.from("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n") }), /it is an OpenSSH private key \(ssh-keygen's own format\), not a public key/);
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: privateKey.export({ type: "pkcs8", format: "der" }) }), /it is a DER \(binary\) private key, not a public key/);
    // A JSON Web Key (or a key set) given as text: how to give it.
    const jwkText = JSON.stringify(publicKey.export({ format: "jwk" }));
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: jwkText }), /it is JSON text: give a JSON Web Key as an object, `\{ key: JSON\.parse\(text\), format: "jwk" \}`/);
    expect(loadBundle(bundleJson({ privateKey }), { publicKey: { key: JSON.parse(jwkText), format: "jwk" } }).decide(call("kb.search", 0)).decision).toBe("allow");
    // No OpenSSL code in any of them.
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: openSshPublic }), /^(?![\s\S]*error:[0-9A-F]{8})/);
  });

  it("a key file of two keys (a rotation) is refused, not read as its first alone", () => {
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: `${other}${pem}` }), /the public key holds 2 PEM keys, and one key is read/);
    expectBundleError(() => loadBundle(bundleJson({ privateKey }), { publicKey: Buffer.from(`${pem}${other}`) }), /holds 2 PEM keys/);
    expect(loadBundle(bundleJson({ privateKey }), { publicKey: pem }).decide(call("kb.search", 0)).decision).toBe("allow");
  });
});

describe("bundles that pass the hash check but are broken", () => {
  const rehashed = (edit: (b: Bundle & Record<string, any>) => void): Bundle => {
    const bundle = bundleJson() as Bundle & Record<string, any>;
    edit(bundle);
    (bundle.manifest as { contentHash: string }).contentHash = recomputeHash(bundle).contentHash;
    return bundle;
  };

  it("code that does not parse, or throws while loading, is refused as a bad bundle", () => {
    expectBundleError(() => loadBundle(rehashed((b) => ((b as { code: string }).code = "this is not JavaScript"))), /the bundle's code does not load: Unexpected identifier/);
    expectBundleError(() => loadBundle(rehashed((b) => ((b as { code: string }).code = "throw Object.create(null);"))), /the bundle's code does not load/);
  });

  it("a bundle whose code calls runtime support this runtime lacks (a newer policyc's) is refused before it runs, naming both versions", () => {
    const newer = rehashed((b) => {
      (b.manifest as { compiler: string }).compiler = "policyc 9.0.0";
      (b as { code: string }).code = `globalThis.pwned = 1;\n${b.code.replace(/rt\.(\w+)\(/, "rt.$1V2(")}`;
    });
    const renamed = /rt\.(\w+)V2\(/.exec(newer.code)![1];
    const message = `the bundle was built by "policyc 9.0.0", and its code calls rt.${renamed}V2, which this runtime (policyc ${VERSION}) lacks: load it with the runtime of the policyc that built it, or rebuild it with this policyc`;
    expectBundleError(() => loadBundle(newer), new RegExp(`^${message.replace(/[.()]/g, "\\$&")}$`));
    expectBundleError(() => verifyBundle(newer), /which this runtime .* lacks/);
    // Only calls count: the same text in a string or a comment of the code is no call.
    const mentions = rehashed((b) => ((b as { code: string }).code = `// rt.notSupport( in a comment\nconst HOST = "rt.example.com 'rt.x('";\n${b.code}`));
    expect(loadBundle(mentions).decide(call("kb.search", 0)).decision).toBe("allow");
  });

  it("a bundle whose conditions use an IR operation this runtime does not know (a newer policyc's) is refused, naming both versions", () => {
    // The code is the same: only the IR changed, which sizes the windows of `session.count`.
    // Loaded, the counts under the unknown operation would keep no window and never trip.
    const newer = rehashed((b) => {
      (b.manifest as { compiler: string }).compiler = "policyc 9.0.0";
      const rule = (b.rules as unknown as { ir: unknown }[]).find((r) => r.ir !== null)!;
      rule.ir = { op: "futureWrap", expr: rule.ir };
    });
    expectBundleError(() => loadBundle(newer), new RegExp(`^the bundle was built by "policyc 9\\.0\\.0", and its rules' conditions use "futureWrap", which this runtime \\(policyc ${VERSION.replace(/\./g, "\\.")}\\) does not know: load it with the runtime of the policyc that built it, or rebuild it with this policyc$`));
    expectBundleError(() => verifyBundle(newer), /does not know: load it with the runtime of the policyc that built it/);
    // Deep inside a condition too, and said once however often it is used.
    const nested = rehashed((b) => {
      const rule = (b.rules as unknown as { ir: unknown }[]).find((r) => r.ir !== null)!;
      rule.ir = { op: "not", operand: { op: "and", terms: [{ op: "futureOp" }, { op: "futureOp" }, rule.ir] } };
    });
    expectBundleError(() => loadBundle(nested), /conditions use "futureOp", which/);
  });

  it("a bundle the schema refuses that another policyc built says which, and what to do", () => {
    const newer = rehashed((b) => {
      (b.manifest as { compiler: string }).compiler = "policyc 9.0.0";
      (b.rules[0] as unknown as Record<string, unknown>)["priority"] = 1;
    });
    expectBundleError(() => loadBundle(newer), new RegExp(`^not a valid policyc bundle: \`rules\\[0\\]\` has "priority", which a bundle of this policyc does not have \\(it was built by "policyc 9\\.0\\.0", and this runtime is policyc ${VERSION.replace(/\./g, "\\.")}: rebuild it with this policyc, or load it with the runtime of the policyc that built it\\)$`));
    // This version's own bundle, edited by hand: no hint about versions.
    const edited = rehashed((b) => ((b.rules[0] as unknown as Record<string, unknown>)["priority"] = 1));
    expectBundleError(() => loadBundle(edited), /^not a valid policyc bundle: `rules\[0\]` has "priority", which a bundle of this policyc does not have$/);
  });

  it("a bundle of policyc 0.1.0, whose code allowed what this version denies, is refused with why and what to do", () => {
    const old = rehashed((b) => ((b.manifest as { compiler: string }).compiler = "policyc 0.1.0"));
    expectBundleError(() => loadBundle(old), /^the bundle was built by "policyc 0\.1\.0", whose code allows calls this version denies: .*`intent`.*tool\.risk in context\.blocked_risks.*: rebuild it with this policyc \(\d+\.\d+\.\d+\)$/);
    expectBundleError(() => verifyBundle(old), /whose code allows calls this version denies/);
    // The same bundle as this version builds it loads.
    expect(loadBundle(bundleJson()).decide(call("kb.search", 0)).decision).toBe("allow");
  });

  it("a bundle of another format is refused naming the format found and the one this runtime reads", () => {
    const other = { ...bundleJson(), format: "policyc-bundle/2", manifest: { ...bundleJson().manifest, compiler: "policyc 9.0.0" } };
    expectBundleError(() => loadBundle(other), new RegExp(`^the bundle's format is "policyc-bundle/2" \\(built by "policyc 9\\.0\\.0"\\), and this runtime \\(policyc ${VERSION.replace(/\./g, "\\.")}\\) reads "policyc-bundle/1": build the bundle with the policyc of this runtime$`));
    // Its compiler text is the bundle's, unverified yet: quoted and cut short, no line of its own.
    const forged = { ...other, manifest: { ...other.manifest, compiler: `x\n::error::forged\u001b[31m${"y".repeat(5000)}` } };
    let message = "";
    try {
      loadBundle(forged);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('(built by "x\\n::error::forged\\u001b[31m');
    expect(message).not.toMatch(/[\n\u001b]/);
    expect(message.length).toBeLessThan(400);
  });

  it("a value whose properties throw when read is a BundleError, not the error it threw", () => {
    // (Its fields are read once, from their descriptors: a proxy whose traps throw there.)
    const throwing = new Proxy(bundleJson(), { getOwnPropertyDescriptor: () => { throw new Error("x"); } });
    expectBundleError(() => loadBundle(throwing), /^not a valid policyc bundle: reading it threw: x$/);
    expectBundleError(() => verifyBundle(throwing), /reading it threw: x/);
    // One that throws only on `get` has no fields of its own to show (its target's are none).
    expectBundleError(() => loadBundle(new Proxy({}, { get: () => { throw new Error("x"); } })), /^not a valid policyc bundle: the bundle lacks `format`$/);
    // A getter (that would pass the schema check and throw on the next read, while hashing) is refused as one.
    const bundle = bundleJson() as Bundle & Record<string, any>;
    let reads = 0;
    Object.defineProperty(bundle, "code", { enumerable: true, get: () => { if (++reads > 1) throw new TypeError("gone"); return "x"; } });
    expectBundleError(() => loadBundle(bundle), /^not a valid policyc bundle: its "code" is a getter \(an accessor property\)/);
    for (const value of [undefined, Symbol("b"), () => 1, new Map()]) expectBundleError(() => loadBundle(value), /not a valid policyc bundle/);
  });

  it("a revoked proxy is a BundleError; options whose properties or traps throw are a TypeError naming the option, not the error thrown", () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expectBundleError(() => loadBundle(revoked.proxy), /^not a valid policyc bundle: reading it threw: Cannot perform 'getPrototypeOf' on a proxy that has been revoked$/);
    expectBundleError(() => verifyBundle(revoked.proxy), /reading it threw/);
    for (const name of ["publicKey", "clock", "sessionsFrom"]) {
      const options = Object.defineProperty({}, name, { enumerable: true, get: () => { throw new Error(`${name} getter`); } });
      expect(() => loadBundle(bundleJson(), options)).toThrow(new TypeError(`the options of loadBundle cannot be read: reading \`${name}\` threw: ${name} getter`));
      expect(() => verifyBundle(bundleJson(), options)).toThrow(new TypeError(`the options of verifyBundle cannot be read: reading \`${name}\` threw: ${name} getter`));
    }
    const trapped = new Proxy({}, { ownKeys: () => { throw new Error("ownKeys"); } });
    expect(() => loadBundle(bundleJson(), trapped)).toThrow(new TypeError("the options cannot be read: ownKeys"));
    const options = Proxy.revocable({}, {});
    options.revoke();
    expect(() => loadBundle(bundleJson(), options.proxy)).toThrow(TypeError);
  });

  it("options are read once: a publicKey getter that is there when the names are checked and gone afterwards still checks the signature", () => {
    let reads = 0;
    const { publicKey: key } = generateKeyPairSync("ed25519");
    const options = Object.defineProperty({}, "publicKey", { enumerable: true, get: () => (++reads === 1 ? key : undefined) });
    expectBundleError(() => loadBundle(bundleJson(), options), /not signed/);
    expect(reads).toBe(1);
    // A publicKey that is there but not enumerable is a publicKey all the same.
    expectBundleError(() => loadBundle(bundleJson(), Object.defineProperty({}, "publicKey", { value: key })), /not signed/);
  });

  it("options that are not an object are a TypeError that says so", () => {
    expect(() => loadBundle(bundleJson(), null as never)).toThrow(/^the options must be an object such as \{ publicKey \}, not null$/);
    expect(() => verifyBundle(bundleJson(), 5 as never)).toThrow(TypeError);
  });

  it("an IR nested absurdly deep is refused, not a stack overflow", () => {
    // Deeper than JSON.stringify can write (so the hash cannot be computed), as JSON.parse reads it.
    const depth = 50_000;
    const ir = JSON.parse(`${'{"op":"not","operand":'.repeat(depth)}{"op":"const","value":true}${"}".repeat(depth)}`) as unknown;
    const bundle = bundleJson() as Bundle & Record<string, any>;
    (bundle.rules[0] as { ir: unknown }).ir = ir;
    expectBundleError(() => loadBundle(bundle), /nested too deeply/);
  });
});

describe("the shipped JSON Schema", () => {
  const file = join(ROOT, "schemas", "bundle.schema.json");

  it.skipIf(!existsSync(file))("schemas/bundle.schema.json equals bundleJsonSchema", () => {
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(JSON.parse(JSON.stringify(bundleJsonSchema)));
  });
});

describe("createBundle's arguments", () => {
  it("a value that is no compiled policy, or sources that are not [{ path, text }], is a TypeError saying what it takes, and nothing is wrapped", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => createBundle(undefined as never, SUPPORT_SOURCES), /^createBundle takes a compiled policy \(what compileSources gives as its `policy`\), not undefined$/],
      [() => createBundle("policy" as never, SUPPORT_SOURCES), /, not a string$/],
      [() => createBundle({ ...compiled(), code: undefined } as never, SUPPORT_SOURCES), /, and its `code` is undefined, not the string of generated JavaScript$/],
      [() => createBundle(compiled(), undefined as never), /^createBundle takes the sources the policy was compiled from, as \[\{ path, text \}\]/],
      [() => createBundle(compiled(), { path: "p.policy", text: "" } as never), /as \[\{ path, text \}\]/],
      [() => createBundle(compiled(), [{ path: "p.policy", text: 1 }] as never), /as \[\{ path, text \}\]/],
      // A sparse array: its hole would be a null in the manifest, which loadBundle refuses (review r9).
      [() => createBundle(compiled(), Object.assign(new Array<unknown>(2), { 1: { path: "p.policy", text: "" } }) as never), /as \[\{ path, text \}\]/],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(TypeError);
      expect(make).toThrow(message);
    }
  });
});
