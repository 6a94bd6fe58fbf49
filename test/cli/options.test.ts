import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { gatherValues } from "../../src/cli/options.js";
import { plainPalette } from "../../src/diagnostics/render.js";
import { DECLS, policyOf } from "../fixtures.js";
import { cli } from "../helpers.js";

/**
 * Options every verb shares a rule for: an empty value (what `--opt "$VAR"` gives when VAR is
 * unset) is bad usage, whatever the option, never taken for the option left out.
 */

const dir = mkdtempSync(join(tmpdir(), "policyc-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const program = buildProgram({ out: () => true, err: () => true, palette: plainPalette, errPalette: plainPalette, cwd: dir, readStdin: () => Buffer.alloc(0), env: {} }, () => undefined);
/** Every option that takes one value, per verb, with filler for the verb's required arguments. */
const valueOptions = program.commands.flatMap((command) => {
  const required = command.registeredArguments.filter((a) => a.required).map((a) => `${a.name()}.policy`);
  // (An option that gathers its values, `test --reporter`, has commander call our gatherer, which parses nothing.)
  return command.options.filter((o) => o.required && !o.variadic).map((o) => [command.name(), o.long!, required, o.parseArg !== undefined && o.parseArg !== gatherValues] as const);
});
/** The options that take one value and refuse a second one (not those that gather every value). */
const singleValueOptions = valueOptions.filter(([verb, flag]) => program.commands.find((command) => command.name() === verb)!.options.find((o) => o.long === flag)!.parseArg !== gatherValues);

describe("an empty option value", () => {
  it("is found for the options that carry paths and keys", () => {
    const names = valueOptions.map(([verb, flag]) => `${verb} ${flag}`);
    expect(names).toEqual(expect.arrayContaining(["eval --public-key", "eval --bundle", "eval --request", "test --bundle", "test --session", "test --grep", "build --output", "build --sign", "test --public-key", "diff --public-key", "diff --jobs"]));
  });

  it.each(valueOptions)("%s %s \"\" exits 2 naming the option", async (verb, flag, args, parsed) => {
    for (const empty of ["", "  "]) {
      const result = await cli([verb, ...args, flag, empty], { cwd: dir });
      // An option with its own parser (--max-errors) refuses the value while parsing, in its words.
      if (parsed) expect(result).toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining(`'${flag} `) });
      else expect(result).toEqual({ code: 2, stdout: "", stderr: `policyc ${verb}: ${flag} was given an empty value (an unset variable?)\n` });
      // The same with the value attached.
      expect(await cli([verb, ...args, `${flag}=${empty}`], { cwd: dir })).toEqual(result);
    }
  });
});

