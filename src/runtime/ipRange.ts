import { isIP } from "node:net";
import { describeText, faultOrFail, type FaultNote } from "./helpers.js";

/**
 * IP ranges for `ip.inRange(s, "10.0.0.0/8")` (language.md 5.10). Every address is held as 128
 * bits, an IPv4 address as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`): the same host by
 * either spelling (`http://[::ffff:a9fe:a9fe]/` reaches 169.254.169.254), so one comparison
 * serves both families and a mapped address is in the IPv4 ranges its IPv4 address is in.
 */
export interface IpRange {
  /** The range's first address, as 128 bits. */
  readonly first: bigint;
  /** How many leading bits of an address must equal `first`'s (an IPv4 `/8` is 104). */
  readonly bits: number;
}

/** A CIDR as written in a policy: the range, or why it is none and, when one is clear, what to write. */
export type CidrReading = { readonly range: IpRange } | { readonly problem: string; readonly fix?: string };

const MAPPED_IPV4 = 0xffffn << 32n;

/**
 * Reads a CIDR (`"169.254.0.0/16"`, `"fc00::/7"`). Strict, as a policy's text should be: the
 * address in its plain form (no brackets, zone or port), a prefix length in range, and no bits
 * set after the prefix (`"10.0.0.1/8"` is more likely a slip than a way to write `10.0.0.0/8`).
 */
export function readCidr(text: string): CidrReading {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const unbracketed = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = plainIpFamily(unbracketed);
  if (family === 0) return { problem: address === "" ? (slash < 0 ? "it is empty" : "there is no address before the `/`") : `\`${address}\` is not an IPv4 or IPv6 address` };
  const full = family === 4 ? 32 : 128;
  if (unbracketed !== address) return { problem: "an IPv6 range is written without brackets", fix: `write "${unbracketed}${slash < 0 ? `/${full}` : text.slice(slash)}"` };
  if (slash < 0) return { problem: "it has no prefix length", fix: `write "${address}/${full}" for the one address` };
  const prefixText = text.slice(slash + 1);
  const prefix = /^(0|[1-9][0-9]{0,2})$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix <= full)) return { problem: `the prefix length after \`/\` must be a whole number from 0 to ${full} for an IPv${family} address` };
  const bits = prefix + (128 - full);
  const value = addressValue(address, family);
  // `::ffff:10.0.0.0/8` counts its prefix from the IPv6 start, so it covers far more than 10/8:
  // an IPv4 range is written as IPv4 (a mapped address is in it anyway).
  if (family === 6 && value >> 32n === 0xffffn && prefix < 96) {
    // The IPv4 range meant, its address cut to its prefix length (`::ffff:10.0.0.1/8` is 10.0.0.0/8).
    const length = Math.min(prefix, 32);
    const ipv4 = ((value & 0xffffffffn) >> BigInt(32 - length)) << BigInt(32 - length);
    return { problem: "an IPv4 range is written as an IPv4-mapped IPv6 address, whose prefix length counts from the start of the IPv6 address", fix: `write the IPv4 range, as in "${addressText(ipv4, 4)}/${length}": an IPv4-mapped address is in the IPv4 ranges of its IPv4 address` };
  }
  const first = (value >> BigInt(128 - bits)) << BigInt(128 - bits);
  if (first !== value) return { problem: `\`${address}\` has bits set after the first ${prefix}`, fix: `write "${addressText(first, family)}/${prefix}", the range it is in` };
  return { range: { first, bits } };
}

/**
 * The ranges of a condition, read once (the generated code hoists them). They were checked when
 * the policy was built: one that does not read here is a bundle edited by hand, and its code is
 * refused as it loads.
 */
export function ipRanges(texts: readonly string[]): IpRanges {
  const byLength = new Map<number, Set<bigint>>();
  for (const text of texts) {
    const reading = readCidr(text);
    if (!("range" in reading)) throw new Error(`ip.inRange: ${JSON.stringify(text)} is not an IP range: ${reading.problem}`);
    const { first, bits } = reading.range;
    const prefixes = byLength.get(bits) ?? new Set<bigint>();
    prefixes.add(first >> BigInt(128 - bits));
    byLength.set(bits, prefixes);
  }
  return [...byLength].map(([bits, prefixes]) => ({ shift: BigInt(128 - bits), prefixes }));
}

/**
 * Ranges as `inIpRanges` reads them: grouped by prefix length, each group a set of prefixes, so
 * an address is looked up once per length however many ranges there are (thousands of ranges
 * inside a quantifier over thousands of hosts stay a few lookups each).
 */
export type IpRanges = readonly { readonly shift: bigint; readonly prefixes: ReadonlySet<bigint> }[];

/**
 * Whether `value` is an IP address in one of `ranges`: dotted-decimal IPv4 or IPv6, bracketed
 * or not, as `url.host` returns them (`169.254.169.254`, `[::1]`). Anything else, a DNS name or
 * "" included, is in none: no range holds a name (so an allow rule on a range never lets a name
 * through, and a deny rule on ranges must be joined by one on names). A value that is no bare
 * host (a URL, an address with `@`) is an evaluation error: noted in `note` by the generated
 * code, whose three-valued `and`, `or`, `unless` and quantifiers then settle it as the
 * interpreter (which passes no note, and catches the throw) does; the answer is then false.
 */
