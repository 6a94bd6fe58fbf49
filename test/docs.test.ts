import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { format } from "../src/ast/formatSources.js";
import { analyze } from "../src/check/analyze.js";
import { CODES, type Code } from "../src/diagnostics/codes.js";
import { renderDiagnostic } from "../src/diagnostics/render.js";
import { BUNDLE_CODES } from "../src/bundle/errorCodes.js";
import { INPUT_CODES } from "../src/testing/inputCodes.js";
import { REVOCATION_ERROR_CHARS, REVOCATION_ERRORS_KEPT } from "../src/runtime/engine.js";
import { cli, CONFORMANCE, HAS_CONFORMANCE, ROOT } from "./helpers.js";

/**
 * The docs are part of the product: every code in the catalogue is documented, and every
 * example in the language reference and the diagnostics catalogue does what the text says.
 */

interface Block {
  /** The info string's first word: `policy`, `policy-fragment`, `text`… */
  readonly info: string;
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The `## ` heading the block is under, if any. */
  readonly heading: string | undefined;
}

interface Doc {
  readonly path: string;
  readonly blocks: readonly Block[];
  /** `## ` headings outside code blocks, with their lines. */
  readonly headings: readonly { text: string; line: number }[];
  /** Lines outside code blocks, per `## ` heading. */
  readonly prose: ReadonlyMap<string, string>;
}