describe("an option that takes one value, given twice", () => {
  it("--reporter of test, check and fmt gathers its values (one report per value), and --exclude of every verb that reads policy paths; no other option does", () => {
    expect(valueOptions.filter((option) => !singleValueOptions.includes(option)).map(([verb, flag]) => `${verb} ${flag}`)).toEqual(["check --reporter", "check --exclude", "fmt --reporter", "fmt --exclude", "build --exclude", "eval --exclude", "test --reporter", "test --exclude", "diff --exclude"]);
  });

  it.each(singleValueOptions)("%s %s with two different values exits 2 naming both, before anything runs", async (verb, flag, args) => {
    // Numbers, which every option's own parser (--max-errors) takes.
    const result = await cli([verb, ...args, flag, "1", `${flag}=2`], { cwd: dir });
    const named = flag === "--output" ? "-o (--output)" : flag === "--request" ? "-r (--request)" : flag;
    expect(result).toEqual({ code: 2, stdout: "", stderr: `policyc ${verb}: ${named} given twice (\`1\`, \`2\`): give one\n` });
  });

  it("as the audit found them: --bundle, --request, -o, --session, --reporter; the same value twice is accepted", async () => {
    writeFileSync(join(dir, "twice.policy"), DECLS);
    writeFileSync(join(dir, "twice.jsonl"), '{ "session": "s", "tool": "kb.search", "args": { "query": "q" }, "decision": "deny" }\n');
    expect((await cli(["test", "--bundle", "a.json", "--bundle", "b.json", "--replay", "twice.jsonl"], { cwd: dir })).stderr).toBe("policyc test: --bundle given twice (`a.json`, `b.json`): give one\n");
    expect((await cli(["eval", "twice.policy", "--request", "r1.jsonl", "-r", "r2.jsonl"], { cwd: dir })).stderr).toBe("policyc eval: -r (--request) given twice (`r1.jsonl`, `r2.jsonl`): give one\n");
    expect((await cli(["build", "twice.policy", "-o", "o3/a.json", "-o", "o3/b.json"], { cwd: dir })).code).toBe(2);
    expect((await cli(["test", "twice.policy", "--replay", "twice.jsonl", "--session", "a", "--session", "b"], { cwd: dir })).code).toBe(2);
    expect((await cli(["test", "twice.policy", "--replay", "twice.jsonl", "--reporter", "json", "--reporter", "junit"], { cwd: dir })).code).toBe(2);
    // --replay gathers; one value given twice is one value.
    const same = await cli(["test", "twice.policy", "--replay", "twice.jsonl", "--reporter", "tap", "--reporter=tap", "--session", "s", "--session", "s"], { cwd: dir });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("ok 1");
  });
});

describe("--max-errors", () => {
  // Ten unknown attributes (PC202) in one folder, four syntax errors (PC103) in another for fmt,
  // and a request and a recording for the verbs that need them before they load the policy set.
  const many = join(dir, "many");
  const broken = join(dir, "broken");
  mkdirSync(many);
  mkdirSync(broken);
  writeFileSync(join(many, "decls.policy"), DECLS);
  writeFileSync(join(many, "many.policy"), policyOf(...Array.from({ length: 10 }, (_, i) => `allow kb.search when agent.tem${i} == "x"`)));
  for (let i = 0; i < 4; i++) writeFileSync(join(broken, `b${i}.policy`), `policy p${i} {\n  allow kb.search when (\n}\n`);
  // diff caps each side that does not load at N (both are reported): its other side loads.
  const fine = join(dir, "fine");
  mkdirSync(fine);
  writeFileSync(join(fine, "decls.policy"), DECLS);
  writeFileSync(join(fine, "fine.policy"), policyOf("allow kb.search"));
  writeFileSync(join(dir, "request.json"), '{ "session": "s", "tool": "kb.search", "args": { "query": "q" } }\n');
  writeFileSync(join(dir, "recorded.jsonl"), '{ "session": "s", "tool": "kb.search", "args": { "query": "q" } }\n');
  const verbs: readonly (readonly [string, string[], string, number])[] = [
    ["check", ["many"], "PC202", 10],
    ["build", ["many", "-o", "out.json"], "PC202", 10],
    ["eval", ["many", "-r", "request.json"], "PC202", 10],
    ["test", ["many", "--replay", "recorded.jsonl"], "PC202", 10],
    ["diff", ["fine", "many", "--replay", "recorded.jsonl"], "PC202", 10],
    ["fmt", ["broken"], "PC103", 4],
  ];

  it("is every verb's that prints diagnostics (the PC503 note names it)", () => {
    const verbsWith = program.commands.filter((command) => command.options.some((o) => o.long === "--max-errors")).map((command) => command.name());
    expect(verbsWith.sort()).toEqual(verbs.map(([verb]) => verb).sort());
  });

  it.each(verbs)("%s --max-errors N shows N diagnostics and counts the rest", async (verb, args, code, total) => {
    const capped = await cli([verb, ...args, "--max-errors", "2"], { cwd: dir });
    const output = capped.stdout + capped.stderr;
    expect(capped.code, output).toBe(1);
    expect(output.match(new RegExp(`error\\[${code}\\]`, "g"))).toHaveLength(2);
    expect(output).toContain(`warning[PC503]: ${total - 2} more diagnostics not shown (${total - 2} errors, 0 warnings); use --max-errors N to see more`);
    const all = await cli([verb, ...args, "--max-errors", String(total)], { cwd: dir });
    expect((all.stdout + all.stderr).match(new RegExp(`error\\[${code}\\]`, "g"))).toHaveLength(total);
    expect(all.stdout + all.stderr).not.toContain("PC503");
  });
});

