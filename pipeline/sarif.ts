/**
 * Code scanning rejects an upload that holds several runs of the same tool under one category, and Trivy writes
 * one SARIF run per scanned image. Merge them into one run: rules deduplicated by id, each result's `ruleIndex`
 * re-pointed at the merged rule list.
 */

interface SarifRule {
  id: string;
  [key: string]: unknown;
}
interface SarifResult {
  ruleId?: string;
  ruleIndex?: number;
  [key: string]: unknown;
}
interface SarifRun {
  tool: { driver: { name: string; rules?: SarifRule[]; [key: string]: unknown } };
  results?: SarifResult[];
  [key: string]: unknown;
}
export interface SarifLog {
  version: string;
  $schema?: string;
  runs: SarifRun[];
}

export function mergeSarif(logs: readonly SarifLog[]): SarifLog {
  const runs = logs.flatMap((log) => log.runs ?? []);
  if (runs.length === 0) throw new Error("no SARIF runs to merge");
  const toolNames = new Set(runs.map((run) => run.tool.driver.name));
  if (toolNames.size > 1)
    throw new Error(`cannot merge runs of different tools: ${[...toolNames].join(", ")}`);

  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const results: SarifResult[] = [];
  for (const run of runs) {
    const runRules = run.tool.driver.rules ?? [];
    for (const rule of runRules) {
      if (!ruleIndex.has(rule.id)) {
        ruleIndex.set(rule.id, rules.length);
        rules.push(rule);
      }
    }
    for (const result of run.results ?? []) {
      const id =
        result.ruleId ?? (result.ruleIndex !== undefined ? runRules[result.ruleIndex]?.id : undefined);
      const index = id !== undefined ? ruleIndex.get(id) : undefined;
      results.push(index === undefined ? { ...result } : { ...result, ruleId: id, ruleIndex: index });
    }
  }
  const [first] = runs;
  return {
    version: logs[0].version,
    $schema: logs[0].$schema,
    runs: [{ ...first, tool: { ...first.tool, driver: { ...first.tool.driver, rules } }, results }],
  };
}
