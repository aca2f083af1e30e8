import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeUrn, type PolicyReport } from "../policies/harness";
import type { SynthResult } from "../synth/types";

/**
 * Job-summary markdown for `npm run synth -- --all`: per stack, how many resources the program declares and what
 * the policy pack reported (out/<stack>/resources.json and policy-report.json). A stack whose files are missing
 * or unreadable is shown as such, never as "0 violations".
 */

export interface StackSummary {
  readonly stack: string;
  readonly resources?: number;
  readonly types?: number;
  readonly report?: PolicyReport;
  readonly error?: string;
}

/** Checks the parts of the report the summary relies on, so a format change shows up as an error, not as zeros. */
export function asPolicyReport(value: unknown): PolicyReport {
  const report = value as PolicyReport;
  if (
    report === null ||
    typeof report !== "object" ||
    !Array.isArray(report.violations) ||
    typeof report.mandatoryCount !== "number" ||
    typeof report.advisoryCount !== "number"
  ) {
    throw new Error(
      "policy-report.json is not a policy report ({violations, mandatoryCount, advisoryCount})",
    );
  }
  return report;
}

export function summarizeStack(outDir: string, stack: string): StackSummary {
  const dir = join(outDir, stack);
  try {
    const synth = JSON.parse(readFileSync(join(dir, "resources.json"), "utf8")) as SynthResult;
    const custom = synth.resources.filter((resource) => resource.custom);
    const reportFile = join(dir, "policy-report.json");
    const report = existsSync(reportFile)
      ? asPolicyReport(JSON.parse(readFileSync(reportFile, "utf8")))
      : undefined;
    return {
      stack,
      resources: custom.length,
      types: new Set(custom.map((resource) => resource.type)).size,
      report,
    };
  } catch (error) {
    return { stack, error: (error as Error).message };
  }
}

export function summarizeOutDir(outDir: string): StackSummary[] {
  if (!existsSync(outDir)) return [];
  return readdirSync(outDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((stack) => summarizeStack(outDir, stack));
}

const cell = (value: string): string => value.replace(/\|/g, "\\|").split("\n")[0];
const MAX_ROWS = 50;

export function synthMarkdown(summaries: readonly StackSummary[]): string {
  const lines = ["### Offline synth and policy report", ""];
  if (summaries.length === 0) return `${lines.join("\n")}No stacks were synthesized.\n`;
  lines.push("| Stack | Resources | Types | Mandatory | Advisory |", "|---|---|---|---|---|");
  for (const summary of summaries) {
    if (summary.error) {
      lines.push(`| ${summary.stack} | ⚠️ ${cell(summary.error)} | | | |`);
      continue;
    }
    const { report } = summary;
    const mandatory = report
      ? `${report.mandatoryCount > 0 ? "❌ " : ""}${report.mandatoryCount}`
      : "no report";
    const advisory = report ? String(report.advisoryCount) : "no report";
    lines.push(`| ${summary.stack} | ${summary.resources} | ${summary.types} | ${mandatory} | ${advisory} |`);
  }
  const all = summaries.flatMap((summary) =>
    (summary.report?.violations ?? []).map((violation) => ({ stack: summary.stack, ...violation })),
  );
  if (all.length > 0) {
    lines.push("", "| Stack | Level | Policy | Resource | Message |", "|---|---|---|---|---|");
    for (const violation of all.slice(0, MAX_ROWS)) {
      lines.push(
        `| ${violation.stack} | ${violation.enforcementLevel} | ${cell(violation.policy)} | ${cell(describeUrn(violation.urn))} | ${cell(violation.message)} |`,
      );
    }
    if (all.length > MAX_ROWS) lines.push("", `…and ${all.length - MAX_ROWS} more (see the synth artifact).`);
  }
  return `${lines.join("\n")}\n`;
}
