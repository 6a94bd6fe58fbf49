import type { Decision } from "../runtime/decision.js";
import type { CompiledPolicy, RuleInfo } from "../runtime/policy.js";
import { childrenOf } from "../runtime/ir.js";
import { grantingRulesOf, sameGrants } from "./grants.js";
import type { ChangedPart } from "./diff.js";

/**
 * The rules of two versions of a policy set, matched. A rule named with `@name` is the rule of
 * that id on the other side. A rule with a positional id (`support/3`) is numbered by its place,
 * so one rule inserted above renumbers every rule after it: it is the rule of the other side with
 * the identical definition, whatever its number; what is left is paired in order with a rule left
 * of the same effect and targets (a rule edited, where it stands or renumbered too), then, when
 * as many are left on both sides, in order (edited in effect or targets too), else a rule added
 * or removed. An edit of a rule's effect or targets along with a rule inserted or removed in the
 * same policy cannot be told from a rule added and another removed: it is reported so.
 */
export interface RuleVersions {
  readonly old: ReadonlyMap<string, RuleInfo>;
  readonly now: ReadonlyMap<string, RuleInfo>;
  /** The NEW id of each OLD rule that NEW has (the same id unless a positional id was renumbered). */
  readonly newIdOf: ReadonlyMap<string, string>;
  /** The OLD id of each NEW rule that OLD has. */
  readonly oldIdOf: ReadonlyMap<string, string>;
  /** NEW ids of the rules both versions have but define differently (`~id`, by the NEW id: a positional rule may be renumbered too). */
  readonly redefined: ReadonlySet<string>;
}

/**
 * What makes a rule's decisions: effect, targets as written (not the declared tools they match,
 * which a tool added to the schema would change for every `deny *`), condition, reason, grants
 * and revoke.
 */
function definition(rule: RuleInfo): string {
  return JSON.stringify([rule.effect, rule.targets, rule.ir, rule.reason, rule.grants, rule.revoke], withoutExplanationUnits);
}

/**
 * Leaves out the IR's `unit: "duration"` (on `get` and `local`), which only says how an
 * explanation spells a value: a bundle built before it was added (0.6.0) holds the same rules.
 */
function withoutExplanationUnits(this: unknown, key: string, value: unknown): unknown {
  const node = this as { op?: unknown };
  return key === "unit" && value === "duration" && (node.op === "get" || node.op === "local") ? undefined : value;
}

/** A default id, `policy/N`, which names the rule's place and not the rule. */
function isPositional(rule: RuleInfo): boolean {
  return rule.id.startsWith(`${rule.policy}/`) && /^\d+$/.test(rule.id.slice(rule.policy.length + 1));
}

