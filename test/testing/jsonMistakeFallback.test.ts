import { describe, expect, it, vi } from "vitest";

// The reader names the character it stops at through printable.js: made to throw here, as any
// fault of the reader would, to hold jsonMistake to saying the place rather than passing it on.
vi.mock("../../src/diagnostics/printable.js", () => ({
  invisibleCharacterName: () => {
    throw new Error("a fault of the reader");
  },
}));

const { jsonMistake } = await import("../../src/diagnostics/jsonMistake.js");

describe("jsonMistake when its reader fails (audit r1 F1)", () => {
  it("says the place it had reached and nothing of what is there, never throws to its caller", () => {
    expect(jsonMistake('{"a": \u0001}')).toBe("at column 7");
    expect(jsonMistake('{\n  "a": "\u0002"\n}', 10)).toBe("at line 11, column 9");
  });
});
