import type { Command } from "commander";
import type { Bundle } from "../bundle/Bundle.js";
import { BUNDLE_CODES } from "../bundle/errorCodes.js";
import { printable } from "../diagnostics/printable.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { loadPolicy } from "./loadEngine.js";
import { reportLoadNote, reportNotLoaded } from "./report.js";

export interface VerifyOptions {
  publicKey?: string;
}

/**
 * `policyc verify BUNDLE…`: each bundle checked as loading it checks it (schema, content hash,
 * signature with --public-key) and its code compared with what this policyc emits from the
 * bundle's own rules, schema and session, running none of it: the vetting step for bundles
 * built elsewhere (README, "Bundles you did not build").
 */
export function verifyVerb(io: Io, paths: readonly string[], options: VerifyOptions): ExitCode {
  if (paths.length === 0) {
    io.err("policyc verify: give the bundle files to verify\n");
    return EXIT.usage;
  }
  let exit: ExitCode = EXIT.ok;
  for (const path of paths) {
    const loaded = loadPolicy([], io.cwd, { verb: "verify", bundle: path, vetOnly: true, ...(options.publicKey !== undefined ? { publicKey: options.publicKey } : {}) });
    if (!loaded.ok) {
      reportNotLoaded("verify", loaded, io);
      // A bundle refused for what it holds fails the check (1); a file or key that cannot be read, or a usage mistake, is 2.
      const code = loaded.inputError?.code;
      const unusable = code === undefined || code === BUNDLE_CODES.unreadableFile || code === BUNDLE_CODES.unusableKey;
      exit = unusable ? EXIT.usage : exit === EXIT.usage ? exit : EXIT.failure;
      continue;
    }
    reportLoadNote("verify", loaded, io);
    const bundle = loaded.policy as Bundle;
    const signature = options.publicKey !== undefined ? "signature checked" : bundle.signature !== undefined ? "signature not checked" : "unsigned";
    io.out(`${printable(path)}: verified: ${bundle.manifest.contentHash}, ${printable(bundle.manifest.compiler)}, ${signature}; its code is what this policyc emits from its rules\n`);
  }
  return exit;
}

export function registerVerify(program: Command, io: Io, finish: (code: ExitCode) => void): void {
  program
    .command("verify")
    .description("check bundles without running them: hash, signature, and that their code is what this policyc emits from their rules")
    .argument("[bundles...]", "bundle files (.json), as policyc build wrote them")
    .option("--public-key <file>", "require each bundle to be signed by this Ed25519 public key (PEM, DER or JSON Web Key)")
    .action((paths: string[], options: VerifyOptions) => finish(verifyVerb(io, paths, options)));
}
