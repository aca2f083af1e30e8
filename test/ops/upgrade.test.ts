import { strict as assert } from "node:assert";
import { kubernetesVersions } from "../../infra/config/kubernetes-versions";
import { synthesize, SynthResult } from "../../synth";

/** Every input that differs between two synthesized stacks, as "type name: key". */
function inputChanges(before: SynthResult, after: SynthResult): string[] {
  const byUrn = new Map(before.resources.map((resource) => [resource.urn, resource]));
  assert.deepEqual(
    after.resources.map((resource) => resource.urn).sort(),
    [...byUrn.keys()].sort(),
    "an upgrade adds or removes no resource",
  );
  const changes: string[] = [];
  for (const resource of after.resources) {
    const old = byUrn.get(resource.urn);
    if (!old) continue;
    for (const key of new Set([...Object.keys(old.inputs), ...Object.keys(resource.inputs)])) {
      if (JSON.stringify(old.inputs[key]) !== JSON.stringify(resource.inputs[key]))
        changes.push(`${resource.type} ${resource.name}: ${key}`);
    }
    assert.equal(resource.protect, old.protect, `${resource.name} keeps its protect flag`);
  }
  return changes.sort();
}

const [previous, newest] = kubernetesVersions.slice(-2).map((entry) => entry.version);

describe("ops/upgrade: one minor version up", function () {
  this.timeout(120_000);

  it(`in Auto Mode (dev) changes only the cluster's version input (${previous} → ${newest})`, async () => {
    const before = await synthesize("dev", { overrides: { cluster: { kubernetesVersion: previous } } });
    const after = await synthesize("dev", { overrides: { cluster: { kubernetesVersion: newest } } });
    const cluster = after.resources.find((resource) => resource.type === "aws:eks/cluster:Cluster");
    assert.deepEqual(inputChanges(before, after), [`aws:eks/cluster:Cluster ${cluster?.name}: version`]);
    assert.equal(cluster?.inputs.version, newest);
  });

  it("in karpenter mode (staging) moves the system node group with the cluster, which it depends on", async () => {
    const before = await synthesize("staging", { overrides: { cluster: { kubernetesVersion: previous } } });
    const after = await synthesize("staging", { overrides: { cluster: { kubernetesVersion: newest } } });
    const changes = inputChanges(before, after);
    const cluster = after.resources.find((resource) => resource.type === "aws:eks/cluster:Cluster");
    const nodeGroup = after.resources.find((resource) => resource.type === "aws:eks/nodeGroup:NodeGroup");
    assert.deepEqual(
      changes,
      [
        `aws:eks/cluster:Cluster ${cluster?.name}: version`,
        `aws:eks/nodeGroup:NodeGroup ${nodeGroup?.name}: version`,
      ].sort(),
    );
    // Pulumi updates the node group only after the control plane, because it depends on the cluster.
    assert.ok(nodeGroup?.dependencies.includes(cluster?.urn ?? ""), "node group depends on the cluster");
  });
});
