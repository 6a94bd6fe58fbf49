import { createBundle } from "../bundle/writeBundle.js";
import type { Bundle } from "../bundle/Bundle.js";
import { compileSources, type SourceInput } from "../compile/compile.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { displayPath } from "../source/loadSources.js";
import type { PolicyIdentity } from "../testing/reporters/shared.js";
import { VERSION } from "../version.js";

/**
 * A set compiled from sources is named by the hash of the bundle `policyc build` would write from
 * the same paths in the same working folder: createBundle's, unsigned, nothing written. Build
 * names a source outside the working folder relative to it (`../x.policy`, not the absolute path
 * given), and those names are in the manifest and in the rules' locations: a set read under other
 * names is compiled again under build's, so the hash is the one build prints.
 */
export function sourcesIdentity(policy: CompiledPolicy, sources: readonly SourceInput[], cwd: string): PolicyIdentity {
  const built = sources.map((source) => ({ path: displayPath(source.path, cwd, true), text: source.text }));
  if (built.every((source, index) => source.path === sources[index]!.path)) return { contentHash: createBundle(policy, sources).manifest.contentHash, policyc: VERSION, from: "sources" };
  // Sorted as loadSources sorts the names it gives. It compiled under the names given, so it
  // compiles under build's; were it not to, it is named as it was read.
  const sorted = built.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const asBuilt = compileSources(sorted).policy;
  return { contentHash: (asBuilt === undefined ? createBundle(policy, sources) : createBundle(asBuilt, sorted)).manifest.contentHash, policyc: VERSION, from: "sources" };
}

/** A bundle is named by the hash its manifest holds (which loading it checked), its path as given, and its signature. */
export function bundleIdentity(bundle: Bundle, path: string, signatureChecked: boolean): PolicyIdentity {
  return { contentHash: bundle.manifest.contentHash, policyc: VERSION, from: "bundle", bundle: path, signed: bundle.signature !== undefined, signatureChecked };
}
