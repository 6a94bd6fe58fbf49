import { accessSync, chmodSync, constants, createWriteStream, openSync, realpathSync, renameSync, rmSync, statSync, type WriteStream } from "node:fs";
import { once } from "node:events";
import { describeFsError } from "../source/loadSources.js";

/**
 * `policyc test --update`: the recording's new text goes to a temporary file beside the real
 * file (a symbolic link is followed, so the link stays a link), which then replaces it with
 * the same permissions. Any failure leaves the recording exactly as it was.
 */
export class RecordingRewrite {
  private failure: unknown;

  private constructor(
    private readonly target: string,
    private readonly temporary: string,
    private readonly mode: number,
    private readonly stream: WriteStream,
  ) {
    stream.on("error", (error) => (this.failure ??= error));
  }

  /**
   * Opens the rewrite of the recording at `path`, or says why it cannot be rewritten. undefined
   * when the recording cannot be found: reading it reports that.
   */
  static open(path: string): RecordingRewrite | { readonly error: string } | undefined {
    let target: string;
    let mode: number;
    try {
      target = realpathSync(path);
      mode = statSync(target).mode & 0o7777;
    } catch {
      return undefined;
    }
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      return { error: `cannot update it: ${describeFsError(error)} (the recording is not writable)` };
    }
    const temporary = `${target}.policyc-update`;
    let fd: number;
    try {
      fd = openSync(temporary, "w", mode);
    } catch (error) {
      return { error: `cannot update it: cannot write \`${temporary}\`: ${describeFsError(error)}` };
    }
    return new RecordingRewrite(target, temporary, mode, createWriteStream("", { fd, encoding: "utf8" }));
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
    try {
      if (this.failure === undefined && commit) {
        chmodSync(this.temporary, this.mode);
        renameSync(this.temporary, this.target);
        return undefined;
      }
    } catch (error) {
      this.failure ??= error;
    }
    try {
      rmSync(this.temporary, { force: true });
    } catch {
      // Nothing more to do: the recording itself was not touched.
    }
    return this.failure === undefined ? undefined : `cannot update it: ${describeFsError(this.failure)}`;
  }
}
