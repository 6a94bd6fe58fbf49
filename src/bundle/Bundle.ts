import type { CompiledPolicy } from "../runtime/policy.js";

/** A compiled policy set as shipped to enforcement points (see bundleSchema.ts). */
export interface Bundle extends CompiledPolicy {
  readonly format: "policyc-bundle/1";
  readonly manifest: {
    readonly compiler: string;
    /** `sha256:` and the hex digest of the bundle's content (everything but the manifest's hash and the signature), its keys in the order they are written (hash.ts): ship the bundle byte for byte. */
    readonly contentHash: string;
    readonly sources: readonly { readonly path: string; readonly sha256: string }[];
  };
  /** Ed25519 signature over the content hash string. */
  readonly signature?: { readonly algorithm: "ed25519"; readonly value: string };
}