describe("a long option written with one dash", () => {
  const folder = join(dir, "one-dash");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "p.policy"), `${DECLS}\n${policyOf("allow kb.search")}`);
  writeFileSync(join(folder, "r.json"), '{ "session": "s", "tool": "kb.search", "args": { "query": "q" } }\n');

  // Commander read `-output` as `-o utput`: a bundle named `utput`, exit 0 (audit s20 a1 M1).
  it.each([
    [["build", "-output", "p.policy"], "policyc build: unknown option `-output`: did you mean `--output`?\n"],
    [["build", "p.policy", "-output", "out.json"], "policyc build: unknown option `-output`: did you mean `--output`?\n"],
    [["eval", "p.policy", "-request", "r.json"], "policyc eval: unknown option `-request`: did you mean `--request`?\n"],
    [["check", "-json", "p.policy"], "policyc check: unknown option `-json`: did you mean `--json`?\n"],
    [["check", "p.policy", "-jsno"], "policyc check: unknown option `-jsno`: did you mean `--json`?\n"],
    [["build", "p.policy", "-ojson"], "policyc build: unknown option `-ojson`: did you mean `--json`?\n"],
    [["check", "p.policy", "-help"], "policyc check: unknown option `-help`: did you mean `--help`?\n"],
    [["build", "p.policy", "-otarget"], "policyc build: unknown option `-otarget`: did you mean `--target`?\n"],
    [["build", "p.policy", "-ojsons"], "policyc build: unknown option `-ojsons`: did you mean `--json`?\n"],
  ])("%j is a usage error that writes nothing", async (args, stderr) => {
    expect(await cli(args, { cwd: folder })).toEqual({ code: 2, stdout: "", stderr });
    expect(readdirSync(folder).sort()).toEqual(["p.policy", "r.json"]);
  });

  it("leaves short options with their values, apart or attached, and a value that starts with a dash", async () => {
    expect(await cli(["build", "p.policy", "-o", "a.json"], { cwd: folder })).toMatchObject({ code: 0 });
    expect(await cli(["build", "p.policy", "-ob.json"], { cwd: folder })).toMatchObject({ code: 0 });
    expect(await cli(["eval", "p.policy", "-r", "r.json"], { cwd: folder })).toMatchObject({ code: 0 });
    expect(await cli(["test", "p.policy", "--replay", "r.json", "--grep", "-json"], { cwd: folder })).toMatchObject({ stderr: expect.not.stringContaining("unknown option") });
    expect(readdirSync(folder)).toEqual(expect.arrayContaining(["a.json", "b.json"]));
    for (const name of ["a.json", "b.json"]) rmSync(join(folder, name));
  });

  it("takes a value attached to -o that is more than two edits from every long option's name as the file's name (review r1 LOW 7)", async () => {
    // `-osigned` is three edits from `--sign`: docs/cli.md refuses only a letter or two.
    expect(await cli(["build", "p.policy", "-osigned"], { cwd: folder })).toMatchObject({ code: 0, stderr: "" });
    expect(await cli(["build", "p.policy", "-owrite"], { cwd: folder })).toMatchObject({ code: 0, stderr: "" });
    expect(readdirSync(folder)).toEqual(expect.arrayContaining(["signed", "write"]));
    for (const name of ["signed", "write"]) rmSync(join(folder, name));
  });
});
