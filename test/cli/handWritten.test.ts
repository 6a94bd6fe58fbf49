import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, cli } from "../helpers.js";
import { BINARY_RUN_LINES } from "../../src/testing/readRecording.js";

/**
 * `policyc test` on recordings written by hand: the mistakes people make in them must be
 * reported (with what to write instead), never turned into a green run that checks nothing.
 */

const POLICY = "test/fixtures/replay/demo.policy";
const AGENT = '"agent":{"team":"support"}';
const KB = (session: string, time: string, tail: string): string => `{"time":"${time}","session":"${session}",${AGENT},"tool":"kb.search","args":{"query":"q"}${tail}}`;
const MAIL = (session: string, time: string, args: string, tail: string): string => `{"time":"${time}","session":"${session}",${AGENT},"tool":"email.send","args":${args}${tail}}`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-handwritten-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}

describe("expectations that would check nothing", () => {
  it("a misspelled `reason` is refused even when the line has `decision` and `rules` (exit 2)", async () => {
    for (const key of ["reson", "Reason"]) {
      const file = write(`reason-${key}.jsonl`, KB("s", "2026-01-05T09:00:00Z", `,"decision":"allow","rules":["kb-for-support"],"${key}":"a reason the policy never gives"`) + "\n");
      const result = await cli(["test", POLICY, "--replay", file]);
      expect(result.code).toBe(2);
      expect(result.stdout).toContain(`${file}:1: error[PC602]: \`${key}\` looks like a misspelled \`reason\``);
    }
  });

  it("a line with `rules` or `reason` but no `decision` is refused: nothing on it would be compared (exit 2)", async () => {
    const file = write("no-decision.jsonl", [KB("s", "2026-01-05T09:00:00Z", ',"rules":["no-such-rule"]'), KB("s", "2026-01-05T09:00:01Z", ',"reason":"not what the policy says"'), KB("s", "2026-01-05T09:00:02Z", ',"decision":"allow"')].join("\n") + "\n");
    const result = await cli(["test", POLICY, "--replay", file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`${file}:1: error[PC602]: the line has \`rules\` but no \`decision\`, so nothing on it would be checked: add the expected \`"decision"\` ("allow", "ask" or "deny")`);
    expect(result.stdout).toContain(`${file}:2: error[PC602]: the line has \`reason\` but no \`decision\``);
    expect(result.stdout).toContain("1 passed, 0 failed");
    // A misspelled `decision` beside `rules` is named as the misspelling.
    const typo = write("decison.jsonl", KB("s", "2026-01-05T09:00:00Z", ',"decison":"allow","rules":["kb-for-support"]') + "\n");
    expect((await cli(["test", POLICY, "--replay", typo])).stdout).toContain(`${typo}:1: error[PC602]: \`decison\` looks like a misspelled \`decision\``);
  });
});

describe("notes: lines whose request was refused before any rule ran", () => {
  const TOO_FAR = '{"to":["eve@evil.example"],"subjet":"hi"}'; // `subject` misspelled: invalid

  it("a bare deny that passed only because the request was invalid is noted (the run still passes); `rules: []` pins the refusal and silences it", async () => {
    const bare = write("bare-deny.jsonl", MAIL("s", "2026-01-05T09:00:00Z", TOO_FAR, ',"decision":"deny"') + "\n");
    const result = await cli(["test", POLICY, "--replay", bare]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`note: ${bare}:1: passed, but only because the request was refused before any rule ran (request.args.subject is missing), so no rule decided it: if the line pins a rule's deny, fix the request; if it pins the refusal, add \`"rules": []\``);
    const pinned = write("pinned-deny.jsonl", MAIL("s", "2026-01-05T09:00:00Z", TOO_FAR, ',"decision":"deny","rules":[]') + "\n");
    expect((await cli(["test", POLICY, "--replay", pinned])).stdout).not.toContain("note:");
    // A deny a rule gave, or a default deny (no rule allows the call), is what the line says.
    const ruled = write("ruled-deny.jsonl", [MAIL("s", "2026-01-05T09:00:00Z", '{"to":["eve@evil.example"],"subject":"hi"}', ',"decision":"deny"'), `{"time":"2026-01-05T09:00:01Z","session":"t","agent":{"team":"sales"},"tool":"kb.search","args":{"query":"q"},"decision":"deny"}`].join("\n") + "\n");
    expect((await cli(["test", POLICY, "--replay", ruled])).stdout).not.toContain("note:");
  });

  it("a line that expects nothing and was refused is noted: the failure it causes later is not the rule's fault", async () => {
    const file = write("context.jsonl", [MAIL("s", "2026-01-05T09:00:00", '{"to":["bob@acme.com"],"subject":"hi"}', ""), KB("s", "2026-01-05T09:00:01Z", ',"decision":"allow"')].join("\n") + "\n");
    const result = await cli(["test", POLICY, "--replay", file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`note: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:1: expects nothing, and was refused before any rule ran \\(request\\.time must be an RFC 3339 time, not "2026-01-05T09:00:00".*\\): its call did not happen in session "s", which later lines may count on`));
  });

  it("a note gives the refusal's detail, which the author needs, not the agent's short reason (review r2 L1)", async () => {
    const file = write("bare-time.jsonl", MAIL("s", "2026-01-05T09:00:00", '{"to":["bob@acme.com"],"subject":"hi"}', ',"decision":"deny"') + "\n");
    expect((await cli(["test", POLICY, "--replay", file])).stdout).toContain(`note: ${file}:1: passed, but only because the request was refused before any rule ran (request.time must be an RFC 3339 time, not "2026-01-05T09:00:00"`);
  });

  it("at most 20 notes per recording are listed, the rest counted, in every reporter", async () => {
    const file = write("many.jsonl", Array.from({ length: 25 }, (_, i) => MAIL(`s${i}`, "2026-01-05T09:00:00Z", TOO_FAR, ',"decision":"deny"')).join("\n") + "\n");
    const pretty = await cli(["test", POLICY, "--replay", file]);
    expect(pretty.stdout.match(/^note: /gm)).toHaveLength(21);
    expect(pretty.stdout).toContain("note: … and 5 more notes (at most 20 are listed per recording)");
    const json = JSON.parse((await cli(["test", POLICY, "--replay", file, "--json"])).stdout) as { ok: boolean; notes: { file: string; line: number; message: string }[]; notesLeftOut: number };
    expect(json.ok).toBe(true);
    expect(json.notes.map((n) => n.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(json.notesLeftOut).toBe(5);
    const github = (await cli(["test", POLICY, "--replay", file, "--reporter", "github"])).stdout;
    expect(github.match(/^::notice file=/gm)).toHaveLength(20);
    expect(github).toContain("::notice title=policyc test%3A note::… and 5 more notes");
    expect((await cli(["test", POLICY, "--replay", file, "--reporter", "tap"])).stdout).toContain(`# note: ${file}:1: passed, but only because`);
    expect((await cli(["test", POLICY, "--replay", file, "--reporter", "junit"])).stdout).toMatch(/<system-out>note: .*many\.jsonl:1: passed, but only because/);
  });

  it("counts the notes left out with thousands separators, as diff does (audit s22 g2 #8)", async () => {
    const file = write("thousands.jsonl", Array.from({ length: 1_025 }, (_, i) => MAIL(`s${i}`, "2026-01-05T09:00:00Z", TOO_FAR, ',"decision":"deny"')).join("\n") + "\n");
    expect((await cli(["test", POLICY, "--replay", file])).stdout).toContain("note: … and 1,005 more notes (at most 20 are listed per recording)");
  });

  it("a parallel replay lists the same notes as one thread", () => {
    const file = write("parallel.jsonl", Array.from({ length: 30 }, (_, i) => MAIL(`p${i}`, "2026-01-05T09:00:00Z", TOO_FAR, ',"decision":"deny"')).join("\n") + "\n");
    const one = JSON.parse(bin(["test", POLICY, "--replay", file, "--json", "--jobs", "1"]).stdout) as unknown;
    const three = JSON.parse(bin(["test", POLICY, "--replay", file, "--json", "--jobs", "3"]).stdout) as unknown;
    expect(three).toEqual(one);
    expect((one as { notesLeftOut: number }).notesLeftOut).toBe(10);
  });
});

describe("recordings that test nothing, beside ones that do", () => {
  it("an empty recording and one whose lines expect nothing are noted (the run passes on the others' cases)", async () => {
    const folder = join(dir, "mixed");
    write("mixed/tested.jsonl", KB("s", "2026-01-05T09:00:00Z", ',"decision":"allow"') + "\n");
    write("mixed/empty.jsonl", "");
    write("mixed/context-only.jsonl", KB("s", "2026-01-05T09:00:00Z", "") + "\n");
    const result = await cli(["test", POLICY, "--replay", folder]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`note: ${join(folder, "empty.jsonl")}: the recording has no lines: it tests nothing`);
    expect(result.stdout).toContain(`note: ${join(folder, "context-only.jsonl")}: no line of the recording expects a decision: it builds session state but tests nothing (add \`"decision"\` to the lines to check, or record what happens now with --update)`);
    expect(result.stdout).not.toContain("tested.jsonl:");
    // A selection explains a recording without cases: no note then.
    expect((await cli(["test", POLICY, "--replay", folder, "--session", "s"])).stdout).not.toContain("note:");
    const json = JSON.parse((await cli(["test", POLICY, "--replay", folder, "--json"])).stdout) as { notes: { file: string; line: number | null }[] };
    expect(json.notes.map((n) => [n.file.slice(folder.length + 1), n.line])).toEqual([["context-only.jsonl", null], ["empty.jsonl", null]]);
  });
});

describe("what to write instead", () => {
  it("`\"Allow\"`, an epoch time and a numeric session id are refused with the form to write", async () => {
    const epoch = (time: string): string => `{"time":${time},"session":"s",${AGENT},"tool":"kb.search","args":{"query":"q"}}`;
    const file = write("forms.jsonl", [KB("s", "2026-01-05T09:00:00Z", ',"decision":"Allow"'), epoch("1767603600"), '{"session":42,' + AGENT + ',"tool":"kb.search","args":{"query":"q"}}', epoch("1767603600123"), epoch("-5"), epoch("true"), epoch("30")].join("\n") + "\n");
    const result = await cli(["test", POLICY, "--replay", file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`${file}:1: error[PC602]: \`decision\` must be one of "allow", "ask", "deny": did you mean "allow"?`);
    // An epoch number's unit is told by its magnitude (Java's toEpochMilli() writes milliseconds); still refused.
    expect(result.stdout).toContain(`${file}:2: error[PC602]: \`time\` must be an RFC 3339 time in a string, not a number (read as epoch seconds, it would be "2026-01-05T09:00:00Z")\n`);
    expect(result.stdout).toContain(`${file}:3: error[PC602]: \`session\` must be a string: write it in quotes, "42"`);
    expect(result.stdout).toContain(`${file}:4: error[PC602]: \`time\` must be an RFC 3339 time in a string, not a number (read as epoch milliseconds, it would be "2026-01-05T09:00:00.123Z")\n`);
    expect(result.stdout).toContain(`${file}:5: error[PC602]: \`time\` must be an RFC 3339 time in a string, such as "2026-11-30T09:15:00Z" (a number is not read as a time)\n`);
    expect(result.stdout).toContain(`${file}:6: error[PC602]: \`time\` must be an RFC 3339 time in a string, such as "2026-11-30T09:15:00Z"\n`);
    // A small number (a count or a duration, more likely) is not shown as a time in 1970.
    expect(result.stdout).toContain(`${file}:7: error[PC602]: \`time\` must be an RFC 3339 time in a string, such as "2026-11-30T09:15:00Z" (a number is not read as a time)\n`);
  });

  it("lines that are not JSON say what they look like: a comment, a piece of a pretty-printed object, a trailing comma", async () => {
    // Pieces outside any object that opens and closes (one that does is one error: below).
    const file = write("not-json.jsonl", ['  "session": "s",', "}", "// the happy path", "# attacks", '{"session":"s","tool":"kb.search",}', "nonsense", "{"].join("\n") + "\n");
    const result = await cli(["test", POLICY, "--replay", file]);
    expect(result.code).toBe(2);
    const several = "(part of an object written over several lines? A recording holds each request on one line: `jq -c . requests.json` writes them so)";
    for (const n of [1, 2, 7]) expect(result.stdout).toMatch(new RegExp(`:${n}: error\\[PC601\\]: not JSON at .*${several.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    for (const n of [3, 4]) expect(result.stdout).toMatch(new RegExp(`:${n}: error\\[PC601\\]: not JSON at .*\\(JSON Lines has no comments: remove the line\\)`));
    expect(result.stdout).toMatch(/:5: error\[PC601\]: not JSON at .*\(a comma before `\}` or `\]` is not JSON: remove it\)/);
    expect(result.stdout).toMatch(/:6: error\[PC601\]: not JSON at column 1: unexpected `nonsense`$/m);
  });

  it("a requests.json given as a recording is one error that says how to write JSON Lines: pretty-printed, or an array on one line", async () => {
    const pretty = write("requests.jsonl", JSON.stringify([{ session: "s", tool: "kb.search", args: { query: "q" } }, { session: "t", tool: "kb.search" }], null, 2) + "\n");
    const result = await cli(["test", POLICY, "--replay", pretty]);
    expect(result.code).toBe(2);
    expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(1);
    expect(result.stdout).toContain(`${pretty}: error[PC601]: it is one JSON document written over several lines, not JSON Lines: a recording holds each request on a line of its own (\`jq -c '.[]' requests.json\` writes an array of requests so, \`jq -c . requests.json\` a single one)`);
    const oneLine = write("array.jsonl", JSON.stringify([{ session: "s", tool: "kb.search" }]) + "\n");
    expect((await cli(["test", POLICY, "--replay", oneLine])).stdout).toContain(`${oneLine}:1: error[PC602]: a recording line must be a JSON object, not an array (a list of requests? A recording holds each request on a line of its own: \`jq -c '.[]' requests.json\` writes them so)`);
    // A good line before the object: the object is one error that names its lines, not the file's.
    const mixed = write("mixed-pieces.jsonl", KB("s", "2026-01-05T09:00:00Z", ',"decision":"allow"') + "\n{\n  \"session\": \"t\"\n}\n");
    const mixedResult = await cli(["test", POLICY, "--replay", mixed]);
    expect(mixedResult.code).toBe(2);
    expect(mixedResult.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(1);
    expect(mixedResult.stdout).toContain(`${mixed}:2: error[PC601]: lines 2–4 are one JSON object written over several lines: put it on one line (\`jq -c\` writes it so); joined, the lines parse as a JSON object`);
  });

  it("a tool one letter off gets a did-you-mean", async () => {
    const file = write("typo.jsonl", `{"time":"2026-01-05T09:00:00Z","session":"s",${AGENT},"tool":"kb.serch","args":{"query":"q"},"decision":"deny","rules":[]}\n`);
    const result = await cli(["test", POLICY, "--replay", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${file}:1: error[PC603]: unknown tool \`kb.serch\` (did you mean \`kb.search\`?): the policy set declares no such tool`);
  });

  it("a UTF-16 recording (Windows PowerShell's `>`) is one error that says to save it as UTF-8, with or without a byte order mark", async () => {
    const text = KB("s", "2026-01-05T09:00:00Z", ',"decision":"allow"') + "\r\n";
    for (const [name, bytes] of [
      ["le-bom", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
      ["le", Buffer.from(text, "utf16le")],
      ["be-bom", Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()])],
    ] as const) {
      const file = write(`utf16-${name}.jsonl`, bytes);
      const result = await cli(["test", POLICY, "--replay", file]);
      expect(result.code, name).toBe(2);
      expect(result.stdout, name).toContain(`${file}: error[PC600]: it is UTF-16 text, and a recording is UTF-8 JSON Lines: save it as UTF-8 (PowerShell: \`Out-File -Encoding utf8\`, or \`Set-Content -Encoding utf8\`)`);
      expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm), name).toHaveLength(1);
    }
  });

  it("a binary recording (a NUL byte anywhere) is one error for the file, for test and diff, not one per line", async () => {
    const noise = Buffer.alloc(200_000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + (i >> 3)) & 0xff;
    const file = write("binary.jsonl", noise);
    const said = `${file}: error[PC600]: it looks like a binary file (it contains a NUL byte at offset 0), not JSON Lines: a recording is UTF-8 text, one JSON object a line`;
    for (const args of [["test", POLICY, "--replay", file], ["test", POLICY, "--replay", file, "--jobs", "2"], ["diff", POLICY, POLICY, "--replay", file]]) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout, args.join(" ")).toContain(said);
      expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm), args.join(" ")).toHaveLength(1);
    }
  });

  it("a gzip-compressed recording is one error for the file that says so and how to replay it, for test and diff, whatever its name", async () => {
    const compressed = gzipSync(KB("s", "2026-01-05T09:00:00Z", ',"decision":"allow"') + "\n");
    // The command to replay it names the file as a shell reads it: quoted when it has to be.
    for (const [name, spelled] of [["app.jsonl.gz", ""], ["renamed.jsonl", ""], ["it's a log.jsonl", "'"], ["-n.jsonl.gz", ""]] as const) {
      const file = write(name, compressed);
      const word = spelled === "" ? file : `'${file.replace("'", "'\\''")}'`;
      for (const [verb, ...args] of [["test", POLICY, "--replay", file], ["test", POLICY, "--replay", file, "--jobs", "2"], ["diff", POLICY, POLICY, "--replay", file]]) {
        const result = await cli([verb!, ...args]);
        expect(result.code, args.join(" ")).toBe(2);
        const gunzip = name.endsWith(".gz") ? "`gunzip` it, or " : "";
        expect(result.stdout, args.join(" ")).toContain(`${file}: error[PC600]: it is gzip-compressed (it starts with the bytes 1f 8b), not JSON Lines: ${gunzip}decompress it into standard input: \`zcat < ${word} | policyc ${verb} … --replay -\``);
        expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm), args.join(" ")).toHaveLength(1);
      }
    }
    // From standard input: decompressed before it is piped, not "replayed from standard input" again.
    for (const verb of [["test", POLICY], ["diff", POLICY, POLICY]]) {
      const piped = bin([...verb, "--replay", "-"], { stdin: compressed });
      expect(piped.code, verb[0]).toBe(2);
      expect(piped.stdout, verb[0]).toContain(`standard input: error[PC600]: it is gzip-compressed (it starts with the bytes 1f 8b), not JSON Lines: decompress it before piping it: \`zcat < FILE.gz | policyc ${verb[0]} … --replay -\``);
    }
  });

  it("a gzip-compressed request, and a folder of only gzip-compressed recordings, say they are compressed", async () => {
    const request = write("request.json.gz", gzipSync(KB("s", "2026-01-05T09:00:00Z", "")));
    const named = await cli(["eval", POLICY, "--request", request]);
    expect(named.code).toBe(2);
    expect(named.stderr).toBe(`${request}: error[PC600]: it is gzip-compressed (it starts with the bytes 1f 8b), not JSON: \`gunzip\` it, or decompress it into standard input: \`zcat < ${request} | policyc eval … --request -\`\n`);
    const piped = await cli(["eval", POLICY, "--request", "-"], { stdin: readFileSync(request) });
    expect(piped.stderr).toBe("standard input: error[PC600]: it is gzip-compressed (it starts with the bytes 1f 8b), not JSON: decompress it before piping it: `zcat < FILE.gz | policyc eval … --request -`\n");
    // A folder search takes .jsonl and .ndjson files: rotated logs beside none of them are why it found none.
    const folder = join(dir, "rotated");
    write("rotated/app.jsonl.gz", gzipSync("{}\n"));
    const one = await cli(["test", POLICY, "--replay", folder]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain(`${folder}: error[PC600]: a folder without .jsonl or .ndjson files: it holds a gzip-compressed one, which is not read: \`gunzip\` it, or \`zcat\` it into --replay -\n`);
    write("rotated/deeper/app.1.NDJSON.GZ", gzipSync("{}\n"));
    expect((await cli(["test", POLICY, "--replay", folder])).stderr).toContain(`${folder}: error[PC600]: a folder without .jsonl or .ndjson files: it holds 2 gzip-compressed ones, which are not read: \`gunzip\` them, or \`zcat\` them into --replay -\n`);
  });

  const GOOD = KB("s", "2026-01-05T09:00:00Z", ',"decision":"allow","rules":["kb-for-support"]') + "\n";
  /** Random-looking bytes without a NUL byte, about 80 to a line. */
  const noiseWithoutNul = (length: number): Buffer => {
    const noise = Buffer.alloc(length);
    for (let i = 0; i < length; i++) noise[i] = i % 80 === 79 ? 10 : 0x80 + ((i * 7919 + (i >> 3)) % 0x7f);
    return noise;
  };

  it("a log whose tail a crash filled with NUL bytes: the lines before it replay, and the line holding them is the one error (review r4 #3)", async () => {
    const crashed = write("crashed.jsonl", Buffer.concat([Buffer.from(GOOD + GOOD + GOOD), Buffer.alloc(4096)]));
    for (const args of [["test", POLICY, "--replay", crashed], ["test", POLICY, "--replay", crashed, "--jobs", "2"]]) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm), args.join(" ")).toHaveLength(1);
      expect(result.stdout).toContain(`${crashed}:4: error[PC601]: the line holds NUL bytes, which JSON text never does (binary data; a crash can leave zeros at the end of a log): the rest of the file is not read\n`);
      expect(result.stdout).toContain("3 lines replayed from 1 file; 1 error");
    }
    const diff = await cli(["diff", POLICY, POLICY, "--replay", crashed]);
    expect(diff.code).toBe(2);
    expect(diff.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(1);
    expect(diff.stdout).toContain(`${crashed}:4: error[PC601]: the line holds NUL bytes`);
    // Zeros in the middle of a line, after good lines: that line, and nothing after it.
    const late = write("late-binary.jsonl", GOOD + "ab\u0000c\n" + GOOD);
    const result = await cli(["test", POLICY, "--replay", late]);
    expect(result.code).toBe(2);
    expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(1);
    expect(result.stdout).toContain(`${late}:2: error[PC601]: the line holds NUL bytes`);
    expect(result.stdout).toContain("1 line replayed from 1 file; 1 error");
  });

  it(`binary data without a NUL byte is one error, not one per line: ${BINARY_RUN_LINES} unreadable lines in a row end the reading (review r4 #3)`, async () => {
    const binary = write("random.jsonl", noiseWithoutNul(400_000));
    const whole = await cli(["test", POLICY, "--replay", binary]);
    expect(whole.code).toBe(2);
    expect(whole.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(1);
    expect(whole.stdout).toContain(`${binary}: error[PC600]: it looks like a binary file (line 1 and the ${BINARY_RUN_LINES - 1} after it are not UTF-8 JSON), not JSON Lines`);
    const tail = write("random-tail.jsonl", Buffer.concat([Buffer.from(GOOD + GOOD), noiseWithoutNul(400_000)]));
    const result = await cli(["test", POLICY, "--replay", tail]);
    expect(result.code).toBe(2);
    expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(1);
    expect(result.stdout).toContain(`${tail}:3: error[PC601]: this line and the ${BINARY_RUN_LINES - 1} after it are not UTF-8 JSON (binary data?): the rest of the file is not read\n`);
    expect(result.stdout).toContain("2 lines replayed from 1 file; 1 error");
    // Fewer in a row are each reported, and the lines after them replay.
    const few = write("few-bad.jsonl", Buffer.concat([Buffer.from(GOOD), noiseWithoutNul(3 * 80), Buffer.from(GOOD)]));
    const some = await cli(["test", POLICY, "--replay", few]);
    expect(some.stdout.match(/^.*?: error\[PC601\]: the line is not valid UTF-8/gm)).toHaveLength(3);
    expect(some.stdout).toContain("2 lines replayed from 1 file; 3 errors");
  });

  it("a recording whose name is not UTF-8, in a --replay folder, is said to be so, as a policy file is (review r4 #5)", async () => {
    const folder = join(dir, "badly-named");
    mkdirSync(folder, { recursive: true });
    try {
      writeFileSync(Buffer.concat([Buffer.from(`${folder}/r`), Buffer.from([0xfe]), Buffer.from(".jsonl")]), GOOD);
    } catch {
      return; // a file system that refuses such names (APFS)
    }
    for (const args of [["test", POLICY, "--replay", folder], ["diff", POLICY, POLICY, "--replay", folder]]) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout, args.join(" ")).toContain(`${join(folder, "r\uFFFD.jsonl")}: error[PC600]: its name is not valid UTF-8 (shown with \uFFFD for the bad bytes), and cannot be opened by the name read: rename it\n`);
    }
  });

  it("files joined with `cat`, each with its byte order mark, replay as one recording", async () => {
    const part = (time: string): string => "\ufeff" + KB("s", time, ',"decision":"allow","rules":["kb-for-support"]') + "\n";
    const file = write("joined.jsonl", part("2026-01-05T09:00:00Z") + part("2026-01-05T09:00:01Z"));
    const result = await cli(["test", POLICY, "--replay", file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("2 passed, 0 failed");
    // --update keeps each line's mark where it was.
    const failing = write("joined-update.jsonl", part("2026-01-05T09:00:00Z") + "\ufeff" + KB("s", "2026-01-05T09:00:01Z", ',"decision":"deny"') + "\n");
    expect((await cli(["test", POLICY, "--replay", failing, "--update"])).code).toBe(0);
    expect(readFileSync(failing, "utf8")).toBe(part("2026-01-05T09:00:00Z") + "\ufeff" + KB("s", "2026-01-05T09:00:01Z", ',"decision":"allow","rules":["kb-for-support"]') + "\n");
  });
});