export function matchRules(before: CompiledPolicy, after: CompiledPolicy): RuleVersions {
  const old = new Map(before.rules.map((r) => [r.id, r]));
  const now = new Map(after.rules.map((r) => [r.id, r]));
  const newIdOf = new Map<string, string>();
  const oldIdOf = new Map<string, string>();
  const pair = (oldId: string, newId: string): void => {
    newIdOf.set(oldId, newId);
    oldIdOf.set(newId, oldId);
  };
  // A named rule is its id; a positional one first where it stands, if unchanged.
  for (const rule of after.rules) {
    const was = old.get(rule.id);
    if (was !== undefined && (!isPositional(rule) || !isPositional(was) || definition(was) === definition(rule))) pair(rule.id, rule.id);
  }
  // Then a positional rule renumbered: the first unmatched one of its policy defined identically.
  // (Each list is taken from its front by an index: shifting an array is linear, and a
  // generated policy may hold thousands of identical rules.)
  const renumbered = new Map<string, { rules: RuleInfo[]; next: number }>();
  for (const rule of before.rules) {
    if (!isPositional(rule) || newIdOf.has(rule.id)) continue;
    const key = JSON.stringify([rule.policy, definition(rule)]);
    const same = renumbered.get(key);
    if (same === undefined) renumbered.set(key, { rules: [rule], next: 0 });
    else same.rules.push(rule);
  }
  for (const rule of after.rules) {
    if (!isPositional(rule) || oldIdOf.has(rule.id)) continue;
    const same = renumbered.get(JSON.stringify([rule.policy, definition(rule)]));
    const was = same?.rules[same.next];
    if (was !== undefined) {
      same!.next++;
      pair(was.id, rule.id);
    }
  }
  // What is left of a positional rule on both sides is a rule edited (where it stands, or
  // renumbered too): paired in order, of the same effect and targets as written, the most pairs
  // (a longest common subsequence); then, when as many are left on both sides, in order. A rule
  // left over in NEW is added (`+ID`), in OLD removed (`-ID`).
  const leftOver = (rules: readonly RuleInfo[], paired: ReadonlyMap<string, string>): Map<string, RuleInfo[]> => {
    const byPolicy = new Map<string, RuleInfo[]>();
    for (const rule of rules) {
      if (!isPositional(rule) || paired.has(rule.id)) continue;
      const list = byPolicy.get(rule.policy);
      if (list === undefined) byPolicy.set(rule.policy, [rule]);
      else list.push(rule);
    }
    return byPolicy;
  };
  const oldLeft = leftOver(before.rules, newIdOf);
  for (const [policy, nowLeft] of leftOver(after.rules, oldIdOf)) {
    const wasLeft = oldLeft.get(policy);
    if (wasLeft === undefined) continue;
    for (const [was, rule] of inOrder(wasLeft, nowLeft, (r) => JSON.stringify([r.effect, r.targets]))) pair(was.id, rule.id);
    // As many left on both sides (none added nor removed): each edited in its effect or targets too, in order.
    const wasRest = wasLeft.filter((r) => !newIdOf.has(r.id));
    const nowRest = nowLeft.filter((r) => !oldIdOf.has(r.id));
    if (wasRest.length === nowRest.length) wasRest.forEach((was, index) => pair(was.id, nowRest[index]!.id));
  }
  const redefined = new Set([...oldIdOf].filter(([newId, oldId]) => definition(now.get(newId)!) !== definition(old.get(oldId)!)).map(([newId]) => newId));
  return { old, now, newIdOf, oldIdOf, redefined };
}

/**
 * Cells of the table of a longest common subsequence that `inOrder` fills at most (4 bytes each,
 * 16 MB): past it, as when thousands of unnamed rules of one policy are all edited, the lists
 * are paired greedily instead, in time and memory linear in their lengths.
 */
export const MAX_PAIRING_CELLS = 4_000_000;

/**
 * The most pairs of an item of `xs` and one of `ys` with the same key, in the order of both (a
 * longest common subsequence); of as many, those that pair items at the same place in their
 * lists first. Quadratic in the lists' lengths, so only up to MAX_PAIRING_CELLS (only the rules
 * left unmatched go through it); past it, `greedyInOrder`.
 */
