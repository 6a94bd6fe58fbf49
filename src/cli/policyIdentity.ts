import { createBundle } from "../bundle/writeBundle.js";
import type { Bundle } from "../bundle/Bundle.js";
import { compileSources, type SourceInput } from "../compile/compile.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { bundleSourceName } from "../source/loadSources.js";
import type { PolicyIdentity } from "../testing/reporters/shared.js";
import { VERSION } from "../version.js";

/**
 * A set compiled from sources is named by the hash of the bundle `policyc build` would write from
 * the same paths in the same working folder: createBundle's, unsigned, nothing written. Build
 * names a source outside the working folder relative to it (`../x.policy`, not the absolute path
 * given: bundleSourceName), and those names are in the manifest and in the rules' locations: a set
 * read under other names is compiled again under build's, in the order it was read, which is
 * build's (loadSources orders files by bundleSourceName). Were it not to compile so, it is named
 * as it was read.
 */
export function sourcesIdentity(policy: CompiledPolicy, sources: readonly SourceInput[], cwd: string): PolicyIdentity {
  const built = sources.map((source) => ({ path: bundleSourceName(source.path, cwd), text: source.text }));
  const asBuilt = built.every((source, index) => source.path === sources[index]!.path) ? undefined : compileSources(built).policy;
  return { contentHash: (asBuilt === undefined ? createBundle(policy, sources) : createBundle(asBuilt, built)).manifest.contentHash, policyc: VERSION, from: "sources" };
}

/**
 * The identity `compute` gives, computed when first asked for and then kept: only machine-readable
 * reports print it, and for sources it costs a bundle's worth of work (and a second compile for a
 * source outside the working folder). A failure to compute it is no reason to fail the verb: the
 * reports then leave the policy out (undefined).
 */
export function lazyIdentity(compute: () => PolicyIdentity): () => PolicyIdentity | undefined {
  let computed: { identity: PolicyIdentity | undefined } | undefined;
  return () => {
    if (computed === undefined) {
      try {
        computed = { identity: compute() };
      } catch {
        computed = { identity: undefined };
      }
    }
    return computed.identity;
  };
}

/** A bundle is named by the hash its manifest holds (which loading it checked), its path as given, and its signature. */
export function bundleIdentity(bundle: Bundle, path: string, signatureChecked: boolean): PolicyIdentity {
  return { contentHash: bundle.manifest.contentHash, policyc: VERSION, from: "bundle", bundle: path, signed: bundle.signature !== undefined, signatureChecked };
}
