import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../infra/config";
import { foundationDir } from "../infra/foundation/contract";
import { estimateMonthlyCost, formatCostEstimate } from "../ops/cost";
import { formatPolicyReport, loadPackConfig, runPolicyPack } from "../policies/harness";
import { SynthSession } from "./cache";
import { synthesize } from "./index";
import type { ReportLine, StackReport, StackSynth, SynthPlace } from "./jobs";
import { OutputError, outputError, removeStaleOutputs, writeFileAtomic } from "./output";
import { anyStackFile, foundationStackOf, stackFile } from "./stacks";
import { formatSummary } from "./summary";

/**
 * One stack of `npm run synth`: synthesized, checked against the policy pack, its outputs written (or, if it fails,
 * its stale ones removed), and what the CLI prints for it. This module loads the SDKs, the policy pack and the
 * cost tables; synth/cli.ts loads it only once it has started any worker processes.
 */

/** The problems of a failed stack, one per line, without a stack trace unless DEBUG is set. */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof OutputError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  // YAMLParseError and the program's own refusals (duplicate principals, mixed architectures) are plain Errors.
  return process.env.DEBUG && error instanceof Error && error.stack ? error.stack : message;
}

/** Synthesizes one stack and writes its outputs; what it prints comes back as its report. */
async function synthStack(stack: string, place: SynthPlace, session: SynthSession): Promise<StackReport> {
  const lines: ReportLine[] = [];
  const out = (text: string) => lines.push({ stream: "out", text });
  const foundation = foundationStackOf(stack);
  const configFile = foundation
    ? stackFile(path.join(place.root, foundationDir), foundation)
    : anyStackFile(place.root, stack);
  const file = path.relative(place.root, configFile);
  const stackDir = path.join(place.outDir, stack);
  try {
    const result = await synthesize(stack, { configFile, session });
    const report = runPolicyPack(result, loadPackConfig(stack));
    try {
      mkdirSync(stackDir, { recursive: true });
    } catch (error) {
      throw outputError(stackDir, error);
    }
    writeFileAtomic(path.join(stackDir, "resources.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileAtomic(path.join(stackDir, "policy-report.json"), `${JSON.stringify(report, null, 2)}\n`);
    out(formatSummary(result));
    out(formatCostEstimate(estimateMonthlyCost(result)));
    out(formatPolicyReport(report));
    out(`  → ${path.relative(process.cwd(), stackDir)}/{resources,policy-report}.json\n`);
    // A mandatory violation fails the synth exactly as it would fail `pulumi preview --policy-pack policies`.
    return {
      stack,
      lines,
      failure: report.mandatoryCount > 0 ? `${stack} (${file}: mandatory policy violations)` : undefined,
    };
  } catch (error) {
    const removed = error instanceof OutputError ? undefined : removeStaleOutputs(stackDir);
    lines.push({
      stream: "err",
      text: `Stack ${stack} (${file}) failed: ${describeFailure(error)}${removed ? `\n  ${path.relative(process.cwd(), stackDir)}: ${removed}` : ""}\n`,
    });
    return { stack, lines, failure: `${stack} (${file})` };
  }
}

/** Synthesizes stacks one after another into `place`, sharing work between them (synth/cache.ts). */
export function stackSynth(place: SynthPlace): StackSynth {
  const session = new SynthSession(place.cacheDir);
  return (stack) => synthStack(stack, place, session);
}
