import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../infra/config";
import { projectRoot, synthesize } from "./index";
import { formatSummary } from "./summary";

const usage =
  "usage: npm run synth -- <stack>... | --all [--out <dir>]   (stacks: Pulumi.<stack>.yaml files)";

/** Stacks are the Pulumi.<stack>.yaml files next to Pulumi.yaml. */
export function stackNames(root = projectRoot): string[] {
  return readdirSync(root)
    .map((file) => /^Pulumi\.([\w-]+)\.yaml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

function parseArguments(argv: string[]): { stacks: string[]; outDir: string } {
  let outDir = path.join(projectRoot, "out");
  const stacks: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "--all") stacks.push(...stackNames());
    else if (argument === "--out") outDir = path.resolve(argv[++index] ?? "");
    else if (argument.startsWith("-")) throw new Error(`unknown option ${argument}\n${usage}`);
    else stacks.push(argument);
  }
  if (stacks.length === 0) throw new Error(usage);
  const unknown = stacks.filter((stack) => !stackNames().includes(stack));
  if (unknown.length > 0)
    throw new Error(`no Pulumi.${unknown[0]}.yaml; stacks here: ${stackNames().join(", ")}`);
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
      writeFileSync(path.join(stackDir, "resources.json"), `${JSON.stringify(result, null, 2)}\n`);
      console.log(formatSummary(result));
      console.log(`  → ${path.relative(process.cwd(), path.join(stackDir, "resources.json"))}\n`);
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
