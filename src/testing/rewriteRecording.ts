import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync, writeSync, type WriteStream } from "node:fs";
import { once } from "node:events";
import { describeFsError } from "../source/loadSources.js";
import { holdInterrupts, NotWritableError, Replacement } from "../source/replaceFile.js";
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

/**
 * What `rewriteRecording` did: replaced the recording, or why it could not. `appendedAfter`: the
 * bytes a writer that kept the recording open appended that are not in the recording: those
 * appended after it was replaced, which went to the replaced file (gone with it), and the start
 * of a line it had not finished by then (a line appended is copied whole or not at all).
 */
export type RewriteOutcome = { readonly rewritten: true; readonly appendedAfter: number } | { readonly rewritten: false; readonly error: string };

/** The size of the pieces the recording is read in. */
const CHUNK_BYTES = 1 << 20;
/** The size of the pieces the end of an appended line is looked for in, from the end back. */
const LINE_END_SEARCH_BYTES = 1 << 16;

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
  // From before the temporary file exists to a turn past its rename, as `replaceEach` does.
  const release = holdInterrupts();
  try {
    return await rewriteHeld(path, edits);
  } finally {
    await release();
  }
}

async function rewriteHeld(path: string, edits: LineEdits): Promise<RewriteOutcome> {
  let replacement: Replacement;
  try {
    replacement = Replacement.of(path);
  } catch (error) {
    return { rewritten: false, error: `cannot update it: ${describeFsError(error)}${error instanceof NotWritableError ? " (the recording is not writable)" : ""}` };
  }
  let source: number;
  /** The recording's size when the copy starts: past it, a live logger's lines (`wholeLinesSince`). */
  let sizeAtStart: number;
  try {
    source = openSync(replacement.target, "r");
    sizeAtStart = fstatSync(source).size;
  } catch (error) {
    replacement.abandon();
    return { rewritten: false, error: `cannot update it: ${describeFsError(error)}` };
  }
  // Left open after the stream ends: the lines a live logger appends meanwhile are copied to it
  // after the stream's, just before it takes the recording's place (`copyAppended`).
  const temporary = replacement.handOverDescriptor();
  let temporaryOpen = true;
  const closeTemporary = (): void => {
    if (temporaryOpen) closeSync(temporary);
    temporaryOpen = false;
  };
  const stream = createWriteStream("", { fd: temporary, autoClose: false });
  let failure: unknown;
  stream.on("error", (error) => (failure ??= error));
  let unsplicable: number | undefined;
  /** The recording's bytes read so far (all copied, edited or not). */
  let copied = 0;
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
    const consume = async (bytes: Buffer): Promise<void> => {
      copied += bytes.length;
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
    };
    if (sizeAtStart > 0) for await (const chunk of createReadStream("", { fd: source, autoClose: false, highWaterMark: CHUNK_BYTES, start: 0, end: sizeAtStart - 1 })) await consume(chunk as Buffer);
    // A logger that keeps the recording open (O_APPEND) goes on appending to it: the lines it
    // added while the rest was copied are copied too, until no more come.
    for (let grown = wholeLinesSince(source, copied); grown > 0; grown = wholeLinesSince(source, copied)) {
      const appended = readAt(source, copied, Math.min(grown, CHUNK_BYTES));
      if (appended.length === 0) break;
      await consume(appended);
    }
    // The last line, with no newline after it.
    if (editing.length > 0) await finishEdit();
    await new Promise<void>((finished) => stream.end(finished));
    if (failure !== undefined) throw failure;
    if (unsplicable !== undefined) {
      closeTemporary();
      replacement.abandon();
      return { rewritten: false, error: `not updated: line ${unsplicable} changed while it was replayed (it is no longer a JSON object)` };
    }
    // The lines appended while the stream flushed, copied as they are (every edit is behind), so
    // the window in which an appended line is lost is a few system calls wide.
    if (next >= edits.size) copied += copyAppended(source, copied, temporary);
    closeTemporary();
    replacement.commit();
    // Appended after all (written to the replaced file, which no name reaches any more), or the
    // start of a line not finished by then: its end goes to the replaced file.
    return { rewritten: true, appendedAfter: appendedSince(source, copied) };
  } catch (error) {
    stream.destroy();
    try {
      closeTemporary();
    } catch {
      // Already unusable: the file is removed all the same.
    }
    replacement.abandon();
    return { rewritten: false, error: `cannot update it: ${describeFsError(error)}` };
  } finally {
    closeSync(source);
  }
}

/** The bytes appended to the file open as `descriptor` past its first `copied` (0 if none, or it shrank). */
function appendedSince(descriptor: number, copied: number): number {
  return Math.max(0, fstatSync(descriptor).size - copied);
}

/** Reads `length` bytes (or fewer, at the end) at `position`. */
function readAt(descriptor: number, position: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  return bytes.subarray(0, readSync(descriptor, bytes, 0, length, position));
}

/**
 * The bytes appended to the file open as `descriptor` past its first `copied`, up to the end of
 * their last line (0 if none): a line a writer has not finished yet would end the recording
 * halfway through it, with its end written elsewhere.
 */
function wholeLinesSince(descriptor: number, copied: number): number {
  for (let end = fstatSync(descriptor).size; end > copied; ) {
    const from = Math.max(copied, end - LINE_END_SEARCH_BYTES);
    const newline = readAt(descriptor, from, end - from).lastIndexOf(0x0a);
    if (newline >= 0) return from + newline + 1 - copied;
    end = from;
  }
  return 0;
}

/** Copies the lines appended to `source` past `copied` to the end of `target`, until no more come; returns the bytes copied. */
function copyAppended(source: number, copied: number, target: number): number {
  let more = 0;
  for (let grown = wholeLinesSince(source, copied); grown > 0; grown = wholeLinesSince(source, copied + more)) {
    const bytes = readAt(source, copied + more, Math.min(grown, CHUNK_BYTES));
    if (bytes.length === 0) break;
    for (let written = 0; written < bytes.length; ) written += writeSync(target, bytes, written);
    more += bytes.length;
  }
  return more;
}
