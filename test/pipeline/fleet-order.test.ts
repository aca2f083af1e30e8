import { strict as assert } from "node:assert";
import * as path from "node:path";
import { readFileSync } from "node:fs";
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
});
