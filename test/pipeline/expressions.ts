/**
 * Evaluates a workflow's `if:` conditions with GitHub's own expression engine (@actions/expressions, the parser and
 * evaluator of GitHub's Actions language services), so a test asks "does this job run for this event?" instead of
 * matching the condition's text. The package is ESM-only: it is loaded with a dynamic import.
 */

type Expressions = typeof import("@actions/expressions", { with: { "resolution-mode": "import" } }) &
  typeof import("@actions/expressions/result", { with: { "resolution-mode": "import" } });
let loaded: Promise<Expressions> | undefined;
function expressions(): Promise<Expressions> {
  loaded ??= Promise.all([import("@actions/expressions"), import("@actions/expressions/result")]).then(
    ([engine, result]) => ({ ...engine, ...result }),
  );
  return loaded;
}

/** Job status functions as they stand when every needed job succeeded and nothing was cancelled. */
const statusFunctions = { success: true, always: true, failure: false, cancelled: false } as const;

/**
 * Whether a job or step `if:` holds for `context` (github, inputs, needs, vars, …, as plain JSON). As GitHub does,
 * `${{ }}` is optional and a condition without a status function is read as `success() && (condition)`.
 */
export async function conditionHolds(
  condition: string | undefined,
  context: Record<string, unknown>,
): Promise<boolean> {
  const { Lexer, Parser, Evaluator, data, truthy } = await expressions();
  const bare =
    (condition ?? "")
      .trim()
      .replace(/^\$\{\{([\s\S]*)\}\}$/, "$1")
      .trim() || "success()";
  const withStatus = /\b(success|always|failure|cancelled)\(\)/.test(bare) ? bare : `success() && (${bare})`;
  const functions = new Map(
    Object.entries(statusFunctions).map(([name, value]) => [
      name,
      { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) },
    ]),
  );
  const lexed = new Lexer(withStatus).lex();
  const parsed = new Parser(lexed.tokens, Object.keys(context), [...functions.values()]).parse();
  const revived = JSON.parse(JSON.stringify(context), data.reviver) as InstanceType<typeof data.Dictionary>;
  return truthy(new Evaluator(parsed, revived, functions).evaluate());
}