function inOrder<T>(xs: readonly T[], ys: readonly T[], key: (item: T) => string): [T, T][] {
  const xKeys = xs.map(key);
  const yKeys = ys.map(key);
  const width = ys.length + 1;
  if ((xs.length + 1) * width > MAX_PAIRING_CELLS) return greedyInOrder(xs, ys, xKeys, yKeys);
  // longest[i * width + j]: the most pairs of xs from i on and ys from j on.
  const longest = new Uint32Array((xs.length + 1) * width);
  const at = (i: number, j: number): number => longest[i * width + j]!;
  for (let i = xs.length - 1; i >= 0; i--) {
    for (let j = ys.length - 1; j >= 0; j--) longest[i * width + j] = xKeys[i] === yKeys[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
  }
  const pairs: [T, T][] = [];
  let i = 0;
  let j = 0;
  while (i < xs.length && j < ys.length) {
    if (xKeys[i] === yKeys[j] && at(i, j) === at(i + 1, j + 1) + 1) pairs.push([xs[i++]!, ys[j++]!]);
    else if (at(i + 1, j) >= at(i, j + 1)) i++;
    else j++;
  }
  return pairs;
}

/**
 * Pairs in the order of both lists, not always the most: each item of `xs` with the first item
 * of `ys` of its key after the last one paired. Linear in the lists' lengths.
 */
function greedyInOrder<T>(xs: readonly T[], ys: readonly T[], xKeys: readonly string[], yKeys: readonly string[]): [T, T][] {
  // Per key, the places of the items of ys, and how many of them are used or passed.
  const places = new Map<string, { at: number[]; next: number }>();
  yKeys.forEach((k, index) => {
    const same = places.get(k);
    if (same === undefined) places.set(k, { at: [index], next: 0 });
    else same.at.push(index);
  });
  const pairs: [T, T][] = [];
  let after = -1;
  xKeys.forEach((k, index) => {
    const same = places.get(k);
    if (same === undefined) return;
    while (same.next < same.at.length && same.at[same.next]! <= after) same.next++;
    if (same.next === same.at.length) return;
    after = same.at[same.next++]!;
    pairs.push([xs[index]!, ys[after]!]);
  });
  return pairs;
}

/**
 * The deciding rules of an OLD decision as NEW ids, so that a rule renumbered is the same rule;
 * a rule NEW does not have keeps a key no NEW id has.
 */
export function asNewIds(rules: readonly string[], versions: RuleVersions): string[] {
  return rules.map((id) => versions.newIdOf.get(id) ?? `\u0000${id}`);
}

/**
 * A rule found to explain a change. `unchanged`: it is defined identically in both versions and
 * decides on one side only, so what changed is its inputs (the session state an earlier line
 * built, or the declarations it reads), not the rule.
 */
export interface FoundCause {
  readonly cause: string;
  readonly unchanged: boolean;
}

/** Whether a rule of one side can explain the change: the rule, its counterpart in the other version, and whether the other decision has it too. */
type Explains = (rule: RuleInfo, counterpart: RuleInfo | undefined, inBoth: boolean) => boolean;

/**
 * The first of one side's deciding rules (`ids`, in that side's version) that `explains` the
 * change and is defined differently in the other version (`~id`), or is not in the other side's
 * decision (`+id` for NEW, `-id` for OLD); a rule defined identically (`unchanged`) only when
 * no other does.
 */
function searchSide(side: "+" | "-", ids: readonly string[], otherSide: readonly string[], versions: RuleVersions, explains?: Explains): FoundCause | undefined {
  const [own, other, counterpartOf] = side === "+" ? [versions.now, versions.old, versions.oldIdOf] : [versions.old, versions.now, versions.newIdOf];
  // The other decision's rules as ids of this side's version.
  const others = new Set(side === "+" ? asNewIds(otherSide, versions) : otherSide.map((id) => versions.oldIdOf.get(id) ?? `\u0000${id}`));
  let unchanged: FoundCause | undefined;
  for (const id of ids) {
    const counterpartId = counterpartOf.get(id);
    const newId = side === "+" ? id : counterpartId;
    const inBoth = others.has(id);
    const rule = own.get(id);
    if (explains !== undefined && (rule === undefined || !explains(rule, counterpartId === undefined ? undefined : other.get(counterpartId), inBoth))) continue;
    if (newId !== undefined && versions.redefined.has(newId)) return { cause: `~${newId}`, unchanged: false };
    if (inBoth) continue;
    if (counterpartId === undefined) return { cause: `${side}${id}`, unchanged: false };
    unchanged ??= { cause: `${side}${id}`, unchanged: true };
  }
  return unchanged;
}

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/** Rules that give other credentials themselves: in both decisions, with other grants. */
const regrants: Explains = (rule, counterpart, inBoth) => inBoth && counterpart !== undefined && !sameGrants(rule.grants, counterpart.grants);

/** Rules that give credentials to one decision only. */
const grantsOnOneSide: Explains = (rule, _counterpart, inBoth) => !inBoth && rule.grants.length > 0;

/** Rules that revoke: one in a single decision, or one that revokes only in this version. */
const explainsRevocation: Explains = (rule, counterpart, inBoth) => rule.revoke && (!inBoth || counterpart === undefined || !counterpart.revoke);

/**
 * The rule a change is attributed to, or undefined when no rule of either decision explains it.
 * A change of grants is a rule's that gives them (of the allow rules whose grants an ask gives
 * on approval, for an ask): one whose grants changed, else one that joins or leaves the decision; a change of revocation a rule's that revokes. Otherwise a stricter
 * answer comes from a rule of the new decision (`allow→deny`: the new deny); a looser one, or
 * one of the same effect (other rules), from a rule of the old decision (`deny→allow`: the old
 * deny, not the allow it used to override). The side that explains the change is searched whole
 * first: a loosened deny is the cause of its deny→allow even when the allow that now decides was
 * edited too (its grants, say).
 */
export function ruleCauseOf(before: Decision, after: Decision, changed: ChangedPart, versions: RuleVersions): FoundCause | undefined {
  const fromNew = (ids: readonly string[], others: readonly string[], explains?: Explains): FoundCause | undefined => searchSide("+", ids, others, versions, explains);
  const fromOld = (ids: readonly string[], others: readonly string[], explains?: Explains): FoundCause | undefined => searchSide("-", ids, others, versions, explains);
  if (changed === "grants") {
    const [was, now] = after.decision === "ask" ? [grantingRulesOf(before), grantingRulesOf(after)] : [before.rules, after.rules];
    // A rule whose own grants changed first: one that joins or leaves may give nothing the others do not.
    const found = fromOld(was, now, regrants) ?? fromOld(was, now, grantsOnOneSide) ?? fromNew(now, was, grantsOnOneSide);
    if (found !== undefined) return found;
  }
  if (changed === "revoke") {
    const found = after.revoked ? fromNew(after.rules, before.rules, explainsRevocation) : fromOld(before.rules, after.rules, explainsRevocation);
    if (found !== undefined) return found;
  }
  // A deny that now revokes the session is stricter than the deny it was.
  const stricter = STRICTNESS[after.decision] > STRICTNESS[before.decision] || (after.revoked && !before.revoked);
  return stricter ? (fromNew(after.rules, before.rules) ?? fromOld(before.rules, after.rules)) : (fromOld(before.rules, after.rules) ?? fromNew(after.rules, before.rules));
}

/**
 * The rule whose revocation changed, shown with its reason: of the side that revokes, the rule
 * that revokes in that version (the first when several do).
 */
export function revokingRuleOf(before: Decision, after: Decision, versions: RuleVersions): string | undefined {
  const [decision, rules] = after.revoked ? [after, versions.now] : [before, versions.old];
  return decision.rules.find((id) => rules.get(id)?.revoke === true);
}

/**
 * Per tool, the side that is a bundle built before asks carried grants on approval: it gives
 * every ask of the tool none, and that is the change, not a rule (its code has no `onApproval`
 * for the tools that ask and have allow rules that grant).
 */
export function staleBundleCauses(before: CompiledPolicy, after: CompiledPolicy): ReadonlyMap<string, string> {
  const causes = new Map<string, string>();
  for (const [side, policy] of [["OLD", before], ["NEW", after]] as const) {
    if (policy.code.includes("onApproval:")) continue;
    const asking = new Set(policy.rules.filter((r) => r.effect === "ask").flatMap((r) => r.tools));
    for (const rule of policy.rules) if (rule.effect === "allow" && rule.grants.length > 0) for (const tool of rule.tools) if (asking.has(tool) && !causes.has(tool)) causes.set(tool, `${side} is a bundle built by a policyc whose asks give no grants on approval: rebuild it`);
  }
  return causes;
}


/**
 * Parts of a session's state, as bits: what a change of a line's decision can alter in its
 * session, and what a rule reads of it. `DENIALS`: `session.denials`. `RAN`: the calls that went
 * ahead (`session.tools`, `session.called`). `LABELS`: `session.labels`. `ATTEMPTS`: what every
 * attempt counts, whatever its answer (`session.calls`, `count`, `repeats`, `age`, `last`).
 * `REVOKED`: the session's revocation, which denies every later attempt.
 */
export const SessionPart = { DENIALS: 1, RAN: 2, LABELS: 4, ATTEMPTS: 8, REVOKED: 16 } as const;
export const EVERY_PART = 31;

const PART_OF_MEMBER = { calls: SessionPart.ATTEMPTS, denials: SessionPart.DENIALS, labels: SessionPart.LABELS, tools: SessionPart.RAN, repeats: SessionPart.ATTEMPTS, age: SessionPart.ATTEMPTS, last: SessionPart.ATTEMPTS } as const;

/** What a rule's condition reads besides the request: session parts, `tool.risk`, and which arguments (`all` when the whole of `args` is read, or `session.repeats`, which compares every declared argument). */
interface RuleInputs {
  readonly session: number;
  readonly risk: boolean;
  readonly args: ReadonlySet<string> | "all";
}

const inputsByRule = new WeakMap<RuleInfo, RuleInputs>();

function inputsOfRule(rule: RuleInfo): RuleInputs {
  let inputs = inputsByRule.get(rule);
  if (inputs !== undefined) return inputs;
  let session = 0;
  let risk = false;
  let args: Set<string> | "all" = new Set();
  const stack = rule.ir === null ? [] : [rule.ir];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.op === "session") {
      session |= PART_OF_MEMBER[e.member];
      // A repeat is a call with the same declared arguments: declaring another, or another type, changes what repeats.
      if (e.member === "repeats") args = "all";
    }
    else if (e.op === "count") session |= SessionPart.ATTEMPTS;
    else if (e.op === "called") session |= SessionPart.RAN;
    else if (e.op === "toolRisk") risk = true;
    else if ((e.op === "get" || e.op === "has") && e.object.op === "root" && e.object.root === "args") {
      if (args !== "all") args.add(e.name);
      continue;
    } else if (e.op === "root" && e.root === "args") args = "all";
    // One at a time: a list literal of 150,000 members spread into one call exceeds the argument limit.
    for (const child of childrenOf(e)) stack.push(child);
  }
  inputs = { session, risk, args };
  inputsByRule.set(rule, inputs);
  return inputs;
}

