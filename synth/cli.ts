import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../infra/config";
import { estimateMonthlyCost, formatCostEstimate } from "../ops/cost";
import { formatPolicyReport, loadPackConfig, runPolicyPack } from "../policies/harness";
import { projectRoot, synthesize } from "./index";
import { exampleStacks, stackNames } from "./stacks";
import { formatSummary } from "./summary";

const usage =
  "usage: npm run synth -- <stack>... | --all [--out <dir>]   (stacks: Pulumi.<stack>.yaml files here and in examples/fleet/)";

function parseArguments(argv: string[]): { stacks: string[]; outDir: string } {
  let outDir = path.join(projectRoot, "out");
  const known = [...stackNames(projectRoot), ...exampleStacks(projectRoot).keys()];
  const stacks: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "--all") stacks.push(...known);
    else if (argument === "--out") outDir = path.resolve(argv[++index] ?? "");
    else if (argument.startsWith("-")) throw new Error(`unknown option ${argument}\n${usage}`);
    else stacks.push(argument);
  }
  if (stacks.length === 0) throw new Error(usage);
  const unknown = stacks.filter((stack) => !known.includes(stack));
  if (unknown.length > 0)
    throw new Error(`no stack file Pulumi.${unknown[0]}.yaml; stacks here: ${known.join(", ")}`);
  return { stacks: [...new Set(stacks)], outDir };
}

async function main(): Promise<number> {
  const { stacks, outDir } = parseArguments(process.argv.slice(2));
  let failed = 0;
  for (const stack of stacks) {
    try {
      const result = await synthesize(stack);
      const stackDir = path.join(outDir, stack);
      mkdirSync(stackDir, { recursive: true });
      const report = runPolicyPack(result, loadPackConfig(stack));
      writeFileSync(path.join(stackDir, "resources.json"), `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(path.join(stackDir, "policy-report.json"), `${JSON.stringify(report, null, 2)}\n`);
      console.log(formatSummary(result));
      console.log(formatCostEstimate(estimateMonthlyCost(result)));
      console.log(formatPolicyReport(report));
      console.log(`  → ${path.relative(process.cwd(), stackDir)}/{resources,policy-report}.json\n`);
      // A mandatory violation fails the synth exactly as it would fail `pulumi preview --policy-pack policies`.
      if (report.mandatoryCount > 0) failed++;
    } catch (error) {
      failed++;
      if (error instanceof ConfigError) console.error(`Stack ${stack}: ${error.message}\n`);
      else throw error;
    }
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
