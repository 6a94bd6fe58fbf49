import { describe, expect, it } from "vitest";
import { analyze, compile, compileSources, format, parse, SourceFile } from "../../src/index.js";

/**
 * The compiling functions called from JavaScript with the wrong kind of argument (no compiler
 * checks it there): a TypeError that names the argument and the kind of value given, as the
 * engine does for its options, never an internal error from inside the parser.
 */

const TEXT = "tool kb.search { }\npolicy p { allow kb.search }\n";
const BYTES = Buffer.from(TEXT);

describe("the sources given to compile, compileSources and analyze", () => {
  it.each([
    ["one source not in an array", () => compile({ path: "p.policy", text: TEXT } as never), "the sources must be an array of { path, text } objects, not an object (put one source in an array: [{ path, text }])"],
    ["the text alone", () => analyze(TEXT as never), "the sources must be an array of { path, text } objects, not a string"],
    ["nothing", () => compileSources(undefined as never), "the sources must be an array of { path, text } objects, not undefined"],
    ["a file read as bytes", () => compileSources([{ path: "p.policy", text: BYTES as never }]), 'sources[0].text (p.policy) must be a string, the policy text, not a Buffer: read the file as text, readFileSync(path, "utf8")'],
    ["a text left undefined", () => compile([{ path: "a.policy", text: TEXT }, { path: "p.policy", text: undefined as never }]), "sources[1].text (p.policy) must be a string, the policy text, not undefined"],
    ["a null source", () => analyze([null as never]), "sources[0] must be a { path, text } object, not null"],
    ["a source without a path", () => analyze([{ text: TEXT } as never]), "sources[0].path must be a string (the file's name in messages), not undefined"],
  ])("%s is a TypeError that says what was given", (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it("a message names the kind of value, never its content", () => {
    expect(() => compileSources([{ path: "p.policy", text: Buffer.from("secret policy") as never }])).toThrow(/^(?!.*secret)/s);
  });

  it("the right arguments still compile, source files included", () => {
    expect(compileSources([{ path: "p.policy", text: TEXT }]).diagnostics).toEqual([]);
    expect(compile([new SourceFile("p.policy", TEXT)]).decide({ session: "s", tool: "kb.search" }).decision).toBe("allow");
    expect(analyze([]).ok).toBe(true);
  });
});

describe("the text given to parse and format", () => {
  it.each([
    ["parse of nothing", () => parse(undefined as never), "the policy text must be a string (or a SourceFile), not undefined"],
    ["parse of bytes", () => parse(BYTES as never, "p.policy"), 'the policy text must be a string (or a SourceFile), not a Buffer: read the file as text, readFileSync(path, "utf8")'],
    ["format of a source object", () => format({ path: "p.policy", text: TEXT } as never), "the policy text must be a string (or a SourceFile), not an object"],
    ["a path that is not a string", () => format(TEXT, 3 as never), "the path must be a string (the file's name in messages), not a number"],
  ])("%s is a TypeError that says what was given", (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});