describe("a failure that differs only in rules or reason says so", () => {
  const line = MAIL("s", "2026-01-05T09:00:00Z", '{"to":["eve@evil.example"],"subject":"hi"}', ',"decision":"deny","rules":["mail-stays-inside"],"reason":"mail stays inside acme.com."');

  it("pretty names the part that differs and shows the actual reason; github and junit show it in the annotation and message", async () => {
    const file = write("reason.jsonl", line + "\n");
    const pretty = await cli(["test", POLICY, "--replay", file]);
    expect(pretty.code).toBe(1);
    expect(pretty.stdout).toContain('✗ line 1: email.send to=["eve@evil.example"] subject="hi" (the reason differs)');
    expect(pretty.stdout).toContain('actual   deny [mail-stays-inside] ("mail stays inside acme.com")');
    const github = (await cli(["test", POLICY, "--replay", file, "--reporter", "github"])).stdout;
    expect(github).toContain('(the reason differs)::expected deny [mail-stays-inside] ("mail stays inside acme.com."), got deny [mail-stays-inside] ("mail stays inside acme.com")');
    const junit = (await cli(["test", POLICY, "--replay", file, "--reporter", "junit"])).stdout;
    expect(junit).toContain('message="expected deny [mail-stays-inside] (&quot;mail stays inside acme.com.&quot;), got deny [mail-stays-inside] (&quot;mail stays inside acme.com&quot;)" type="reason"');
  });

  it("github annotations of standard input carry no file (nothing in the repository to point at): the line is in the title", () => {
    const result = bin(["test", POLICY, "--replay", "-", "--reporter", "github"], { stdin: line + "\n" });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("file=");
    expect(result.stdout).toMatch(/^::error title=policyc test%3A standard input line 1%3A email\.send/m);
  });
});
