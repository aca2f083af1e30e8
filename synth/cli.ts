import { mkdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../infra/config";
import { didYouMean } from "../infra/config/suggest";
import { estimateMonthlyCost, formatCostEstimate } from "../ops/cost";
import { formatPolicyReport, loadPackConfig, runPolicyPack } from "../policies/harness";
import { foundationDir } from "../infra/foundation/contract";
import { foundationStackOf, foundationSynthNames, projectRoot, synthesize } from "./index";
import { anyStackFile, exampleStacks, stackFile, stackNames } from "./stacks";
import { formatSummary } from "./summary";

export const usage = `usage: npm run synth -- <stack>... | --all [--out <dir>]

Evaluates the real program offline (Pulumi runtime mocks) for each stack's Pulumi.<stack>.yaml and writes
<dir>/<stack>/resources.json and policy-report.json (default dir: out/). Foundation stacks
(foundation/Pulumi.<stack>.yaml) are named foundation-<stack>; a cluster stack reads the synthesized outputs of
its foundation through its StackReference. Exits 1 if any stack fails its config
check, a mandatory policy or the program itself; a failed stack's previous outputs are removed, never left stale.

options:
  --all          every foundation stack, then every Pulumi.<stack>.yaml, then the examples/fleet/ stacks (broken
                 ones are reported, the rest run)
  --out <dir>    where to write the outputs (default: out)
  -h, --help     this help

examples:
  npm run synth -- dev
  npm run synth -- dev prod --out /tmp/synth
  npm run synth -- foundation-eu-west-1
  npm run synth -- --all`;

/** What `--all` synthesizes. Foundations first: the cluster stacks are built on them (it reads like the deploy order). */
export function allStacks(root: string = projectRoot): string[] {
  return [...foundationSynthNames(root), ...stackNames(root), ...exampleStacks(root).keys()];
}

/** A wrong invocation: printed with the usage, exit 2. */
export class UsageError extends Error {}

/** Output that cannot be written (permissions, a file where a folder belongs): one line, exit 1. */
class OutputError extends Error {}

export interface SynthInvocation {
  readonly help: boolean;
  readonly stacks: string[];
  readonly outDir: string;
}

export function parseArguments(
  argv: readonly string[],
  known: readonly string[],
  root: string = projectRoot,
): SynthInvocation {
  let outDir = path.join(root, "out");
  const stacks: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "-h" || argument === "--help") return { help: true, stacks: [], outDir };
    if (argument === "--all") stacks.push(...known);
    else if (argument === "--out" || argument.startsWith("--out=")) {
      const value = argument === "--out" ? argv[++index] : argument.slice("--out=".length);
      if (value === undefined || value === "" || value.startsWith("-"))
        throw new UsageError("--out needs a directory, e.g. --out /tmp/synth");
      outDir = path.resolve(value);
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
  return { help: false, stacks: [...new Set(stacks)], outDir };
}

/** Temp file + rename in the same directory: a reader sees the previous file or the complete new one. */
export function writeFileAtomic(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // the folder itself is unusable: nothing was written
    }
    throw outputError(file, error);
  }
}

function outputError(target: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOTDIR: "a file is in the way of a folder",
    EISDIR: "a folder is in the way of the file",
    ENOSPC: "no space left",
  };
  if (!code || !(code in reasons)) return error as Error;
  return new OutputError(
    `cannot write ${path.relative(process.cwd(), target) || target}: ${reasons[code]} (${code}); choose a writable folder with --out <dir>`,
  );
}

const outputFiles = ["resources.json", "policy-report.json"];

/** After a failed synth: the stack's outputs from an earlier run would contradict its config, so they go. */
function removeStaleOutputs(stackDir: string): string | undefined {
  const removed = outputFiles.filter((name) => {
    try {
      rmSync(path.join(stackDir, name));
      return true;
    } catch {
      return false;
    }
  });
  try {
    rmdirSync(stackDir);
  } catch {
    // not empty (someone else's files) or already gone
  }
  return removed.length > 0 ? `removed the previous ${removed.join(" and ")} (stale)` : undefined;
}

/** The problems of a failed stack, one per line, without a stack trace unless DEBUG is set. */
function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof OutputError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  // YAMLParseError and the program's own refusals (duplicate principals, mixed architectures) are plain Errors.
  return process.env.DEBUG && error instanceof Error && error.stack ? error.stack : message;
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
    io.err(`synth: ${describeFailure(outputError(outDir, error))}`);
    return 1;
  }
  const failed: string[] = [];
  for (const stack of stacks) {
    const foundation = foundationStackOf(stack);
    const configFile = foundation
      ? stackFile(path.join(root, foundationDir), foundation)
      : anyStackFile(root, stack);
    const file = path.relative(root, configFile);
    const stackDir = path.join(outDir, stack);
    try {
      const result = await synthesize(stack, { configFile });
      const report = runPolicyPack(result, loadPackConfig(stack));
      try {
        mkdirSync(stackDir, { recursive: true });
      } catch (error) {
        throw outputError(stackDir, error);
      }
      writeFileAtomic(path.join(stackDir, "resources.json"), `${JSON.stringify(result, null, 2)}\n`);
      writeFileAtomic(path.join(stackDir, "policy-report.json"), `${JSON.stringify(report, null, 2)}\n`);
      io.out(formatSummary(result));
      io.out(formatCostEstimate(estimateMonthlyCost(result)));
      io.out(formatPolicyReport(report));
      io.out(`  → ${path.relative(process.cwd(), stackDir)}/{resources,policy-report}.json\n`);
      // A mandatory violation fails the synth exactly as it would fail `pulumi preview --policy-pack policies`.
      if (report.mandatoryCount > 0) failed.push(`${stack} (${file}: mandatory policy violations)`);
    } catch (error) {
      failed.push(`${stack} (${file})`);
      const removed = error instanceof OutputError ? undefined : removeStaleOutputs(stackDir);
      io.err(
        `Stack ${stack} (${file}) failed: ${describeFailure(error)}${removed ? `\n  ${path.relative(process.cwd(), stackDir)}: ${removed}` : ""}\n`,
      );
    }
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

/** Called by synth/run.js. */
export function run(argv: readonly string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`synth: ${describeFailure(error)}`);
      process.exit(1);
    },
  );
}
