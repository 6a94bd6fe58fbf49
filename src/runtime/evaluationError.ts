/**
 * Thrown inside a condition to make it fail closed; caught per rule by the decision code. Not
 * an `Error`: capturing a stack trace for an expected failure (a rule reading `user.id` on a
 * request without a user) would cost more than the whole decision. In a module of its own so
 * that session.ts, which helpers.ts imports, can throw it too (SessionState.last).
 */
export class EvaluationError {
  constructor(readonly message: string) {}
}

export function fail(message: string): never {
  throw new EvaluationError(message);
}