export function inIpRanges(ranges: IpRanges, value: unknown, note?: FaultNote): boolean {
  const address = addressOf(value, note);
  if (address === undefined) return false;
  // An IPv4 address is held as mapped IPv6, but only an IPv4 range (or one inside
  // `::ffff:0:0/96`) holds it: `::/8`, an IPv6 bogon, must not hold every IPv4 address.
  const ipv4 = address >> 32n === 0xffffn;
  return ranges.some(({ shift, prefixes }) => (!ipv4 || shift <= 32n) && prefixes.has(address >> shift));
}

/**
 * The 128 bits of an address in text (IPv4 as mapped); undefined for anything else. A host
 * spelled as clients also read an IPv4 address (`127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1`,
 * which `url.host` writes in dotted decimal, but a bare host argument may hold) is that address.
 * A whole URL is an evaluation error (noted in `note`, or thrown without one): it is no host,
 * and a deny on it would never match.
 */
function addressOf(value: unknown, note: FaultNote | undefined): bigint | undefined {
  if (typeof value !== "string") return undefined;
  const problem = notABareHost(value);
  if (problem !== undefined) {
    faultOrFail(note, problem);
    return undefined;
  }
  const text = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  // An IPv6 address with a zone (`fe80::1%eth0`; `%25eth0` in brackets, as a URL writes it, and
  // a port after them) is that address to the clients that connect to it: a deny on `fe80::/10`
  // must hold it. (The host parser below refuses every zone.)
  const zoned = BRACKETED_WITH_PORT.exec(value)?.[1] ?? text;
  const zone = zoned.indexOf("%");
  if (zone > 0 && isIP(zoned.slice(0, zone)) === 6) return ipv6Value(zoned.slice(0, zone));
  const family = plainIpFamily(text);
  // A bracketed IPv4 address is no URL's host: read as text, it is none.
  if (family === 4 && text !== value) return undefined;
  if (family !== 0) return addressValue(text, family);
  const host = hostSpelling(value);
  if (host === undefined) return undefined;
  const inner = host.startsWith("[") ? host.slice(1, -1) : host;
  const read = plainIpFamily(inner);
  return read === 0 ? undefined : addressValue(inner, read);
}

/** Why `value` is no bare host ip.inRange can read (the evaluation error), or undefined when it may be one. */
function notABareHost(value: string): string | undefined {
  if (value.includes("://")) return `ip.inRange: ${describeText(value)} is a URL, not a host: take its host with url.host(…)`;
  // A bare host has none of these; clients would read the host out of them, each its own way.
  if (/[/\\@?#]/.test(value)) return `ip.inRange: ${describeText(value)} is not a bare host (it has a path, user information, a query or a fragment): take the host with url.host(…)`;
  if (value.length > MAX_HOST_LENGTH) return `ip.inRange: a host of ${value.length} characters is longer than any host name`;
  return undefined;
}

/** A bracketed host with a port after it (`[fe80::1%25eth0]:80`): what is inside the brackets. */
const BRACKETED_WITH_PORT = /^\[([^\]]*)\]:\d*$/;

/** Longer than a DNS name can be (253 characters): no client resolves it as a name either. */
const MAX_HOST_LENGTH = 253;

/**
 * The host a WHATWG host parser reads `text` as (`127.1`, `0X7F000001`, `１２７.0.0.1`, `%31%32%37.0.0.1` are
 * 127.0.0.1; a port after it is left out), as clients that build `http://HOST/` connect to it.
 */
function hostSpelling(text: string): string | undefined {
  try {
    return new URL(`http://${text}/`).hostname;
  } catch {
    return undefined;
  }
}

/** 4 or 6 for an address in plain text: Node's strict reading (dotted decimal without leading zeros), without an IPv6 zone (`%eth0`: a CIDR has none; addressOf reads a host's). */
function plainIpFamily(text: string): 0 | 4 | 6 {
  if (text.includes("%")) return 0;
  const family = isIP(text);
  return family === 4 || family === 6 ? family : 0;
}

function addressValue(text: string, family: 4 | 6): bigint {
  return family === 4 ? MAPPED_IPV4 | ipv4Value(text) : ipv6Value(text);
}

function ipv4Value(text: string): bigint {
  return text.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** An IPv6 address `isIP` accepted: `::` filled with zeros, a dotted IPv4 tail (`::ffff:1.2.3.4`) as its two groups. */
function ipv6Value(text: string): bigint {
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  const hex = tail.includes(".") ? `${text.slice(0, lastColon + 1)}${((ipv4Value(tail) >> 16n) & 0xffffn).toString(16)}:${(ipv4Value(tail) & 0xffffn).toString(16)}` : text;
  const [head, rest] = hex.split("::") as [string, string | undefined];
  const groupsOf = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const before = groupsOf(head);
  const after = rest === undefined ? [] : groupsOf(rest);
  const groups = [...before, ...Array<string>(8 - before.length - after.length).fill("0"), ...after];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An address as a CIDR's text, for help: dotted decimal, or IPv6 groups without leading zeros (no `::` shortening). */
function addressText(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
  return [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16)).join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}
