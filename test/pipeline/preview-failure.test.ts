import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Job, runnerShell, workflows } from "./workflow-files";
import { requireTool } from "../support/tools";

/**
 * When `pulumi preview` fails, pulumi/actions throws before it comments, so the PR would keep showing the stack's
 * last clean preview. preview.yml's `if: failure()` step rewrites that stack's comment as FAILED. These tests run
 * the step's own shell against a stand-in `gh` (jq evaluates its --jq filter, as gh's built-in gojq would).
 */

const previewWorkflow = workflows["preview.yml"];
const job: Job = previewWorkflow.jobs.preview;
const jobSteps = job.steps ?? [];

/** The pulumi/actions commit preview.yml pins, whose comment format the step reproduces (v7.0.0). */
const pulumiActionsV7 = "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d";

/** pulumi/actions v7.0.0 src/libs/pr.ts: the heading of its PR comment, and how it finds the comment to edit. */
function pulumiActionsHeading(command: string, project: string, stack: string): string {
  return `#### :tropical_drink: \`${command}\` on ${project}/${stack}`;
}
const pulumiActionsSummary = "<summary>Pulumi report</summary>";
function pulumiActionsFinds(body: string, heading: string): boolean {
  return body.startsWith(heading) && body.includes(pulumiActionsSummary);
}
/** A comment body as pulumi/actions v7.0.0 writes it (dedent of heading, details, summary, pre). */
function pulumiActionsBody(heading: string, output: string): string {
  return `${heading}\n\n<details>\n${pulumiActionsSummary}\n\n<pre>\n${output}\n</pre>\n\n</details>`;
}

const pulumiIndex = jobSteps.findIndex((step) => (step.uses ?? "").startsWith("pulumi/actions@"));
const failureIndex = jobSteps.findIndex((step) => step.if === "failure()");
const failure = jobSteps[failureIndex];

const fakeGh = `#!/usr/bin/env bash
# Stand-in for \`gh api\`: GETs answer from $FAKE_GH_COMMENTS through the --jq filter; every call is logged.
set -euo pipefail
[ "$1" = api ] || exit 2
shift
method=GET filter="" path="" body=""
while [ $# -gt 0 ]; do
  case "$1" in
    --method) method="$2"; shift 2 ;;
    --paginate) shift ;;
    --jq) filter="$2"; shift 2 ;;
    -f) body="\${2#body=}"; shift 2 ;;
    *) path="$1"; shift ;;
  esac
done
jq -cn --arg method "$method" --arg path "$path" --arg body "$body" --arg filter "$filter" \\
  '{method: $method, path: $path, body: $body, filter: $filter}' >> "$FAKE_GH_LOG"
if [ "$method" = GET ] && [ -n "\${FAKE_GH_FAIL:-}" ]; then echo "gh: HTTP 502" >&2; exit 1; fi
if [ "$method" = GET ]; then jq -r "$filter" "$FAKE_GH_COMMENTS"; fi
`;

interface Call {
  method: string;
  path: string;
  body: string;
  filter: string;
}

/**
 * Runs the failure step's script as the runner does (its shell and options, see workflow-files.ts) with the given PR
 * comments; returns the exit status and the gh calls it made. `lookupFails` makes gh's GET fail.
 */
function runFailureStepRaw(
  comments: unknown[],
  stack = "acme/dev",
  lookupFails = false,
): { status: number | null; output: string; calls: Call[] } {
  const dir = mkdtempSync(join(tmpdir(), "preview-failure-"));
  try {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "gh"), fakeGh);
    chmodSync(join(bin, "gh"), 0o755);
    writeFileSync(join(dir, "comments.json"), JSON.stringify(comments));
    const log = join(dir, "calls.jsonl");
    writeFileSync(log, "");
    const script = join(dir, "step.sh");
    writeFileSync(script, failure.run as string);
    const shell = runnerShell(previewWorkflow, job, failure);
    const result = spawnSync(
      shell.command,
      shell.args.map((arg) => arg.replace("{0}", script)),
      {
        encoding: "utf8",
        env: {
          ...(lookupFails ? { FAKE_GH_FAIL: "1" } : {}),
          PATH: `${bin}:${process.env.PATH ?? ""}`,
          FAKE_GH_COMMENTS: join(dir, "comments.json"),
          FAKE_GH_LOG: log,
          GH_TOKEN: "token",
          GITHUB_SERVER_URL: "https://github.com",
          GITHUB_REPOSITORY: "acme/eks-gitops-platform",
          GITHUB_RUN_ID: "4242",
          GITHUB_RUN_ATTEMPT: "2",
          PR_NUMBER: "7",
          HEAD_SHA: "0123abcd",
          PROJECT: "eks-gitops-platform",
          PREVIEW_STACK: stack,
        },
      },
    );
    return {
      status: result.status,
      output: `${result.stdout}${result.stderr}`,
      calls: readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Call),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The failure step with a working gh: it must succeed; returns the gh calls it made. */
