import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import type { SynthResult } from "../../synth/types";
import { estimateMonthlyCost } from "./estimate";
import { formatCostComparison } from "./format";

export const costUsage = `usage: npm run cost -- --base <baseOutDir> --head <headOutDir> [--stack <stack>]...

Prints markdown comparing the estimated fixed monthly cost of each stack between two synth outputs
(<dir>/<stack>/resources.json, as \`npm run synth -- --all --out <dir>\` writes them). Without --stack, every stack
found in either directory. Both directories must exist; a stack missing from the base (an empty directory for a
branch without synth output) counts as new, one missing from the head as removed.

examples:
  npm run synth -- --all --out /tmp/head && npm run cost -- --base /tmp/base --head /tmp/head
  npm run cost -- --base /tmp/base --head out --stack dev`;

/**
 * `npm run cost -- --base <baseOutDir> --head <headOutDir> [--stack <stack>]...` (see costUsage). Returns the
 * markdown, or the usage for --help.
 */
export function runCostCli(argv: readonly string[]): string {
  if (argv.includes("--help") || argv.includes("-h")) return `${costUsage}\n`;
  const args = parseArgs(argv);
  for (const [flag, dir] of [
    ["--base", args.base],
    ["--head", args.head],
  ]) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new Error(
        `${flag} ${dir}: no such directory (create an empty one for a side without synth output)`,
      );
  }
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
    if (!["--base", "--head", "--stack"].includes(flag))
      throw new Error(`unknown option ${flag}\n${costUsage.split("\n")[0]}`);
    if (value === undefined || value.startsWith("-"))
      throw new Error(`${flag} needs a value\n${costUsage.split("\n")[0]}`);
    if (flag === "--base") base = value;
    if (flag === "--head") head = value;
    if (flag === "--stack") stacks.push(value);
    index++;
  }
  if (head === undefined || base === undefined)
    throw new Error(`--base and --head are both required\n${costUsage.split("\n")[0]}`);
  return { base, head, stacks };
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
