import { strict as assert } from "node:assert";
import * as path from "node:path";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { fleetDeployWaves, fleetDestroyWaves } from "../../pipeline/fleet-order";
import { parseStackFile, StackInfo } from "../../pipeline/stacks";

const project = "eks-gitops-platform";
const sample = (stack: string): StackInfo => {
  const file = path.join("examples", "fleet", `Pulumi.${stack}.yaml`);
  return parseStackFile(stack, file, readFileSync(file, "utf8"), project);
};
const plain = (name: string, fleet?: Record<string, unknown>): StackInfo => ({
  name,
  file: `Pulumi.${name}.yaml`,
  config: fleet ? { fleet } : {},
});

describe("pipeline: fleet deploy and destroy order", () => {
  it("the sample fleet: hub before its spokes on up, spokes before the hub on destroy", () => {
    const stacks = ["fleet-spoke-b", "fleet-hub", "fleet-spoke-a"].map(sample);
    assert.deepEqual(fleetDeployWaves(stacks, project), [["fleet-hub"], ["fleet-spoke-a", "fleet-spoke-b"]]);
    assert.deepEqual(fleetDestroyWaves(stacks, project), [["fleet-spoke-a", "fleet-spoke-b"], ["fleet-hub"]]);
  });

  it("standalone stacks go with the hubs; a spoke of a hub elsewhere waits for nothing", () => {
    const stacks = [
      plain("dev"),
      plain("hub", { role: "hub" }),
      plain("spoke", { role: "spoke", hub: `acme/${project}/hub` }),
      plain("remote-spoke", { role: "spoke", hub: "acme/other-project/hub" }),
      plain("orphan", { role: "spoke", hub: `acme/${project}/no-such-stack` }),
    ];
    assert.deepEqual(fleetDeployWaves(stacks, project), [
      ["dev", "hub", "orphan", "remote-spoke"],
      ["spoke"],
    ]);
    assert.deepEqual(fleetDeployWaves([plain("dev"), plain("prod")], project), [["dev", "prod"]]);
    assert.deepEqual(fleetDestroyWaves([], project), []);
  });

  it("the deploy jobs docs/gitops.md tells a team to add follow the waves and the real deploy workflow", () => {
    const doc = readFileSync(path.join("docs", "gitops.md"), "utf8");
    const start = doc.indexOf("a test checks these jobs against `fleetDeployWaves`");
    assert.ok(start > 0, "the Fleet section shows the jobs");
    const block = /```yaml\n([\s\S]*?)```/.exec(doc.slice(start));
    assert.ok(block, "a yaml block follows");
    type Job = {
      needs?: string | string[];
      if?: string;
      uses?: string;
      with?: Record<string, string>;
      secrets?: object;
    };
    const jobs = parse(block[1]) as Record<string, Job>;
    const stacks = ["fleet-hub", "fleet-spoke-a", "fleet-spoke-b"].map(sample);
    const waves = fleetDeployWaves(stacks, project);
    assert.deepEqual(Object.keys(jobs).sort(), waves.flat().sort());
    const needsOf = (job: Job) => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));
    waves.forEach((wave, index) => {
      for (const name of wave) {
        const job = jobs[name];
        const within = needsOf(job).filter((need) => need in jobs);
        assert.deepEqual(within.sort(), index === 0 ? [] : [...waves[index - 1]].sort(), `${name} needs`);
        const stack = stacks.find((candidate) => candidate.name === name) as StackInfo;
        assert.deepEqual(job.with, { stack: name, environment: stack.environment, command: "up" });
      }
    });
    const deploy = parse(readFileSync(path.join(".github", "workflows", "deploy.yml"), "utf8")) as {
      jobs: Record<string, Job>;
    };
    const reusable = parse(readFileSync(path.join(".github", "workflows", "pulumi-stack.yml"), "utf8")) as {
      on: { workflow_call: { inputs: Record<string, unknown> } };
    };
    for (const [name, job] of Object.entries(jobs)) {
      // Same reusable workflow, main-only guard and secrets as the repository's own prod job.
      assert.equal(job.uses, deploy.jobs.prod.uses, name);
      assert.equal(job.if, deploy.jobs.prod.if, name);
      assert.deepEqual(job.secrets, deploy.jobs.prod.secrets, name);
      for (const input of Object.keys(job.with ?? {}))
        assert.ok(input in reusable.on.workflow_call.inputs, `${name}: pulumi-stack.yml takes ${input}`);
      for (const need of needsOf(job))
        assert.ok(need in jobs || need in deploy.jobs, `${name} needs ${need}`);
    }
  });
});
