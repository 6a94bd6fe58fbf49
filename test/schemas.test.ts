import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parseRecordingLine } from "../src/testing/readRecording.js";
import { ROOT } from "./helpers.js";
// @ts-expect-error plain JavaScript script without type declarations
import { generatedSchemas } from "../scripts/generate-schemas.js";
// @ts-expect-error plain JavaScript script without type declarations
import { generatedValidators } from "../scripts/generate-validators.js";

describe("shipped JSON Schemas", () => {
  for (const [path, text] of Object.entries(generatedSchemas() as Record<string, string>)) {
    it(`${path} is up to date (run npm run generate)`, () => {
      expect(readFileSync(join(ROOT, path), "utf8"), `${path} is stale: run npm run generate`).toBe(text);
    });
  }
});

describe("precompiled validators", () => {
  for (const [path, text] of Object.entries(generatedValidators() as Record<string, string>)) {
    it(`${path} is up to date with its schema (run npm run generate)`, () => {
      expect(readFileSync(join(ROOT, path), "utf8"), `${path} is stale: run npm run generate`).toBe(text);
    });
    // Bundlers follow static imports only: a require (even one made with createRequire) in
    // the runtime's validator crashed a gateway bundled into one file. ajv's helpers are inlined.
    it(`${path} is self-contained: no require, no import`, () => {
      expect(text).not.toMatch(/\brequire\s*\(|createRequire|^\s*import\b|\bimport\s*\(/m);
      expect(text).toContain("function ucs2length(str)");
    });
  }
});

describe("schemas/recording.schema.json", () => {
  it("takes the approval lines, logged refusals, expected grants and grants on approval the replay takes, and refuses those it refuses", () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(join(ROOT, "schemas", "recording.schema.json"), "utf8")) as object);
    const approval = '"event":"approval","session":"s","tool":"t","args":{}';
    const lines: [string, boolean][] = [
      [`{${approval},"approved":true}`, true],
      [`{${approval},"approved":false,"reasons":["as logged"]}`, true],
      ['{"session":"s","tool":"t","decision":"ask","approved":true}', true],
      [`{${approval}}`, false],
      [`{${approval},"approved":true,"decision":"ask"}`, false],
      [`{${approval},"approved":true,"rules":[]}`, false],
      [`{${approval},"approved":true,"reason":"r"}`, false],
      ['{"event":"attempt","session":"s","tool":"t"}', false],
      // A decision log's refusal (deny, rules []) may have request fields of any type; no other line may.
      ['{"session":"s","tool":"t","args":"x","decision":"deny","rules":[]}', true],
      ['{"session":"s","tool":"t","time":1764491700,"agent":"bot","user":7,"intent":[],"context":null,"decision":"deny","rules":[],"reasons":["…"]}', true],
      ['{"session":"s","tool":"t","args":"x","decision":"deny"}', false],
      ['{"session":"s","tool":"t","args":"x","decision":"allow","rules":[]}', false],
      ['{"session":"s","tool":"t","args":"x","decision":"deny","rules":["r"]}', false],
      ['{"session":"s","tool":"t","args":"x"}', false],
      ['{"session":"s","tool":"t","args":"x","decision":"deny","rules":[],"reason":5}', false],
      // A request without a readable session id is refused too, and its logged refusal replays.
      ['{"session":5,"tool":"t","decision":"deny","rules":[]}', true],
      ['{"tool":"t","decision":"deny","rules":[]}', true],
      ['{"session":"","tool":"t","decision":"deny","rules":[]}', true],
      ['{"session":5,"tool":"t","decision":"deny"}', false],
      ['{"tool":"t","decision":"allow","rules":[]}', false],
      ['{"event":"approval","tool":"t","approved":true}', false],
      ['{"session":"s","tool":"t","args":{},"decision":"deny","rules":[]}', true],
      // Expected grants and revoked: with a decision, of their types; a logged refusal's too.
      ['{"session":"s","tool":"t","decision":"allow","grants":[{"scope":"a:read","ttlSeconds":300}],"revoked":false}', true],
      ['{"session":"s","tool":"t","args":"x","decision":"deny","rules":[],"grants":[],"revoked":true}', true],
      ['{"session":"s","tool":"t","args":"x","decision":"deny","rules":[],"revoked":"yes"}', false],
      ['{"session":"s","tool":"t","decision":"allow","revoked":"yes"}', false],
      ['{"session":"s","tool":"t","decision":"allow","grants":[{"scope":"a:read"}]}', false],
      ['{"session":"s","tool":"t","decision":"allow","grants":[{"scope":"a:read","ttlSeconds":0}]}', false],
      ['{"session":"s","tool":"t","decision":"allow","grants":[{"scope":"a:read","ttlSeconds":1.5}]}', false],
      ['{"session":"s","tool":"t","decision":"allow","grants":[{"scope":"a:read","ttlSeconds":300,"expiresAt":"x"}]}', true],
      ['{"session":"s","tool":"t","decision":"allow","grants":null}', true],
      ['{"session":"s","tool":"t","decision":"allow","grants":["a:read"]}', false],
      ['{"session":"s","tool":"t","decision":"allow","grants":{"scope":"a:read","ttlSeconds":300}}', false],
      ['{"session":"s","tool":"t","grants":[]}', false],
      ['{"session":"s","tool":"t","revoked":false}', false],
      [`{${approval},"approved":true,"grants":[]}`, false],
      [`{${approval},"approved":true,"revoked":false}`, false],
      // Expected grants on approval: as grants are, on any decision.
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":[{"scope":"a:write","ttlSeconds":300}]}', true],
      ['{"session":"s","tool":"t","decision":"allow","grantsOnApproval":[]}', true],
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":null}', true],
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":[{"scope":"a:write","ttlSeconds":300,"expiresAt":"x"}]}', true],
      ['{"session":"s","tool":"t","args":"x","decision":"deny","rules":[],"grantsOnApproval":[]}', true],
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":[{"scope":"a:write"}]}', false],
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":[{"scope":"a:write","ttlSeconds":0}]}', false],
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":["a:write"]}', false],
      ['{"session":"s","tool":"t","decision":"ask","grantsOnApproval":{"scope":"a:write","ttlSeconds":300}}', false],
      ['{"session":"s","tool":"t","grantsOnApproval":[]}', false],
      [`{${approval},"approved":true,"grantsOnApproval":[]}`, false],
      // Revocation lines: session and reason required, time and outcome optional, no tool, nothing of a decision or approval.
      ['{"event":"revocation","time":"2026-01-05T09:01:00Z","session":"s","reason":"INC-1","outcome":"revoked"}', true],
      ['{"event":"revocation","session":"s","reason":"INC-1","operator":"alice"}', true],
      ['{"event":"revocation","session":"s","reason":"INC-1","outcome":"already-revoked"}', true],
      ['{"event":"revocation","session":"s","reason":"INC-1","outcome":"refused"}', true],
      ['{"event":"revocation","session":"s"}', false],
      ['{"event":"revocation","reason":"INC-1"}', false],
      ['{"event":"revocation","session":"","reason":"INC-1"}', false],
      [`{"event":"revocation","session":"${"s".repeat(1025)}","reason":"INC-1"}`, false],
      ['{"event":"revocation","session":12,"reason":"INC-1"}', false],
      ['{"event":"revocation","session":"s","reason":["INC-1"]}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":1764491700}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","outcome":"Revoked"}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","decision":"deny"}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","revoked":true}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","approved":true}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","rules":[]}', false],
      // An attempt's fields: an attempt with an `event` of its own, which the replay refuses.
      ...["tool", "args", "agent", "user", "intent", "context"].map((field): [string, boolean] => [`{"event":"revocation","session":"s","reason":"INC-1","${field}":{}}`, false]),
      ['{"event":"revocation","session":"s","reason":"hi","tool":"kb.search","args":{"query":"b"}}', false],
      // Its `time` has the RFC 3339 shape the replay reads (offsets, a space or `t` for the `T`, long fractions), or the line is malformed.
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"09:01"}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"2026-01-05"}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"2026-01-05T09:01Z"}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"2026-01-05T09:01:00"}', false],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"2026-01-05 09:01:00.123456+02:00"}', true],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"2026-01-05t09:01:00z"}', true],
      ['{"event":"revocation","session":"s","reason":"INC-1","time":"2026-01-05T09:01:00.5-05:30"}', true],
      // `outcome` is a log's own field on any other line; `reason` still needs a decision there.
      ['{"session":"s","tool":"t","outcome":"success"}', true],
      ['{"session":"s","tool":"t","reason":"INC-1"}', false],
    ];
    for (const [line, valid] of lines) {
      expect(validate(JSON.parse(line)), line).toBe(valid);
      expect(parseRecordingLine(line, 1).ok, line).toBe(valid);
    }
  });

  it("says what of a revocation line the replay refuses beyond it: a key one letter away from `outcome`", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, "schemas", "recording.schema.json"), "utf8")) as { properties: { outcome: { description: string } } };
    expect(schema.properties.outcome.description).toMatch(/the replay also refuses a key one letter away from `outcome` \(`outcom`, `Outcome`\)/);
    const misspelled = '{"event":"revocation","session":"s","reason":"INC-1","outcom":"revoked"}';
    expect(new Ajv({ strict: false }).compile(schema as object)(JSON.parse(misspelled))).toBe(true);
    expect(parseRecordingLine(misspelled, 1).ok).toBe(false);
  });
});
