import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { ValidateFunction } from "ajv";
import { Engine, type EngineOptions } from "../runtime/engine.js";
import { describeThrown } from "../runtime/helpers.js";
import type { Bundle } from "./Bundle.js";
// Precompiled from bundleJsonSchema (bundleSchema.ts) by scripts/generate-validators.js: loading a
// bundle neither loads ajv nor compiles the schema.
import { validate as validateBundleCode } from "./bundleValidator.generated.js";
import { contentHash } from "./hash.js";

/** A bundle that must not run: malformed, tampered with, or not signed by the expected key. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

const validateBundle = validateBundleCode as unknown as ValidateFunction;

export interface LoadOptions extends EngineOptions {
  /** When given, the bundle must carry an Ed25519 signature by this key (PEM or KeyObject). */
  readonly publicKey?: KeyObject | string;
}

/** Checks a bundle without running it: schema, content hash, signature. Throws `BundleError`. */
export function verifyBundle(value: unknown, options: { publicKey?: KeyObject | string } = {}): Bundle {
  let valid: boolean;
  try {
    valid = validateBundle(value);
  } catch (error) {
    // The IR is recursive, and so is its validation: a bundle nested absurdly deep overflows it.
    if (error instanceof RangeError) throw new BundleError("not a valid policyc bundle: it is nested too deeply");
    throw error;
  }
  if (!valid) {
    const error = validateBundle.errors?.[0];
    const where = error?.instancePath ? `at ${error.instancePath}` : "at the top level";
    throw new BundleError(`not a valid policyc bundle: ${where} ${error?.message ?? "invalid"}`);
  }
  const bundle = value as Bundle;
  let expected: string;
  try {
    expected = contentHash(bundle);
  } catch (error) {
    if (error instanceof RangeError) throw new BundleError("not a valid policyc bundle: it is nested too deeply");
    throw error;
  }
  if (expected !== bundle.manifest.contentHash) throw new BundleError(`the bundle's content does not match its hash (manifest says ${bundle.manifest.contentHash}, content is ${expected}): it was changed after it was built`);
  if (options.publicKey !== undefined) {
    if (!bundle.signature) throw new BundleError("the bundle is not signed, but a public key was given: refusing to load it");
    const key = publicKeyOf(options.publicKey);
    let valid = false;
    try {
      valid = verify(null, Buffer.from(bundle.manifest.contentHash, "utf8"), key, Buffer.from(bundle.signature.value, "base64"));
    } catch {
      valid = false;
    }
    if (!valid) throw new BundleError("the bundle's signature does not match the given public key: refusing to load it");
  }
  return bundle;
}

/** The Ed25519 public key to check a signature with; a `BundleError` for anything else. */
function publicKeyOf(given: KeyObject | string): KeyObject {
  let key: KeyObject;
  try {
    key = typeof given === "string" ? createPublicKey(given) : given;
  } catch (error) {
    throw new BundleError(`the public key is not a PEM public key (${describeThrown(error)})`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new BundleError(`the public key is ${key.asymmetricKeyType ? `an ${key.asymmetricKeyType.toUpperCase()} key` : "not an asymmetric key"}, not Ed25519: bundles are signed with Ed25519`);
  return key;
}

/**
 * An engine for a verified bundle. Its code passed the hash (and signature) check, but a hash
 * is only a checksum: code edited and re-hashed by hand may not even parse. That is a bad
 * bundle, refused as one.
 */
export function engineForBundle(bundle: Bundle, options: EngineOptions = {}): Engine {
  try {
    return new Engine(bundle, options);
  } catch (error) {
    throw new BundleError(`the bundle's code does not load: ${describeThrown(error)}`);
  }
}

/**
 * Validates a bundle (JSON Schema with ajv, content hash, signature when a key is given) and
 * returns an engine for it. Throws `BundleError` before any of the bundle's code runs, and when
 * its code does not load.
 */
export function loadBundle(value: unknown, options: LoadOptions = {}): Engine {
  const bundle = verifyBundle(value, options);
  return engineForBundle(bundle, options);
}
