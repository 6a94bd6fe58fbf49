import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { describeFsError } from "../source/loadSources.js";
import { NotWritableError, Replacement } from "../source/replaceFile.js";
import { spliceExpectation, type LineOutcome } from "./spliceExpectation.js";

/**
 * The lines `--update` is to change, in line order, with the decision (or an approval line's
 * outcome) for each: two typed arrays and the distinct decisions (most lines share one of a
 * few), so a bootstrap of millions of lines holds 8 bytes a line, not a map entry and a number each.
 */
export class LineEdits {
  private lines = new Uint32Array(256);
  private picks = new Uint32Array(256);
  private readonly decisions: LineOutcome[] = [];
  private readonly pickOf = new Map<LineOutcome, number>();
  size = 0;

  /** Adds an edit; lines come in increasing order. */
  add(line: number, decision: LineOutcome): void {
    if (this.size === this.lines.length) {
      const lines = new Uint32Array(this.size * 2);
      lines.set(this.lines);
      this.lines = lines;
      const picks = new Uint32Array(this.size * 2);
      picks.set(this.picks);
      this.picks = picks;
    }
    let pick = this.pickOf.get(decision);
    if (pick === undefined) {
      pick = this.decisions.push(decision) - 1;
      // Shared decisions (frozen) recur: look them up again. One built for a single line does not.
      if (Object.isFrozen(decision)) this.pickOf.set(decision, pick);
    }
    this.lines[this.size] = line;
    this.picks[this.size] = pick;
    this.size++;
  }

  lineAt(index: number): number {
    return this.lines[index]!;
  }

  decisionAt(index: number): LineOutcome {
    return this.decisions[this.picks[index]!]!;
  }
}

/** What `rewriteRecording` did: replaced the recording, or why it could not. */
export type RewriteOutcome = { readonly rewritten: true } | { readonly rewritten: false; readonly error: string };

/** Writes to a stream, waiting when it asks to (so a large recording is never held). */
async function writeTo(stream: WriteStream, bytes: Uint8Array): Promise<void> {
  if (!stream.write(bytes)) await once(stream, "drain");
}

/** The line's end as written (`\r\n`, `\n`, or none at the end of the file) and the text before it. */
function splitTerminator(line: Buffer): { body: Buffer; terminator: Buffer } {
  let cut = line.length;
  if (cut > 0 && line[cut - 1] === 0x0a) cut--;
  if (cut > 0 && line[cut - 1] === 0x0d) cut--;
  return { body: line.subarray(0, cut), terminator: line.subarray(cut) };
}

/**
 * `policyc test --update`, the writing half: the recording is copied byte for byte into a
 * `Replacement` (a temporary file beside it, which then takes its place with the same
 * permissions), except the lines in `edits` (by line number), whose expectation is set to the
 * decision given (see `spliceExpectation`). So a line nobody asked to change keeps every byte
 * (a byte order mark, CRLF, blank lines, numbers JSON.parse would round, bytes that are not
 * UTF-8), and memory stays bounded: the file is streamed, never held. Any failure leaves the
 * recording exactly as it was.
 */
export async function rewriteRecording(path: string, edits: LineEdits): Promise<RewriteOutcome> {
  let replacement: Replacement;
  try {
    replacement = Replacement.of(path);
  } catch (error) {
    return { rewritten: false, error: `cannot update it: ${describeFsError(error)}${error instanceof NotWritableError ? " (the recording is not writable)" : ""}` };
  }
  // The stream closes the temporary file when it ends (or is destroyed).
  const stream = createWriteStream("", { fd: replacement.handOverDescriptor() });
  let failure: unknown;
  stream.on("error", (error) => (failure ??= error));
  let unsplicable: number | undefined;
  try {
    let next = 0;
    let line = 1;
    // The bytes of the edited line being read (edited lines parsed, so they are of bounded size).
    let editing: Buffer[] = [];
    const finishEdit = async (): Promise<void> => {
      const { body, terminator } = splitTerminator(Buffer.concat(editing));
      editing = [];
      const spliced = spliceExpectation(body.toString("utf8"), edits.decisionAt(next));
      if (spliced === undefined) unsplicable ??= line;
      await writeTo(stream, spliced === undefined ? Buffer.concat([body, terminator]) : Buffer.from(spliced + terminator.toString("latin1"), "utf8"));
      next++;
    };
    for await (const chunk of createReadStream(replacement.target, { highWaterMark: 1 << 20 })) {
      const bytes = chunk as Buffer;
      let from = 0;
      while (from < bytes.length) {
        if (failure !== undefined) throw failure;
        if (next >= edits.size) {
          // No edit left: the rest is copied as it is, without looking for line ends.
          await writeTo(stream, bytes.subarray(from));
          break;
        }
        if (line === edits.lineAt(next)) {
          const newline = bytes.indexOf(0x0a, from);
          const end = newline < 0 ? bytes.length : newline + 1;
          editing.push(bytes.subarray(from, end));
          from = end;
          if (newline >= 0) {
            await finishEdit();
            line++;
          }
          continue;
        }
        // Copy unedited lines up to the start of the next edited one (or the end of this chunk).
        let at = from;
        while (line < edits.lineAt(next)) {
          const newline = bytes.indexOf(0x0a, at);
          if (newline < 0) {
            at = bytes.length;
            break;
          }
          at = newline + 1;
          line++;
        }
        await writeTo(stream, bytes.subarray(from, at));
        from = at;
      }
    }
    // The last line, with no newline after it.
    if (editing.length > 0) await finishEdit();
    stream.end();
    if (!stream.closed) await once(stream, "close");
    if (failure !== undefined) throw failure;
    if (unsplicable !== undefined) {
      replacement.abandon();
      return { rewritten: false, error: `not updated: line ${unsplicable} changed while it was replayed (it is no longer a JSON object)` };
    }
    replacement.commit();
    return { rewritten: true };
  } catch (error) {
    stream.destroy();
    replacement.abandon();
    return { rewritten: false, error: `cannot update it: ${describeFsError(error)}` };
  }
}
