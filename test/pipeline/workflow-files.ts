import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { upstreamFact } from "../upstream";

/**
 * The repository's workflow files, parsed once, for the workflow suites: what GitHub reads (YAML), how the runner
 * starts each `run:` step (actions/runner's shell arguments, vendored) and the pinned actions with their tags.
 */

export const root = join(__dirname, "..", "..");
export const workflowsDir = join(root, ".github", "workflows");

export type Tree = Record<string, unknown>;
export interface Defaults {
  run?: { shell?: string; "working-directory"?: string };
}
export interface Step extends Tree {
  id?: string;
  name?: string;
  env?: Record<string, string>;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  if?: string;
}
export interface Job extends Tree {
  env?: Record<string, string>;
  secrets?: Record<string, string> | string;
  uses?: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  steps?: Step[];
  strategy?: { matrix?: Record<string, unknown> };
  environment?: unknown;
  concurrency?: { group?: string; "cancel-in-progress"?: unknown };
  defaults?: Defaults;
  if?: string;
}
export interface Workflow {
  name: string;
  on: Tree;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
  env?: Record<string, string>;
  defaults?: Defaults;
}

export const files = readdirSync(workflowsDir).filter((file) => /\.ya?ml$/.test(file));
export const texts = Object.fromEntries(
  files.map((file) => [file, readFileSync(join(workflowsDir, file), "utf8")]),
);
export const workflows = Object.fromEntries(files.map((file) => [file, parse(texts[file]) as Workflow]));

export function steps(job: Job): Step[] {
  return job.steps ?? [];
}

export function usesAction(step: Step, action: string): boolean {
  return (step.uses ?? "").toLowerCase().startsWith(`${action.toLowerCase()}@`);
}

export interface JobRef {
  readonly file: string;
  readonly id: string;
  readonly job: Job;
  readonly workflow: Workflow;
}
export function allJobs(from: Record<string, Workflow> = workflows): JobRef[] {
  return Object.entries(from).flatMap(([file, workflow]) =>
    Object.entries(workflow.jobs).map(([id, job]) => ({ file, id, job, workflow })),
  );
}

export interface StepRef extends JobRef {
  readonly step: Step;
  readonly label: string;
}
export function allSteps(from: Record<string, Workflow> = workflows): StepRef[] {
  return allJobs(from).flatMap((ref) =>
    steps(ref.job).map((step, index) => ({
      ...ref,
      step,
      label: `${ref.file} ${ref.id} step ${String(step.name ?? step.id ?? index)}`,
    })),
  );
}

/** One `uses: owner/repo[/path]@<sha> # <tag>` line of a workflow file. */
export interface PinnedUse {
  readonly file: string;
  readonly line: number;
  readonly action: string;
  readonly repo: string;
  readonly commit: string;
  readonly tag: string | undefined;
}
export function pinnedUses(from: Record<string, string> = texts): PinnedUse[] {
  return Object.entries(from).flatMap(([file, text]) =>
    text.split("\n").flatMap((content, index) => {
      const match = /^\s*(?:-\s+)?uses:\s*([\w.-]+\/[\w.-]+)((?:\/[\w.-]+)*)@(\S+)(?:\s+#\s*(\S+))?/.exec(
        content,
      );
      if (!match) return [];
      const [, repo, path, commit, tag] = match;
      return [{ file, line: index + 1, action: `${repo}${path}`, repo, commit, tag }];
    }),
  );
}

/** actions/runner: how a `run:` step is started on Linux (vendored from ScriptHandlerHelpers.cs). */
interface RunnerShells {
  unset: { command: string; args: string };
  arguments: Record<string, string>;
}
const runnerShells = upstreamFact<RunnerShells>("actions-runner-v2.336.0.shells.json").facts;

export interface RunnerShell {
  /** The `shell:` in force (step, then job defaults, then workflow defaults); undefined when none is set. */
  readonly shell: string | undefined;
  /** The command line the runner starts, `{0}` standing for the script file. */
  readonly command: string;
  readonly args: string[];
}

/** The shell the runner uses for a `run:` step: the step's `shell:`, else job, else workflow `defaults.run.shell`. */
export function runnerShell(workflow: Workflow, job: Job, step: Step): RunnerShell {
  const shell = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell;
  if (shell === undefined)
    return { shell, command: runnerShells.unset.command, args: runnerShells.unset.args.split(" ") };
  const [command, ...rest] = shell.trim().split(/\s+/);
  const args = rest.length > 0 ? rest : (runnerShells.arguments[command] ?? "{0}").split(" ");
  return { shell, command, args };
}

/** The `set` options of a bash command line (`-e`, `-o pipefail`), as a line to put at the top of a script. */
export function setLine(shell: RunnerShell): string {
  const options: string[] = [];
  for (let index = 0; index < shell.args.length; index++) {
    const arg = shell.args[index];
    if (arg === "-o") options.push(`-o ${shell.args[++index]}`);
    else if (/^-[a-z]+$/.test(arg)) options.push(arg);
  }
  return options.length > 0 ? `set ${options.join(" ")}` : "";
}
