import { jsonErrorPlace } from "../diagnostics/jsonErrorPlace.js";

/** Reads requests: one JSON object, or JSON Lines (earlier lines set up the session). */
export function parseRequests(text: string): { requests: unknown[]; error?: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { requests: [], error: "the request is empty" };
  try {
    return { requests: [JSON.parse(trimmed)] };
  } catch (whole) {
    const requests: unknown[] = [];
    const lines = text.split("\n");
    // A first line that is no JSON value alone: one document (pretty-printed, say) with a
    // mistake, reported where it is in the file, not as "line 1 is not JSON".
    const first = lines.find((line) => line.trim() !== "")!;
    if (!parsesAsJson(first)) return { requests: [], error: `not JSON: ${jsonErrorPlace((whole as Error).message, text, text.indexOf(trimmed))}` };
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === "") continue;
      try {
        requests.push(JSON.parse(lines[i]!));
      } catch (error) {
        return { requests: [], error: `line ${i + 1} is not JSON: ${jsonErrorPlace((error as Error).message, lines[i]!)}` };
      }
    }
    return { requests };
  }
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
