/** The railroad diagrams of the grammar as an HTML page (grammar/railroad.html). */
export function generateRailroad(): string;
