import { globMatch } from "../runtime/glob.js";

/**
 * A URL's host tested on the URL's text (PC516): `args.url.startsWith("https://api.acme.com")`,
 * `args.url like "https://*.acme.com/*"`, `args.url contains "https://api.acme.com/"`. Text that
 * starts that way can still go elsewhere: `https://api.acme.com.evil.example/` is a host under
 * evil.example, `https://api.acme.com@evil.example/` is a user at evil.example, and a `*` in the
 * host part of a pattern also runs over the `/`, `?` or `#` that ends it
 * (`https://evil.example/.acme.com/`). `url.host` reads the host as clients do.
 */

/** How the text is tested: where the string is looked for, or matched as a `like` pattern. */
export type UrlTextTest = "startsWith" | "contains" | "like";

export interface UrlTextHole {
  /** URLs on hosts the test does not mean that it holds for, at most two. */
  readonly matched: readonly string[];
  /** The scheme the text starts with (`https`), which the host test does not check. */
  readonly scheme: string;
  /** The start the help pins besides the host: `https://` (also for a scheme with a star), or with a port the text pins, `https://api.acme.com:8443/`. */
  readonly start: string;
  /** `url.host(subject)` compared as the test meant it: `== "api.acme.com"`, `.endsWith(".acme.com")`. */
  readonly hostComparison: string;
  /** Whether the text also says something about the path, which the host test leaves out. */
  readonly testsPath: boolean;
  /** For a start of an IPv4 address (`"http://10."`, or a pattern with `10.*` as its host): the range it means (`10.0.0.0/8`), which `ip.inRange` tests. */
  readonly cidr?: string;
}

