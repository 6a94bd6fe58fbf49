/** The railroad diagrams of a parser's grammar as an HTML page (grammar/railroad.html). */
export function generateRailroad(parser: { getSerializedGastProductions(): unknown }): string;
