import { accessSync, constants, createWriteStream, openSync, type WriteStream } from "node:fs";
import { once } from "node:events";
import { describeFsError } from "../source/loadSources.js";
import { Replacement } from "../source/replaceFile.js";

/**
 * `policyc test --update`: the recording's new text is streamed into a `Replacement` (a
 * temporary file beside the real file, which then takes its place with the same permissions).
 * Any failure leaves the recording exactly as it was.
 */
export class RecordingRewrite {
  private failure: unknown;

  private constructor(
    private readonly replacement: Replacement,
    private readonly stream: WriteStream,
  ) {
    stream.on("error", (error) => (this.failure ??= error));
  }

  /**
   * Opens the rewrite of the recording at `path`, or says why it cannot be rewritten. undefined
   * when the recording cannot be found: reading it reports that.
   */
  static open(path: string): RecordingRewrite | { readonly error: string } | undefined {
    let replacement: Replacement;
    try {
      replacement = Replacement.of(path);
    } catch {
      return undefined;
    }
    try {
      accessSync(replacement.target, constants.W_OK);
    } catch (error) {
      return { error: `cannot update it: ${describeFsError(error)} (the recording is not writable)` };
    }
    let fd: number;
    try {
      fd = openSync(replacement.temporary, "w", replacement.mode);
    } catch (error) {
      return { error: `cannot update it: cannot write \`${replacement.temporary}\`: ${describeFsError(error)}` };
    }
    return new RecordingRewrite(replacement, createWriteStream("", { fd, encoding: "utf8" }));
  }

  async write(text: string): Promise<void> {
    if (this.failure !== undefined) return;
    try {
      if (!this.stream.write(text)) await once(this.stream, "drain");
    } catch (error) {
      this.failure ??= error;
    }
  }

  /** Replaces the recording (`commit`) or drops the new text; returns why it failed, if it did. */
  async finish(commit: boolean): Promise<string | undefined> {
    try {
      this.stream.end();
      if (!this.stream.closed) await once(this.stream, "close");
    } catch (error) {
      this.failure ??= error;
    }
    if (this.failure === undefined && commit) {
      try {
        this.replacement.commit();
        return undefined;
      } catch (error) {
        this.failure = error;
      }
    }
    this.replacement.abandon();
    return this.failure === undefined ? undefined : `cannot update it: ${describeFsError(this.failure)}`;
  }
}
