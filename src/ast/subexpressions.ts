import type * as A from "./nodes.js";

/** The expressions directly inside `node` (a call's arguments and `within` window included), in source order. */
export function subexpressions(node: A.Expr): readonly A.Expr[] {
  switch (node.kind) {
    case "Member":
    case "Has":
      return [node.object];
    case "Call":
      return [node.callee, ...node.args, ...(node.within ? [node.within] : [])];
    case "Not":
      return [node.operand];
    case "Binary":
      return [node.left, node.right];
    case "Quantifier":
      return [node.collection, node.body];
    case "Paren":
      return [node.expression];
    case "ListLiteral":
      return node.elements;
    default:
      return [];
  }
}
