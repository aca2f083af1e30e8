/**
 * npm run bench [-- --runs N] [-- --with-tests] [-- --help]
 * Times the offline synth against the bare cost of loading the three Pulumi SDKs on plain node, each as a fresh
 * process, side by side: every round runs each command once, in turn, so machine noise hits all of them alike.
 * Prints medians and ratios and exits 1 when a target is missed. Speed targets live here, not in tests, because
 * shared 2-core machines are noisy.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { allStacks } from "../synth/cli";

const root = path.resolve(__dirname, "..");

export const benchUsage = `usage: npm run bench [-- --runs N] [-- --with-tests]

Times, as fresh processes side by side (N rounds, default 7, after one warm-up round):
  bare       node -e "require('@pulumi/pulumi'); require('@pulumi/aws'); require('@pulumi/kubernetes')"
  process    node synth/run.js dev                 target ≤ 1.00× bare
  npm        npm run synth -- dev                  target ≤ 1.30× bare (npm's own start included)
  three      npm run synth -- dev prod staging     target ≤ 1.50× bare (the issue's "--all of three stacks")
  all        npm run synth -- --all                reported, no target (every stack --all synthesizes; README
                                                   "Benchmark" says why it is not the gate)
--with-tests also times npm test (target < 60 s). Exits 1 when a target is missed.

examples:
  npm run bench
  npm run bench -- --runs 11 --with-tests`;

export interface Target {
  readonly label: string;
  readonly command: string;
  readonly args: string[];
  /** Largest allowed median / bare median; undefined for the baseline and for rows only reported. */
  readonly limit?: number;
}

function parseRuns(args: readonly string[]): number {
  const index = args.indexOf("--runs");
  if (index < 0) return 7;
  const runs = Number(args[index + 1]);
  if (!Number.isInteger(runs) || runs < 1 || runs > 101)
    throw new Error("--runs needs a whole number from 1 to 101");
  return runs;
}

function seconds(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  execFileSync(command, args, { cwd: root, stdio: "ignore", env });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One line per target with its ratio to the first (the baseline), and how many targets were missed. */
export function judge(
  targets: readonly Pick<Target, "label" | "limit">[],
  medians: readonly number[],
): { lines: string[]; missed: number } {
  const bare = medians[0];
  let missed = 0;
  const lines = targets.map((target, index) => {
    const ratio = medians[index] / bare;
    let verdict = "";
    if (target.limit !== undefined) {
      const met = ratio <= target.limit;
      if (!met) missed++;
      verdict = `  (${ratio.toFixed(2)}× bare; target ≤ ${target.limit.toFixed(2)}× ${met ? "met" : "MISSED"})`;
    } else if (index > 0) verdict = `  (${ratio.toFixed(2)}× bare; reported, no target)`;
    return `  ${target.label.padEnd(42)} ${medians[index].toFixed(3)} s${verdict}`;
  });
  return { lines, missed };
}

/** `measure` times one command (tests pass a fake clock's). */
export function main(
  args: readonly string[],
  measure: (command: string, args: string[], env: NodeJS.ProcessEnv) => number = seconds,
): number {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(benchUsage);
    return 0;
  }
  const runs = parseRuns(args);
  const out = mkdtempSync(path.join(tmpdir(), "synth-bench-"));
  // Children run on this node (npm's scripts too) with no compile cache of their own: the bare load is cold.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
  };
  delete env.NODE_COMPILE_CACHE;
  const stacks = allStacks(root);
  const threeStacks = ["dev", "prod", "staging"];
  const targets: Target[] = [
    {
      label: "bare SDK load (pulumi, aws, kubernetes)",
      command: process.execPath,
      args: ["-e", "require('@pulumi/pulumi'); require('@pulumi/aws'); require('@pulumi/kubernetes')"],
    },
    {
      label: "node synth/run.js dev",
      command: process.execPath,
      args: ["synth/run.js", "dev", "--out", out],
      limit: 1.0,
    },
    {
      label: "npm run synth -- dev",
      command: "npm",
      args: ["run", "--silent", "synth", "--", "dev", "--out", out],
      limit: 1.3,
    },
    {
      label: `npm run synth -- ${threeStacks.join(" ")}`,
      command: "npm",
      args: ["run", "--silent", "synth", "--", ...threeStacks, "--out", out],
      limit: 1.5,
    },
    {
      label: `npm run synth -- --all (${stacks.length} stacks)`,
      command: "npm",
      args: ["run", "--silent", "synth", "--", "--all", "--out", out],
    },
  ];
  try {
    const samples = targets.map(() => [] as number[]);
    // Round 0 warms the caches (out/.build) and the OS file cache; it is not counted.
    for (let round = 0; round <= runs; round++) {
      targets.forEach((target, index) => {
        const time = measure(target.command, target.args, env);
        if (round > 0) samples[index].push(time);
      });
    }
    const result = judge(targets, samples.map(median));
    console.log(`median of ${runs} rounds, node ${process.version}, ${new Date().toISOString()}`);
    result.lines.forEach((line) => console.log(line));
    let missed = result.missed;
    if (args.includes("--with-tests")) {
      const test = measure("npm", ["test", "--silent"], env);
      const met = test < 60;
      if (!met) missed++;
      console.log(
        `  ${"npm test".padEnd(42)} ${test.toFixed(1)} s  (target < 60 s ${met ? "met" : "MISSED"})`,
      );
    }
    if (missed > 0) console.error(`bench: ${missed} target(s) missed`);
    return missed > 0 ? 1 : 0;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
