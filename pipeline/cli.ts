import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderJobsForStacks } from "./addons";
import { RenderJob } from "./render";
import {
  decideLiveExpiry,
  ExpiryDecision,
  foundationRefusal,
  foundationStackFiles,
  planExpiry,
  shouldDeploy,
  utcToday,
  DEFAULT_WARN_DAYS,
} from "./expiry";
import { gateMarkdown, renderImages, runGate, writeGateSarif } from "./gate";
import { extractImages, uniqueImages } from "./images";
import {
  CiConfigError,
  clusterStackCi,
  discoverFoundationStacks,
  foundationStackCi,
  runnerActorProblem,
} from "./foundations";
import {
  discoverStacks,
  missingPolicyConfigs,
  policyConfigPath,
  policyConfigProblems,
  readProjectName,
  StackInfo,
} from "./stacks";
import { summarizeOutDir, synthMarkdown } from "./synth-summary";
import { checkIgnoreFile } from "./trivyignore";

/**
 * The pipeline's command line, called by the workflows as `npx ts-node --transpile-only pipeline/cli.ts <command>`.
 * Every decision lives in the imported modules; this file only reads files, prints and sets step outputs.
 */

const usage = `usage: pipeline/cli.ts <command> [options]
  stacks          [--root .] [--actor-id N]           JSON list of stacks (Pulumi.<stack>.yaml); outputs "stacks",
                                                      "project" and "matrix" (stack, environment, runner, roles,
                                                      region per stack); fails if a stack has no
                                                      policies/config/<stack>.json or no runner for its environment;
                                                      with --actor-id, the matrix leaves out (with an error
                                                      annotation) stacks whose runner would not start for account N
  stack-ci        --stack S [--environment E] [--actor-id N] [--root .]
                                                      outputs runner, deploy-role, preview-role, region of one
                                                      cluster stack (from its foundation stack file); with
                                                      --actor-id, fails if its runner would not start for account N
  foundations     [--root .]                          outputs "matrix": foundation stacks (foundation/Pulumi.<stack>.yaml)
                                                      with their region, GitHub environment and roles
  expiry          [--root .] [--today D] [--warn-days N]  expiry plan; outputs "destroy", "warn"
  assert-expired  --stack S [--root .] [--today D]    exit 0 (output proceed=true) only for an expired dev stack
  assert-live-expired --stack S --live-environment E --live-expires-on D [--root .] [--today D]
                                                      the same, and the live stack's outputs (pulumi stack output
                                                      environment / expiresOn) must say an expired dev stack too
  should-deploy   --stack S [--root .] [--today D]    output "proceed" (false for an expired dev stack)
  extract         [--file F]                          images in rendered manifests (stdin by default)
  images          --repo R --chart C --version V [--values F]... [--namespace N] [--release N]
                                                      helm template one chart, print its images
  gate            [--root .] [--addons-dir addons] [--ignore-file .trivyignore.yaml]
                  [--work-dir DIR (default: a new temp dir)] [--sarif F] [--summary F]
                                                      render every chart a stack enables, scan every image
  check-ignores   [--file .trivyignore.yaml] [--today D]
  synth-summary   [--out out]                         markdown summary of out/<stack>/*.json
  help, --help                                        this help

examples:
  npx ts-node --transpile-only pipeline/cli.ts stacks
  npx ts-node --transpile-only pipeline/cli.ts expiry --today 2026-12-01
  npx ts-node --transpile-only pipeline/cli.ts synth-summary --out out`;

const options = {
  root: { type: "string", default: "." },
  today: { type: "string" },
  "warn-days": { type: "string" },
  stack: { type: "string" },
  environment: { type: "string" },
  "actor-id": { type: "string" },
  "live-environment": { type: "string" },
  "live-expires-on": { type: "string" },
  file: { type: "string" },
  repo: { type: "string" },
  chart: { type: "string" },
  version: { type: "string" },
  values: { type: "string", multiple: true },
  namespace: { type: "string" },
  release: { type: "string" },
  "addons-dir": { type: "string", default: "addons" },
  "ignore-file": { type: "string", default: ".trivyignore.yaml" },
  "work-dir": { type: "string" },
  sarif: { type: "string" },
  summary: { type: "string" },
  out: { type: "string", default: "out" },
} as const;

