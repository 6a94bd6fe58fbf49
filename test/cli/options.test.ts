import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { plainPalette } from "../../src/diagnostics/render.js";
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
  return command.options.filter((o) => o.required && !o.variadic).map((o) => [command.name(), o.long!, required, o.parseArg !== undefined] as const);
});

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