function runFailureStep(comments: unknown[], stack = "acme/dev"): Call[] {
  const run = runFailureStepRaw(comments, stack);
  assert.equal(run.status, 0, run.output);
  return run.calls;
}

describe("workflows: preview marks a failed stack's comment as FAILED", () => {
  const heading = pulumiActionsHeading("preview", "eks-gitops-platform", "acme/dev");
  const runUrl = "https://github.com/acme/eks-gitops-platform/actions/runs/4242/attempts/2";
  const bot = { login: "github-actions[bot]" };

  it("has an `if: failure()` step after pulumi/actions (pinned at v7.0.0) in the same job", () => {
    assert.equal(jobSteps[pulumiIndex].uses, pulumiActionsV7, "a new pulumi/actions may change its heading");
    assert.ok(failureIndex > pulumiIndex, "the failure step must come after the preview");
    assert.equal(failure.env?.GH_TOKEN, "${{ github.token }}");
    assert.equal(failure.env?.PROJECT, "${{ needs.stacks.outputs.project }}");
    assert.doesNotMatch(
      failure.run ?? "",
      /\$\{\{/,
      "no expressions inside the script: values come from env",
    );
    assert.deepEqual(
      job.permissions,
      { contents: "read", "id-token": "write", "pull-requests": "write" },
      "no permission beyond what the preview already had",
    );
  });

  it("edits the stack's existing pulumi/actions comment, not another stack's, a human's or the cost comment (gh stand-in on jq)", function () {
    requireTool(this, "jq");
    const calls = runFailureStep([
      { id: 1, user: { login: "alice" }, body: pulumiActionsBody(heading, "mine") },
      { id: 2, user: bot, body: "<!-- eks-gitops-platform:cost-estimate -->\ncosts" },
      {
        id: 3,
        user: bot,
        body: pulumiActionsBody(pulumiActionsHeading("preview", "eks-gitops-platform", "acme/dev-eu"), "x"),
      },
      { id: 4, user: bot, body: pulumiActionsBody(heading, "Resources: 3 unchanged") },
    ]);
    assert.deepEqual(
      calls.map((call) => `${call.method} ${call.path}`),
      [
        "GET repos/acme/eks-gitops-platform/issues/7/comments",
        "PATCH repos/acme/eks-gitops-platform/issues/comments/4",
      ],
    );
    const body = calls[1].body;
    assert.ok(body.startsWith(`${heading}\n`), body);
    assert.match(body, /FAILED/);
    assert.ok(body.includes(`(${runUrl})`), "links to the run");
    assert.match(body, /0123abcd/);
    assert.doesNotMatch(body, /Resources: 3 unchanged/, "the stale preview is gone");
    assert.ok(pulumiActionsFinds(body, heading), "the next successful preview must edit this comment back");
  });

  it("fails, posting nothing, when the lookup of existing comments fails (bash -e -o pipefail; gh stand-in on jq)", function () {
    requireTool(this, "jq");
    const run = runFailureStepRaw(
      [{ id: 4, user: bot, body: pulumiActionsBody(heading, "old") }],
      "acme/dev",
      true,
    );
    assert.notEqual(run.status, 0, "a failed gh api must fail the step");
    assert.deepEqual(
      run.calls.map((call) => call.method),
      ["GET"],
      "no duplicate comment posted after a failed lookup",
    );
  });

  it("posts a new FAILED comment when the stack has none yet (gh stand-in on jq)", function () {
    requireTool(this, "jq");
    const calls = runFailureStep([{ id: 9, user: bot, body: "unrelated" }], "staging");
    assert.deepEqual(
      calls.map((call) => `${call.method} ${call.path}`),
      [
        "GET repos/acme/eks-gitops-platform/issues/7/comments",
        "POST repos/acme/eks-gitops-platform/issues/7/comments",
      ],
    );
    const stagingHeading = pulumiActionsHeading("preview", "eks-gitops-platform", "staging");
    assert.ok(calls[1].body.startsWith(`${stagingHeading}\n`));
    assert.match(calls[1].body, /FAILED/);
    assert.ok(pulumiActionsFinds(calls[1].body, stagingHeading));
  });
});