/**
 * What the deciding rules of both decisions read (the rule found among them): an unchanged rule
 * decides otherwise only when one of these differs. A decision of a revoked session, whose rule
 * revokes, reads the revocation.
 */
export function inputsOf(before: Decision, after: Decision, versions: RuleVersions): RuleInputs {
  let session = 0;
  let risk = false;
  let args: Set<string> | "all" = new Set();
  for (const [decision, rules] of [[before, versions.old], [after, versions.now]] as const) {
    for (const id of decision.rules) {
      const rule = rules.get(id);
      if (rule === undefined) continue;
      const read = inputsOfRule(rule);
      session |= read.session | (decision.revoked && rule.revoke ? SessionPart.REVOKED : 0);
      risk ||= read.risk;
      if (read.args === "all") args = "all";
      else if (args !== "all") for (const name of read.args) args.add(name);
    }
  }
  return { session, risk, args };
}

/**
 * The parts of the session's state that a change of the line's decision alters: every part when
 * the session is revoked in one version only or one version refused the request as invalid (it
 * may not have counted it); else, for a change of effect, the calls that went ahead (an ask may
 * be approved later), the labels when the call carried some (`context.labels`, or labels its tool
 * returns in either version), and the denials when one side denies.
 */
export function sessionPartsChangedBy(before: Decision, after: Decision, invalid: boolean, carriesLabels: boolean): number {
  if (invalid || before.revoked !== after.revoked) return EVERY_PART;
  if (before.decision === after.decision) return 0;
  return SessionPart.RAN | (carriesLabels ? SessionPart.LABELS : 0) | ((before.decision === "deny") !== (after.decision === "deny") ? SessionPart.DENIALS : 0);
}

