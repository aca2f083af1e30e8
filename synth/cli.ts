import { mkdirSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import * as path from "node:path";
import { didYouMean } from "../infra/config/suggest";
import { foundationDir } from "../infra/foundation/contract";
import { isWorker, type LoadStackSynth, serveShare, type SynthPlace, synthesizeInShares } from "./jobs";
import { outputError } from "./output";
import { exampleStacks, foundationStackOf, foundationSynthNames, stackNames } from "./stacks";

// Only what parsing the arguments takes is loaded up front: the SDKs and the policy pack (synth/report.ts) load
// after any worker process is started, so the workers load alongside this process instead of after it.
/* eslint-disable @typescript-eslint/no-require-imports */
const report = () => require("./report") as typeof import("./report");
/* eslint-enable @typescript-eslint/no-require-imports */
const loadStackSynth: LoadStackSynth = () => report().stackSynth;

/** Where Pulumi.yaml is: synth/.. (infra/project.ts finds it the same way, but loads a YAML parser to do so). */
const projectRoot = path.resolve(__dirname, "..");

export { writeFileAtomic } from "./output";

export const usage = `usage: npm run synth -- <stack>... | --all [--out <dir>] [--jobs <n>]

Evaluates the real program offline (Pulumi runtime mocks) for each stack's Pulumi.<stack>.yaml and writes
<dir>/<stack>/resources.json and policy-report.json (default dir: out/). Foundation stacks
(foundation/Pulumi.<stack>.yaml) are named foundation-<stack>; a cluster stack reads the synthesized outputs of
its foundation through its StackReference (kept in out/.build/outputs under a hash of everything they depend on,
so the next synth reads them instead of running the foundation again). Exits 1 if any stack fails its config
check, a mandatory policy or the program itself; a failed stack's previous outputs are removed, never left stale.

options:
  --all          every foundation stack, then every Pulumi.<stack>.yaml, then the examples/fleet/ stacks (broken
                 ones are reported, the rest run)
  --out <dir>    where to write the outputs (default: out)
  --jobs <n>     processes synthesizing stacks side by side (default: one per CPU, here ${availableParallelism()}, or
                 1 while the load average is at or above that); output, exit code and files are those of --jobs 1
  -h, --help     this help

examples:
  npm run synth -- dev
  npm run synth -- dev prod --out /tmp/synth
  npm run synth -- foundation-eu-west-1
  npm run synth -- --all
  npm run synth -- --all --jobs 1`;

/** What `--all` synthesizes. Foundations first: the cluster stacks are built on them (it reads like the deploy order). */
export function allStacks(root: string = projectRoot): string[] {
  return [...foundationSynthNames(root), ...stackNames(root), ...exampleStacks(root).keys()];
}

/** A wrong invocation: printed with the usage, exit 2. */
export class UsageError extends Error {}

export interface SynthInvocation {
  readonly help: boolean;
  readonly stacks: string[];
  readonly outDir: string;
  readonly jobs: number;
}

/**
 * Parallel processes by default: one per CPU this process may use, unless the machine is already busy (a 1-minute
 * load average at or above the CPUs, as `make -l` judges it): then a second process only adds its own start-up, ~0.5 s
 * of CPU, to the queue, and one process finishes first.
 */
export function defaultJobs(cpus: number = availableParallelism(), load: number = loadavg()[0]): number {
  return load >= cpus ? 1 : cpus;
}

/** Upper bound of --jobs: each process loads the SDKs (~150 MB). */
const maximumJobs = 32;

export function parseArguments(
  argv: readonly string[],
  known: readonly string[],
  root: string = projectRoot,
): SynthInvocation {
  let outDir = path.join(root, "out");
  let jobs = defaultJobs();
  const stacks: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "-h" || argument === "--help") return { help: true, stacks: [], outDir, jobs };
    if (argument === "--all") stacks.push(...known);
    else if (argument === "--out" || argument.startsWith("--out=")) {
      const value = argument === "--out" ? argv[++index] : argument.slice("--out=".length);
      if (value === undefined || value === "" || value.startsWith("-"))
        throw new UsageError("--out needs a directory, e.g. --out /tmp/synth");
      outDir = path.resolve(value);
    } else if (argument === "--jobs" || argument.startsWith("--jobs=")) {
      const value = argument === "--jobs" ? argv[++index] : argument.slice("--jobs=".length);
      jobs = Number(value);
      if (value === undefined || !/^\d+$/.test(value) || jobs < 1 || jobs > maximumJobs)
        throw new UsageError(
          `--jobs needs a whole number from 1 to ${maximumJobs}${value === undefined ? "" : ` (got ${value})`}, e.g. --jobs 2`,
        );
    } else if (argument.startsWith("-")) throw new UsageError(`unknown option ${argument}`);
    else stacks.push(argument);
  }
  if (stacks.length === 0) throw new UsageError(`name a stack or --all (stacks here: ${known.join(", ")})`);
  const unknown = stacks.filter((stack) => !known.includes(stack));
  if (unknown.length > 0) {
    const foundation = foundationStackOf(unknown[0]);
    throw new UsageError(
      `no stack file ${foundation ? `${foundationDir}/Pulumi.${foundation}` : `Pulumi.${unknown[0]}`}.yaml${didYouMean(unknown[0], known)} (stacks here: ${known.join(", ")})`,
    );
  }
  return { help: false, stacks: [...new Set(stacks)], outDir, jobs };
}

export interface SynthIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: SynthIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/**
 * Runs `npm run synth -- <argv>`; resolves to the exit code. `root` is where the stack files are (tests point it at
 * a folder of broken ones).
 */
export async function main(
  argv: readonly string[],
  io: SynthIo = consoleIo,
  root: string = projectRoot,
  cacheDir?: string,
): Promise<number> {
  let invocation: SynthInvocation;
  try {
    invocation = parseArguments(argv, allStacks(root), root);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(
      `synth: ${error.message}\n${usage.split("\n")[0]}\n(npm run synth -- --help for options and examples)`,
    );
    return 2;
  }
  if (invocation.help) {
    io.out(usage);
    return 0;
  }
  const { stacks, outDir } = invocation;
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    io.err(`synth: ${report().describeFailure(outputError(outDir, error))}`);
    return 1;
  }
  const place: SynthPlace = { root, outDir, cacheDir };
  const failed: string[] = [];
  for (const stackReport of synthesizeInShares(stacks, invocation.jobs, place, loadStackSynth)) {
    const { lines, failure } = await stackReport;
    for (const line of lines) io[line.stream](line.text);
    if (failure) failed.push(failure);
  }
  if (stacks.length > 1) {
    io.err(
      failed.length === 0
        ? `synth: all ${stacks.length} stacks synthesized`
        : `synth: ${stacks.length - failed.length} of ${stacks.length} stacks synthesized; failed: ${failed.join(", ")}`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}

/** Called by synth/run.js; `cacheDir` keeps referenced stacks' outputs across runs (out/.build/outputs). */
export function run(argv: readonly string[], cacheDir?: string): void {
  if (isWorker()) return serveShare(loadStackSynth);
  main(argv, consoleIo, projectRoot, cacheDir).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`synth: ${report().describeFailure(error)}`);
      process.exit(1);
    },
  );
}
