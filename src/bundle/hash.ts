import { createHash } from "node:crypto";

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export { contentBytes, contentHash } from "../runtime/contentHash.js";