/**
 * Whether `tool`'s declaration differs between the versions in what the deciding rules read:
 * its risk (`tool.risk`), or the type or optionality of an argument they read. Compared by
 * meaning: arguments written in another order, or one added that no rule reads, are no change.
 * (An argument change that makes the request invalid in one version is that cause already.)
 */
export function declarationChangeRead(before: CompiledPolicy, after: CompiledPolicy, tool: string, read: RuleInputs): boolean {
  const was = Object.hasOwn(before.schema.tools, tool) ? before.schema.tools[tool] : undefined;
  const now = Object.hasOwn(after.schema.tools, tool) ? after.schema.tools[tool] : undefined;
  if (was === undefined || now === undefined) return was !== now;
  if (read.risk && was.risk !== now.risk) return true;
  const names = read.args === "all" ? new Set([...Object.keys(was.args), ...Object.keys(now.args)]) : read.args;
  const field = (args: typeof was.args, name: string): string => (Object.hasOwn(args, name) ? canonicalJson(args[name]) : "");
  for (const name of names) if (field(was.args, name) !== field(now.args, name)) return true;
  return false;
}

/**
 * The tools declared in both versions whose returned labels differ: a call of one that goes
 * ahead adds other labels to its session, which a rule reading `session.labels` may decide on
 * later, in calls of other tools.
 */
export function returnsChangedTools(before: CompiledPolicy, after: CompiledPolicy): ReadonlySet<string> {
  const changed = new Set<string>();
  const returns = (labels: readonly string[]): string => JSON.stringify([...new Set(labels)].sort());
  for (const [tool, was] of Object.entries(before.schema.tools)) {
    const now = Object.hasOwn(after.schema.tools, tool) ? after.schema.tools[tool] : undefined;
    if (now !== undefined && returns(was.returns) !== returns(now.returns)) changed.add(tool);
  }
  return changed;
}

/** JSON with every object's keys sorted, so that two values equal in meaning print alike. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
