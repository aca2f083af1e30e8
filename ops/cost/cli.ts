import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { SynthResult } from "../../synth/types";
import { estimateMonthlyCost } from "./estimate";
import { formatCostComparison } from "./format";

/**
 * `npm run cost -- --base <baseOutDir> --head <headOutDir> [--stack <stack>]...` prints markdown comparing the
 * estimated fixed monthly cost of each stack between two synth outputs (`<dir>/<stack>/resources.json`).
 * Without --stack, every stack found in either directory. A missing base directory or stack counts as "new".
 */
export function runCostCli(argv: readonly string[]): string {
  const args = parseArgs(argv);
  const stacks =
    args.stacks.length > 0
      ? args.stacks
      : [...new Set([...stacksIn(args.base), ...stacksIn(args.head)])].sort();
  if (stacks.length === 0)
    throw new Error(`no <stack>/resources.json under ${args.head}; run \`npm run synth -- --all\` first`);
  return stacks
    .map((stack) => {
      const base = readResult(args.base, stack);
      const head = readResult(args.head, stack);
      if (!base && !head)
        throw new Error(
          `stack ${stack}: neither ${args.base} nor ${args.head} holds ${stack}/resources.json`,
        );
      return formatCostComparison(base && estimateMonthlyCost(base), head && estimateMonthlyCost(head));
    })
    .join("\n");
}

interface CostArgs {
  readonly base: string;
  readonly head: string;
  readonly stacks: string[];
}

function parseArgs(argv: readonly string[]): CostArgs {
  let base: string | undefined;
  let head: string | undefined;
  const stacks: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (!["--base", "--head", "--stack"].includes(flag) || value === undefined) {
      throw new Error(
        `usage: npm run cost -- --base <baseOutDir> --head <headOutDir> [--stack <stack>]... (got ${flag})`,
      );
    }
    if (flag === "--base") base = value;
    if (flag === "--head") head = value;
    if (flag === "--stack") stacks.push(value);
    index++;
  }
  if (head === undefined)
    throw new Error("usage: npm run cost -- --base <baseOutDir> --head <headOutDir> [--stack <stack>]...");
  return { base: base ?? "", head, stacks };
}

function stacksIn(dir: string): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, "resources.json")))
    .map((entry) => entry.name);
}

function readResult(dir: string, stack: string): SynthResult | undefined {
  const file = path.join(dir, stack, "resources.json");
  if (!dir || !existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as SynthResult;
}

if (require.main === module) {
  try {
    process.stdout.write(runCostCli(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`cost: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
