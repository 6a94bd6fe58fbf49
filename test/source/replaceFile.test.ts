import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

/**
 * The temporary file's random part, made predictable here so a test can put something at the
 * names `Replacement` will try: each call takes the next of `names` (hex of 6 bytes), then random ones.
 */
const names: string[] = [];
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return { ...crypto, randomBytes: (size: number) => (names.length > 0 ? Buffer.from(names.shift()!, "hex") : crypto.randomBytes(size)) };
});

/**
 * Files the system says the user may not write. The suite may run as root, whom `access` lets
 * write anything: so the check is seen here, and through setpriv in the CLI tests.
 */
const readOnly = new Set<string>();
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const accessSync = (path: string, mode?: number): void => {
    if (readOnly.has(path) && mode === fs.constants.W_OK) throw Object.assign(new Error(`EACCES: permission denied, access '${path}'`), { code: "EACCES", syscall: "access", path });
    fs.accessSync(path, mode);
  };
  return { ...fs, accessSync, default: { ...fs, accessSync } };
});

const { NotWritableError, Replacement, replaceFile } = await import("../../src/source/replaceFile.js");
const { describeFsError } = await import("../../src/source/loadSources.js");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-replace-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  names.length = 0;
});

describe("replaceFile's temporary file", () => {
  it("a name already taken (a file or a link someone left there) is left alone, and another is tried", () => {
    const target = join(dir, "a.policy");
    writeFileSync(target, "old\n");
    writeFileSync(join(dir, "victim.txt"), "secret\n");
    writeFileSync(`${target}.policyc-aaaaaaaaaaaa.tmp`, "left by a killed run\n");
    symlinkSync(join(dir, "victim.txt"), `${target}.policyc-bbbbbbbbbbbb.tmp`);
    names.push("aaaaaaaaaaaa", "bbbbbbbbbbbb");
    replaceFile(target, "new\n");
    expect(readFileSync(target, "utf8")).toBe("new\n");
    expect(readFileSync(`${target}.policyc-aaaaaaaaaaaa.tmp`, "utf8")).toBe("left by a killed run\n");
    expect(lstatSync(`${target}.policyc-bbbbbbbbbbbb.tmp`).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "victim.txt"), "utf8")).toBe("secret\n");
    expect(names).toEqual([]); // both were tried
  });

  it("when every name tried is taken, it gives up with EEXIST and removes none of them: the target is as it was", () => {
    const target = join(dir, "b.policy");
    writeFileSync(target, "old\n");
    const taken = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(12));
    for (const name of taken) writeFileSync(`${target}.policyc-${name}.tmp`, "someone else's\n");
    names.push(...taken);
    expect(() => replaceFile(target, "new\n")).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(readFileSync(target, "utf8")).toBe("old\n");
    for (const name of taken) expect(readFileSync(`${target}.policyc-${name}.tmp`, "utf8")).toBe("someone else's\n");
  });

  it("abandoning removes the temporary file it created, and only that", () => {
    const target = join(dir, "c.policy");
    writeFileSync(target, "old\n");
    const replacement = Replacement.of(target);
    expect(existsSync(replacement.temporary)).toBe(true);
    expect(replacement.temporary).toMatch(/\/c\.policy\.policyc-[0-9a-f]{12}\.tmp$/);
    replacement.abandon();
    expect(readdirSync(dir).filter((name) => name.startsWith("c.policy"))).toEqual(["c.policy"]);
  });

  it("a file the user may not write is refused before anything is created (NotWritableError, described as permission denied), though its folder is writable", () => {
    const target = join(dir, "d.policy");
    writeFileSync(target, "old\n");
    readOnly.add(target);
    let thrown: unknown;
    try {
      replaceFile(target, "new\n");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NotWritableError);
    expect(describeFsError(thrown)).toBe("permission denied");
    expect(readFileSync(target, "utf8")).toBe("old\n");
    expect(readdirSync(dir).filter((name) => name.startsWith("d.policy"))).toEqual(["d.policy"]);
    readOnly.clear();
    replaceFile(target, "new\n");
    expect(readFileSync(target, "utf8")).toBe("new\n");
  });
});