function readDoc(relative: string): Doc {
  const path = join(ROOT, relative);
  const lines = readFileSync(path, "utf8").split("\n");
  const blocks: Block[] = [];
  const headings: { text: string; line: number }[] = [];
  const prose = new Map<string, string>();
  let heading: string | undefined;
  let open: { fence: string; info: string; line: number; body: string[] } | undefined;
  lines.forEach((line, index) => {
    if (open) {
      const close = /^(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
        blocks.push({ info: open.info, text: open.body.join("\n") + "\n", line: open.line, heading });
        open = undefined;
      } else open.body.push(line);
      return;
    }
    const fence = /^(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (fence) {
      open = { fence: fence[1]!, info: fence[2]!, line: index + 1, body: [] };
      return;
    }
    if (line.startsWith("## ")) {
      heading = line.slice(3).trim();
      headings.push({ text: heading, line: index + 1 });
    }
    if (heading !== undefined) prose.set(heading, (prose.get(heading) ?? "") + line + "\n");
  });
  expect(open, `${relative}: a code block opened at line ${open?.line} is never closed`).toBeUndefined();
  return { path: relative, blocks, headings, prose };
}

function describeDiagnostics(diagnostics: ReturnType<typeof analyze>["diagnostics"]): string {
  return diagnostics.map((d) => renderDiagnostic(d)).join("\n\n");
}

/** A rules-only fragment (as opposed to an expression fragment, which is not checked). */
function isRuleFragment(text: string): boolean {
  const first = text.split("\n").find((l) => l.trim() !== "" && (!l.trim().startsWith("//") || l.trim().startsWith("///")));
  return first !== undefined && /^\s*(@|allow\b|ask\b|deny\b|\/\/\/)/.test(first);
}

const language = readDoc("docs/language.md");
const catalogue = readDoc("docs/diagnostics.md");
const codes = Object.keys(CODES) as Code[];
/** The codes of errors outside `check` (recordings, requests, bundles, keys): documented beside check's (test/errorCodes.test.ts checks their sections). */
const OUTSIDE_CHECK: readonly string[] = [...Object.values(INPUT_CODES), ...Object.values(BUNDLE_CODES)];
/** Problems with paths and bytes, the overflow note, and what only `fmt` reports: they cannot be shown as a `policy` block (checked with `policyc check`). */
const INPUT_LEVEL = new Set<string>(["PC001", "PC002", "PC003", "PC004", "PC005", "PC006", "PC007", "PC110", "PC503"]);

describe("docs/diagnostics.md catalogue", () => {
  const headingCodes = catalogue.headings.map((h) => ({ ...h, match: /^(PC\d+)\b(.*)$/.exec(h.text) })).filter((h) => h.match);

  it.each(codes)("documents %s with a `## CODE — title` heading", (code) => {
    const found = headingCodes.filter((h) => h.match![1] === code);
    expect(found, `docs/diagnostics.md has no heading for ${code}`).toHaveLength(1);
    expect(found[0]!.text).toBe(`${code} — ${CODES[code].title}`);
  });

  it("names no code that is not in the catalogue", () => {
    const unknown = headingCodes.filter((h) => !(h.match![1]! in CODES) && !OUTSIDE_CHECK.includes(h.match![1]!)).map((h) => `line ${h.line}: ${h.text}`);
    expect(unknown).toEqual([]);
  });

  it("the overview table's ranges hold every code, from the first to the last of each hundred (audit a1 L1)", () => {
    const text = readFileSync(join(ROOT, "docs", "diagnostics.md"), "utf8");
    const ranges = [...text.matchAll(/^\| PC(\d+)–PC(\d+) \|/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const all = [...codes, ...OUTSIDE_CHECK];
    const outside = all.filter((code) => !ranges.some(([first, last]) => Number(code.slice(2)) >= first && Number(code.slice(2)) <= last));
    expect(outside).toEqual([]);
    for (const [first, last] of ranges) expect(all, `PC${last} ends a range of the table`).toContain(`PC${String(last).padStart(3, "0")}`);
  });

  it("says what the column of `file:line:column` counts, and it is what the text output prints (audit a1 L8)", async () => {
    const text = readFileSync(join(ROOT, "docs", "diagnostics.md"), "utf8").replace(/\s+/g, " ");
    expect(text).toContain("The column counts UTF-16 code units");
    const dir = mkdtempSync(join(tmpdir(), "policyc-columns-"));
    try {
      writeFileSync(join(dir, "u.policy"), 'agent { team: string }\ntool kb.search {}\npolicy p {\n  allow kb.search when "漢😀" == agent.tem\n}\n');
      // `  allow kb.search when "` is 24 units, `漢` one and `😀` two, then `" == agent.` (11): `tem` starts at unit 39.
      expect((await cli(["check", "u.policy"], { cwd: dir })).stdout).toMatch(/^u\.policy:4:39: error\[PC202\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(codes)("gives the severity of %s", (code) => {
    const text = catalogue.prose.get(`${code} — ${CODES[code].title}`) ?? "";
    expect(text).toContain(`**Severity:** ${CODES[code].severity}`);
  });

  it.each(codes)("shows an example of %s", (code) => {
    const blocks = catalogue.blocks.filter((b) => b.heading?.startsWith(`${code} `));
    if (INPUT_LEVEL.has(code)) {
      expect(blocks.filter((b) => b.info === "policy"), `${code} cannot be shown as a policy block; use a text block`).toEqual([]);
      expect(blocks.some((b) => b.info === "text"), `${code} needs a text example`).toBe(true);
    } else {
      expect(blocks.some((b) => b.info === "policy"), `${code} needs a \`policy\` example`).toBe(true);
    }
  });
});

/** `UPDATE_DOCS=1 npx vitest run test/docs.test.ts` rewrites stale example output in docs/diagnostics.md. */
const UPDATE = process.env["UPDATE_DOCS"] === "1";

describe("docs/diagnostics.md examples", () => {
  const examples = catalogue.blocks.filter((b) => b.info === "policy");
  const scratch = mkdtempSync(join(tmpdir(), "policyc-docs-"));
  /** Output blocks to rewrite (UPDATE_DOCS=1): opening fence line → the real output. */
  const updates = new Map<number, string>();
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    if (updates.size === 0) return;
    const path = join(ROOT, catalogue.path);
    const lines = readFileSync(path, "utf8").split("\n");
    // From the bottom up, so earlier line numbers stay valid.
    for (const [line, text] of [...updates].sort((x, y) => y[0] - x[0])) {
      const close = lines.findIndex((l, i) => i > line - 1 && /^```\s*$/.test(l));
      lines.splice(line, close - line, ...text.trimEnd().split("\n"));
    }
    writeFileSync(path, lines.join("\n"));
  });

  it.each(examples.map((b) => [`line ${b.line} (${b.heading ?? "no heading"})`, b] as const))("%s reports its code", (_name, block) => {
    const code = /^(PC\d+)\b/.exec(block.heading ?? "")?.[1];
    expect(code, `the \`policy\` block at docs/diagnostics.md:${block.line} is not under a \`## PCnnn\` heading`).toBeDefined();
    const analysis = analyze([{ path: "example.policy", text: block.text }]);
    expect(analysis.diagnostics.map((d) => d.code), describeDiagnostics(analysis.diagnostics)).toContain(code);
  });

  it.each(examples.map((b) => [`line ${b.line} (${b.heading ?? "no heading"})`, b] as const))("%s shows the output policyc really prints", async (_name, block) => {
    // The first `text` block after the example, in the same section, is `policyc check example.policy`.
    const output = catalogue.blocks.find((b) => b.info === "text" && b.line > block.line && b.heading === block.heading);
    expect(output, `the example at docs/diagnostics.md:${block.line} needs the output of policyc after it, in a text block`).toBeDefined();
    const dir = mkdtempSync(join(scratch, "ex-"));
    writeFileSync(join(dir, "example.policy"), block.text);
    const result = await cli(["check", "example.policy"], { cwd: dir });
    if (UPDATE && output!.text.trimEnd() !== result.stdout.trimEnd()) updates.set(output!.line, result.stdout);
    else expect(output!.text.trimEnd(), `docs/diagnostics.md:${output!.line} is not what policyc prints for the example above it (the expected value is the real output)`).toBe(result.stdout.trimEnd());
  });
});

describe("docs/language.md examples", () => {
  const complete = language.blocks.filter((b) => b.info === "policy");
  const fragments = language.blocks.filter((b) => b.info === "policy-fragment");
  const decls = HAS_CONFORMANCE ? readFileSync(join(CONFORMANCE, "errors", "decls.policy"), "utf8") : "";

  it("has examples", () => {
    expect(complete.length).toBeGreaterThan(5);
    expect(fragments.length).toBeGreaterThan(5);
  });

  it.each(complete.map((b) => [`line ${b.line}`, b] as const))("the policy block at %s checks clean", (_name, block) => {
    const analysis = analyze([{ path: `docs/language.md:${block.line}`, text: block.text }]);
    expect(analysis.diagnostics.filter((d) => d.severity === "error").map((d) => renderDiagnostic(d))).toEqual([]);
    expect(analysis.program?.schema).toBeDefined();
  });

  it.skipIf(!HAS_CONFORMANCE).each(fragments.filter((b) => isRuleFragment(b.text)).map((b) => [`line ${b.line}`, b] as const))(
    "the rule fragment at %s checks clean with the running example's declarations",
    (_name, block) => {
      const analysis = analyze([
        { path: "decls.policy", text: decls },
        { path: `docs/language.md:${block.line}`, text: `policy docs {\n${block.text}}\n` },
      ]);
      expect(analysis.diagnostics.filter((d) => d.severity === "error").map((d) => renderDiagnostic(d))).toEqual([]);
      expect(analysis.program?.rules.length).toBeGreaterThan(0);
    },
  );

  it("§8's examples are what `policyc fmt` prints: each `text` block, formatted, is the `policy-fragment` after it inside its `policy support { … }`", () => {
    const section = language.blocks.filter((b) => b.heading?.startsWith("8. Canonical layout"));
    const pairs = section.flatMap((b, i) => (b.info === "text" && section[i + 1]?.info === "policy-fragment" ? [[b, section[i + 1]!] as const] : []));
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    for (const [input, output] of pairs) {
      const indented = output.text.split("\n").map((line) => (line === "" ? "" : `  ${line}`)).join("\n");
      expect(format(input.text).text, `docs/language.md:${input.line}`).toBe(`policy support {\n${indented.trimEnd()}\n}\n`);
    }
  });

  it("shows the running example's declarations exactly as the conformance suite has them", () => {
    if (!HAS_CONFORMANCE) return;
    const running = language.blocks.find((b) => b.info === "policy" && b.heading?.startsWith("3. Declarations") && b.text.includes("intent research"));
    expect(running, "section 3.9 of docs/language.md shows the running example").toBeDefined();
    expect(running!.text.trim()).toBe(decls.trim());
  });
});

describe("what a revoked session keeps, as documented (review r2 #4, #6)", () => {
  const docs = {
    "docs/language.md": readFileSync(join(ROOT, "docs/language.md"), "utf8").replace(/\s+/g, " "),
    "README.md": readFileSync(join(ROOT, "README.md"), "utf8").replace(/\s+/g, " "),
    "src/runtime/decision.ts": readFileSync(join(ROOT, "src/runtime/decision.ts"), "utf8").replace(/\s+\*\s+/g, " "),
  };
  it("says how many errors a revocation keeps and how long each, as the engine does", () => {
    const words = ["none", "one", "two", "three", "four"][REVOCATION_ERRORS_KEPT];
    expect(docs["docs/language.md"]).toContain(`its first ${words} such errors, each cut to ${REVOCATION_ERROR_CHARS} characters`);
    expect(docs["docs/language.md"]).toContain(`keeps ${words} of them cut to ${REVOCATION_ERROR_CHARS} characters`);
    expect(docs["README.md"]).toContain(`which keeps ${words} of them, cut short`);
    expect(docs["src/runtime/decision.ts"]).toContain(`its first ${words}, each cut to ${REVOCATION_ERROR_CHARS} characters`);
  });
  it("says where a revoked session's later denials take their errors from", () => {
    expect(docs["docs/language.md"]).toMatch(/\| `errors` \|[^\n]*In a revoked session's later denials, not this request's errors but those the revoking rules matched through/);
    expect(docs["src/runtime/decision.ts"]).toContain("In a revoked session's later denials, not this request's errors but those the revoking rules matched through");
  });
});

describe("README.md examples", () => {
  const readme = readDoc("README.md");
  const blocks = readme.blocks.filter((b) => b.info === "policy");

  it.skipIf(!HAS_CONFORMANCE).each(blocks.map((b) => [`line ${b.line}`, b] as const))("the policy block at %s checks clean with the running example's declarations", (_name, block) => {
    const decls = readFileSync(join(CONFORMANCE, "errors", "decls.policy"), "utf8");
    const analysis = analyze([
      { path: "decls.policy", text: decls },
      { path: `README.md:${block.line}`, text: block.text },
    ]);
    expect(analysis.diagnostics.filter((d) => d.severity === "error").map((d) => renderDiagnostic(d))).toEqual([]);
    expect(analysis.program?.rules.length).toBeGreaterThan(0);
  });
});

describe("README.md upgrade notes for 0.9.0 (audit r1 F4)", () => {
  it("quote the usage errors as this policyc prints them, the did-you-mean on the same line", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const notes = readme.slice(readme.indexOf("Upgrading from 0.8.0 to 0.9.0"), readme.indexOf("Upgrading from 0.7.0 to 0.8.0")).replace(/\s+/g, " ");
    for (const args of [["check", "--jsn", "x.policy"], ["chek"], ["test", "--josns", "x"], ["diff", "a", "b", "c"], ["eval", "--bundle"]]) {
      const said = (await cli(args)).stderr.trimEnd();
      expect(said.split("\n"), args.join(" ")).toHaveLength(1);
      // The whole line for an unknown option or verb, what follows `policyc VERB: ` for the others.
      expect(notes.includes(said) || notes.includes(said.replace(/^policyc \w+: /, "")), said).toBe(true);
    }
  });
});

describe("README.md, The library", () => {
  it("names every value the package exports (the .d.ts comments send readers there)", async () => {
    const text = readFileSync(join(ROOT, "README.md"), "utf8");
    const library = text.slice(text.indexOf("\n## The library"), text.indexOf("\n## Documentation"));
    const exported = Object.keys(await import("../src/index.js"));
    expect(exported.length).toBeGreaterThan(10);
    expect(exported.filter((name) => !new RegExp(`\\b${name}\\b`).test(library))).toEqual([]);
  });
});

describe("docs/cli.md examples", () => {
  it.skipIf(!HAS_CONFORMANCE)("the build example prints what building the conformance support.policy prints", async () => {
    const text = readFileSync(join(ROOT, "docs", "cli.md"), "utf8");
    // The output shown is all of it, as a terminal shows it: the warnings (on standard error), then the summary line.
    const shown = /\$ policyc build support\.policy -o bundle\.json\n((?:.*\n)*?built .*)\n/.exec(text)?.[1];
    expect(shown, "docs/cli.md shows `policyc build support.policy -o bundle.json` and its output").toBeDefined();
    const out = mkdtempSync(join(tmpdir(), "policyc-docs-"));
    try {
      const result = await cli(["build", "support.policy", "-o", join(out, "bundle.json")], { cwd: join(CONFORMANCE, "support") });
      expect(result.stdout).toMatch(/^built /);
      expect((result.stderr + result.stdout).trim().replace(join(out, "bundle.json"), "bundle.json"), "update the hash in docs/cli.md (both places)").toBe(shown);
      expect(text).toContain(`"contentHash": "${shown!.split(", ").pop()}"`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it.skipIf(!HAS_CONFORMANCE)("the build --json example is the whole document that building the conformance support.policy prints (audit a1 F5)", async () => {
    const text = readFileSync(join(ROOT, "docs", "cli.md"), "utf8");
    const shown = /`policyc build support\.policy -o bundle\.json --json`\):\n\n```json\n([^]*?)```\n/.exec(text)?.[1];
    expect(shown, "docs/cli.md shows the document of `policyc build support.policy -o bundle.json --json`").toBeDefined();
    const out = mkdtempSync(join(tmpdir(), "policyc-docs-"));
    try {
      const result = await cli(["build", "support.policy", "-o", join(out, "bundle.json"), "--json"], { cwd: join(CONFORMANCE, "support") });
      expect(result.code).toBe(0);
      expect(result.stdout.replace(JSON.stringify(join(out, "bundle.json")), '"bundle.json"'), "update the build --json example in docs/cli.md").toBe(shown);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
