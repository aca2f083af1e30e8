import type { FoundationConfig } from "../../infra/foundation/config";
import {
  foundationDir,
  foundationProject,
  FoundationOutputs,
  parseFoundationOutputs,
} from "../../infra/foundation/contract";
import { isRecord } from "../../infra/objects";
import { projectRoot } from "../../infra/project";
import { discoverFoundationStacks } from "../../pipeline/foundations";
import { checkFoundationStack } from "./foundation";
import { FoundationSdkInventory, observeFoundation } from "./foundation-inventory";
import { exitCodeFor, Finding } from "./checks";

/** A foundation stack's validated config, read from `foundation/Pulumi.<stack>.yaml` with the program's own rules. */
export function readFoundationStackConfig(stack: string, root: string = projectRoot): FoundationConfig {
  const foundations = discoverFoundationStacks(root);
  const found = foundations.find((candidate) => candidate.name === stack);
  if (!found)
    throw new Error(
      `no ${foundationDir}/Pulumi.${stack}.yaml: foundation stacks here are ${foundations.map((candidate) => candidate.name).join(", ") || "none"}`,
    );
  return found.config;
}

/**
 * The foundation's outputs as `pulumi stack output --json` prints them. Every problem names the file and what to
 * run, so a stale or foreign outputs file never passes for a check.
 */
export function readFoundationOutputs(text: string, source: string, stack: string): FoundationOutputs {
  const how = `pulumi stack output --json --stack <organization>/${foundationProject}/${stack} > ${source === "-" ? "outputs.json" : source} (in ${foundationDir}/)`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${source === "-" ? "standard input" : source} is not JSON (${(error as Error).message}); write it with: ${how}`,
    );
  }
  if (!isRecord(raw))
    throw new Error(`${source} is not a JSON object of stack outputs; write it with: ${how}`);
  const parsed = parseFoundationOutputs(raw);
  if (!parsed.outputs)
    throw new Error(
      `${source} is not a foundation's outputs: ${parsed.problems.join("; ")}; write it with: ${how}`,
    );
  return parsed.outputs;
}

/** The whole live check of one foundation stack: read, compare, and the exit code. */
export async function verifyFoundation(
  config: FoundationConfig,
  outputs: FoundationOutputs,
  inventory = new FoundationSdkInventory({ region: config.region }),
): Promise<{ findings: Finding[]; exitCode: number }> {
  const findings = checkFoundationStack(config, outputs, await observeFoundation(config, outputs, inventory));
  return { findings, exitCode: exitCodeFor(findings) };
}