/** Sets a step output when run inside GitHub Actions (GITHUB_OUTPUT is a file of key=value lines). */
function setOutput(name: string, value: string): void {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

function findStack(root: string, name: string | undefined): StackInfo {
  if (!name) throw new Error("--stack is required");
  const stack = discoverStacks(root).find((candidate) => candidate.name === name);
  if (!stack) throw new Error(`no Pulumi.${name}.yaml in ${root}`);
  return stack;
}

/** The cluster stack expiry is asked to destroy; a foundation stack is refused before anything else is read. */
function expiringStack(root: string, name: string | undefined): StackInfo {
  const refusal =
    name === undefined
      ? undefined
      : foundationRefusal(name, discoverStacks(root), foundationStackFiles(root));
  if (refusal) throw new Error(refusal);
  return findStack(root, name);
}

/** Exit 0 with the step output proceed=true only for a destroy decision; otherwise say why and exit 1. */
function confirmDestroy(stack: StackInfo, decision: ExpiryDecision): number {
  if (decision.action !== "destroy") {
    console.error(`refusing to destroy ${stack.name}: ${decision.reason}`);
    return 1;
  }
  console.log(`${stack.name}: ${decision.reason}`);
  setOutput("proceed", "true");
  return 0;
}

/** Prints image references (stdout) and render problems (stderr); a problem makes the command fail. */
function printImages(references: readonly string[], problems: readonly string[]): number {
  problems.forEach((problem) => console.error(`error: ${problem}`));
  references.forEach((reference) => console.log(reference));
  return problems.length > 0 ? 1 : 0;
}

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || argv.includes("--help") || argv.includes("-h")) {
    (command === undefined ? console.error : console.log)(usage);
    return command === undefined ? 2 : 0;
  }
  const { values: flags } = parseArgs({ args: rest, options, allowPositionals: false });
  const root = flags.root;
  const today = flags.today ?? utcToday();
  // Per-image reports and merged values files; outside the checkout unless asked, so nothing litters git status.
  const workDir = (): string => flags["work-dir"] ?? mkdtempSync(join(tmpdir(), "image-gate-"));

  switch (command) {
    case "stacks": {
      const stacks = discoverStacks(root);
      if (stacks.length === 0) throw new Error(`no Pulumi.<stack>.yaml files in ${root}`);
      // Every matrix entry runs `pulumi preview --policy-pack-config policies/config/<stack>.json`, which fails
      // on a missing file: say which file is missing here, once, instead of in every stack's preview.
      const missing = missingPolicyConfigs(root, stacks);
      if (missing.length > 0)
        throw new Error(
          `missing ${missing.join(", ")} in ${root}: every Pulumi.<stack>.yaml needs its policy config ` +
            "(the workflows pass it as --policy-pack-config); copy policies/config/dev.json and adjust it",
        );
      const weakened = policyConfigProblems(root, stacks);
      if (weakened.length > 0) throw new Error(`policy configs weaken the pack:\n${weakened.join("\n")}`);
      const names = stacks.map((stack) => stack.name);
      // Each stack's preview runs on the in-VPC runner of its environment, with that environment's preview role.
      const foundations = discoverFoundationStacks(root);
      const project = readProjectName(root);
      const actorId = flags["actor-id"];
      const matrix = stacks
        .map((stack) => clusterStackCi(stack, foundations, project))
        .filter((ci) => {
          const problem = actorId === undefined ? undefined : runnerActorProblem(ci, foundations, actorId);
          // The preview of this stack would wait for a runner build its webhook never starts: say so, skip it.
          if (problem !== undefined) console.log(`::error::no preview of ${problem}`);
          return problem === undefined;
        });
      console.log(JSON.stringify(names));
      setOutput("stacks", JSON.stringify(names));
      setOutput("matrix", JSON.stringify(matrix));
      // The project name heads each stack's preview comment (`<project>/<stack>`), also when the preview fails.
      setOutput("project", readProjectName(root));
      return 0;
    }
    case "stack-ci": {
      const stack = findStack(root, flags.stack);
      const foundations = discoverFoundationStacks(root);
      const ci = clusterStackCi(stack, foundations, readProjectName(root));
      // The deploy role trusts only the GitHub environment of the stack's own environment.
      if (flags.environment !== undefined && flags.environment !== ci.environment)
        throw new CiConfigError(
          `${stack.file} is a ${ci.environment} stack but the job runs in the GitHub environment ${flags.environment}; pass environment: ${ci.environment}`,
        );
      const problem =
        flags["actor-id"] === undefined ? undefined : runnerActorProblem(ci, foundations, flags["actor-id"]);
      if (problem !== undefined) throw new CiConfigError(problem);
      console.log(JSON.stringify(ci));
      setOutput("runner", ci.runner);
      setOutput("deploy-role", ci.deployRole);
      setOutput("preview-role", ci.previewRole);
      setOutput("region", ci.region);
      return 0;
    }
    case "foundations": {
      const foundations = discoverFoundationStacks(root);
      const missing = foundations
        .map((foundation) => policyConfigPath(`foundation-${foundation.name}`))
        .filter((file) => !existsSync(join(root, file)));
      if (missing.length > 0)
        throw new CiConfigError(
          `missing ${missing.join(", ")}: every foundation stack needs its policy config (the workflows pass it as --policy-pack-config); copy policies/config/foundation-eu-west-1.json`,
        );
      const matrix = foundations.map(foundationStackCi);
      console.log(JSON.stringify(matrix));
      setOutput("matrix", JSON.stringify(matrix));
      return 0;
    }
    case "expiry": {
      const warnDays = flags["warn-days"] === undefined ? DEFAULT_WARN_DAYS : Number(flags["warn-days"]);
      if (!Number.isInteger(warnDays) || warnDays < 0)
        throw new Error("--warn-days must be a whole number ≥ 0");
      const plan = planExpiry(discoverStacks(root), today, warnDays, foundationStackFiles(root));
      plan.decisions.forEach((decision) =>
        console.log(`${decision.stack}: ${decision.action}: ${decision.reason}`),
      );
      plan.invalid.forEach((decision) => console.log(`::warning::${decision.stack}: ${decision.reason}`));
      setOutput("destroy", JSON.stringify(plan.destroy));
      setOutput(
        "warn",
        JSON.stringify(plan.warn.map(({ stack, expiresOn, daysLeft }) => ({ stack, expiresOn, daysLeft }))),
      );
      return 0;
    }
    case "assert-expired": {
      const stack = expiringStack(root, flags.stack);
      // decideExpiry only ever answers "destroy" for an environment: dev stack past its expiresOn.
      return confirmDestroy(stack, planExpiry([stack], today).decisions[0]);
    }
    case "assert-live-expired": {
      const stack = expiringStack(root, flags.stack);
      const environment = flags["live-environment"];
      const expiresOn = flags["live-expires-on"];
      // Both flags must be passed, even empty: a workflow that forgets the live read must not reach destroy.
      if (environment === undefined || expiresOn === undefined)
        throw new Error("--live-environment and --live-expires-on are required (pass them even when empty)");
      return confirmDestroy(stack, decideLiveExpiry(stack, { environment, expiresOn }, today));
    }
    case "should-deploy": {
      const verdict = shouldDeploy(findStack(root, flags.stack), today);
      console.log(verdict.deploy ? verdict.reason : `::warning::skipping deploy: ${verdict.reason}`);
      setOutput("proceed", String(verdict.deploy));
      return 0;
    }
    case "extract": {
      const extracted = extractImages(readFileSync(flags.file ?? 0, "utf8"));
      return printImages(
        uniqueImages(extracted.uses).map((image) => image.reference),
        extracted.problems,
      );
    }
    case "images": {
      const { repo, chart, version } = flags;
      if (!repo || !chart || !version) throw new Error("--repo, --chart and --version are required");
      const job: RenderJob = {
        addon: flags.release ?? chart,
        variant: "cli",
        coordinates: { repo, chart, version, namespace: flags.namespace, releaseName: flags.release },
        valuesFiles: flags.values ?? [],
      };
      const rendered = renderImages([job], workDir());
      const failed = rendered.renders.find((render) => render.error);
      if (failed) throw new Error(failed.error);
      return printImages(
        rendered.images.map((image) => image.reference),
        rendered.problems,
      );
    }
    case "gate": {
      const stacks = discoverStacks(root);
      const { jobs, selected } = renderJobsForStacks(
        stacks,
        join(root, flags["addons-dir"]),
        readProjectName(root),
      );
      for (const [stack, addons] of Object.entries(selected))
        console.log(`${stack}: ${addons.join(", ") || "no charts"}`);
      const dir = workDir();
      const report = runGate({ jobs, workDir: dir, ignoreFile: flags["ignore-file"] });
      const markdown = gateMarkdown(report);
      console.log(markdown);
      if (flags.summary) appendFileSync(flags.summary, markdown);
      if (flags.sarif) writeGateSarif(report, dir, flags.sarif);
      if (report.renders.length === 0)
        console.log("::warning::no stack enables an add-on that pins a chart: nothing to scan");
      return report.passed ? 0 : 1;
    }
    case "check-ignores": {
      const file = flags.file ?? ".trivyignore.yaml";
      const check = checkIgnoreFile(readFileSync(file, "utf8"), today);
      check.expired.forEach((entry) =>
        console.log(`::warning file=${file}::${entry}: remove it or renew it`),
      );
      check.errors.forEach((error) => console.log(`::error file=${file}::${error}`));
      console.log(
        `${file}: ${check.entries} entr${check.entries === 1 ? "y" : "ies"}, ${check.errors.length} error(s)`,
      );
      return check.errors.length > 0 ? 1 : 0;
    }
    case "synth-summary": {
      const summaries = summarizeOutDir(flags.out);
      console.log(synthMarkdown(summaries));
      return summaries.some((summary) => summary.error) ? 1 : 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