/** An absolute URL's start: its scheme, the text up to the first `/`, `?` or `#` after `//` (its authority), and the rest. */
const URL_START = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#\\]*)(.*)$/s;
/** A pattern's start whose scheme has a star (`*://`, `http*://`), as URL_START reads a scheme. */
const STARRED_SCHEME = /^([A-Za-z*][A-Za-z0-9+.*-]*):\/\/([^/?#\\]*)(.*)$/s;
/** A host name as `url.host` returns one (stars stand for any letters), with no port or user information. */
const HOST_NAME = /^[A-Za-z0-9_*-]+(?:\.[A-Za-z0-9_*-]+)*\.?$/;
/** What fills a star a candidate does not use to leave the host. */
const FILLER = "api";

/** What `text`, tested as `test` says, also holds for on other hosts; undefined when it pins the host, or is no URL. */
export function urlTextHole(test: UrlTextTest, text: string): UrlTextHole | undefined {
  const start = URL_START.exec(text) ?? (test === "like" ? STARRED_SCHEME.exec(text) : null);
  if (start === null) return undefined;
  // A star in the scheme (`*://…`, `http*://…`) runs over a whole URL first: the rest of the
  // pattern can then sit in its query (`https://evil.example/?u=a://api.acme.com/`).
  if (start[1]!.includes("*")) {
    const [authority, rest] = [start[2]!, start[3]!];
    if (!HOST_NAME.test(authority) || !/[A-Za-z0-9]/.test(authority)) return undefined;
    const candidate = `https://evil.example/?u=${text.replace(/\*+/g, "a")}`;
    if (!globMatch(text, candidate)) return undefined;
    const host = (/\.\*+$/.test(authority) ? authority : authority.replace(/\*+$/, "")).toLowerCase().replace(/\.$/, "");
    // The help pins `https://`, stricter than any scheme the star allowed (`file://` included).
    return { matched: [candidate], scheme: start[1]!, start: "https://", hostComparison: hostComparisonOf(host), testsPath: !/^\/?\**$/.test(rest) };
  }
  const [scheme, written, rest] = [start[1]!, start[2]!, start[3]!];
  // A port the text pins (`https://api.acme.com:8443`): text after it still runs on into user
  // information (`…:8443@evil.example`). The help pins the port with the start it checks.
  const port = test === "like" ? undefined : /:[0-9]+$/.exec(written)?.[0];
  const authority = port === undefined ? written : written.slice(0, -port.length);
  // User information, or a port in a pattern: not what `url.host` compares, so no rewrite is offered.
  if (!HOST_NAME.test(authority) || !/[A-Za-z0-9]/.test(authority)) return undefined;
  const candidates = test === "like" ? patternCandidates(scheme, authority, rest) : textCandidates(test, text, authority, rest, port !== undefined);
  if (candidates === undefined) return undefined;
  const matched = candidates.filter((candidate) => (test === "like" ? globMatch(text, candidate) : test === "startsWith" ? candidate.startsWith(text) : candidate.includes(text)));
  if (matched.length === 0) return undefined;
  // A star after a dot is part of the host (`docs.acme.*`); after a name, the rest of the URL (`api.acme.com*`).
  const hole = { matched: matched.slice(0, 2), scheme, start: port === undefined ? `${scheme}://` : `${scheme}://${written.toLowerCase()}/`, testsPath: !/^\/?\**$/.test(rest) };
  // A host left open after a dot (`"https://docs."`, `"http://10.*/*"`): the start of a name, which
  // only a list of hosts pins, or of an IPv4 address, which `ip.inRange` tests as a range.
  const open = (test !== "like" && rest === "" && authority.endsWith(".")) || /\.\*+$/.test(authority);
  const start10 = authority.replace(/\*+$/, "").replace(/\.$/, "");
  const cidr = open ? ipv4StartRange(start10) : undefined;
  if (cidr !== undefined) return { ...hole, hostComparison: "", cidr };
  const host = open ? `${start10.toLowerCase()}.*` : authority.replace(/\*+$/, "").toLowerCase().replace(/\.$/, "");
  return { ...hole, hostComparison: hostComparisonOf(host) };
}

/**
 * For text looked for as it is (no wildcard): a start that leaves the host open (no `/` after
 * it) goes on into another host or becomes user information; text found anywhere (`contains`)
 * can also sit in another URL's query. Stars are text here (PC511's), so such text is left alone.
 */
function textCandidates(test: "startsWith" | "contains", text: string, authority: string, rest: string, withPort: boolean): string[] | undefined {
  if (authority.includes("*")) return undefined;
  const open = rest === "" ? (withPort ? [`${text}@evil.example/`] : [`${text}${text.endsWith(".") ? "" : "."}evil.example/`, `${text}@evil.example/`]) : [];
  return test === "contains" ? [...open, `https://evil.example/?next=${text}`] : open;
}

/**
 * For a `like` pattern: a star at the end of the host part runs on into another host or user
 * information; any other star in it can swallow the `/`, `?` or `#` that ends the real host.
 * A host part with no star, or only stars, pins the host or means any (undefined).
 */
function patternCandidates(scheme: string, authority: string, rest: string): string[] | undefined {
  if (!authority.includes("*") || /^\*+$/.test(authority)) return undefined;
  const path = rest.replace(/\*+/g, "") || "/";
  const candidates: string[] = [];
  if (authority.endsWith("*")) {
    const host = authority.replace(/\*+$/, "").replace(/\*+/g, FILLER);
    // (`docs.acme.*` runs on into `docs.acme.evil.example`, a host under evil.example.)
    candidates.push(`${scheme}://${host}${host.endsWith(".") ? "" : "."}evil.example${path}`, `${scheme}://${host}@evil.example${path}`);
  }
  const swallowed = authority.replace(/\*+$/, "");
  if (swallowed.includes("*")) {
    // A pattern that ends at its host (`https://*.acme.com`) is matched by a URL that ends there too.
    const swallowedPath = rest.replace(/\*+/g, "");
    for (const end of ["/", "?"]) {
      const filled = swallowed.replace(/\*+/, `evil.example${end}`).replace(/\*+/g, FILLER);
      candidates.push(`${scheme}://${filled}${swallowedPath}`);
    }
  }
  return candidates;
}

/**
 * The comparison of `url.host(…)` the host part means: `api.acme.com` exactly, any host under
 * acme.com (`*.acme.com`), or a pattern. A star in the last label (`docs.acme.*`) matches any
 * domain (`docs.acme.evil.example`): no pattern is safe, so the help lists hosts.
 */
function hostComparisonOf(host: string): string {
  if (/\.\*+$/.test(host)) return ` in [${JSON.stringify(host.replace(/\*+$/, "com"))}]`;
  if (!host.includes("*")) return ` == ${JSON.stringify(host)}`;
  const parent = /^\*+(\.[^*]+)$/.exec(host)?.[1];
  return parent !== undefined ? `.endsWith(${JSON.stringify(parent)})` : ` like ${JSON.stringify(host)}`;
}

/** The range the start of an IPv4 address means (`"10"` is 10.0.0.0/8, `"192.168"` 192.168.0.0/16); undefined for anything else. */
export function ipv4StartRange(start: string): string | undefined {
  // Octets as `ip.inRange` reads a range: no leading zeros (`010` is octal to some clients).
  if (!/^(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){0,2}$/.test(start)) return undefined;
  const octets = start.split(".");
  if (!octets.every((octet) => Number(octet) <= 255)) return undefined;
  return `${[...octets, ...Array<string>(4 - octets.length).fill("0")].join(".")}/${8 * octets.length}`;
}
