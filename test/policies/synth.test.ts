import { strict as assert } from "assert";
import * as path from "path";
import { loadPackConfig, runPolicyPack } from "../../policies/harness";
import { policies } from "../../policies/pack";
import type { SynthResult } from "../../synth/types";
import { stackNames } from "../../synth/stacks";
import { synthesizedStack } from "../support/stacks";

/** A deep copy of a synthesized stack with one resource's inputs changed, to prove the policies see the real shape. */
function withInputs(
  result: SynthResult,
  type: string,
  change: (inputs: Record<string, unknown>) => void,
): SynthResult {
  const copy = JSON.parse(JSON.stringify(result)) as SynthResult;
  const target = copy.resources.find((resource) => resource.type === type);
  if (!target) throw new Error(`no ${type} in ${result.stack}`);
  change(target.inputs);
  return copy;
}

describe("policies: the sample stacks as synthesized from Pulumi.<stack>.yaml", function () {
  this.timeout(120_000);

  // Every Pulumi.<stack>.yaml at the root, so a new sample stack is covered without editing this list.
  const stacks = stackNames(path.join(__dirname, "..", ".."));
  it("finds the sample stacks, the managed Argo CD one included", () => {
    for (const stack of ["dev", "prod", "staging", "managed-argocd"])
      assert.ok(stacks.includes(stack), stack);
  });

  for (const stack of stacks) {
    it(`${stack} passes with no mandatory (and no advisory) violations`, async () => {
      const report = runPolicyPack(await synthesizedStack(stack), loadPackConfig(stack));
      assert.deepEqual(report.violations, []);
      assert.equal(report.mandatoryCount, 0);
      assert.equal(report.passed.length, policies.length);
    });
  }

  it("would catch the managed Argo CD sample without its private endpoint", async () => {
    const sample = withInputs(
      await synthesizedStack("managed-argocd"),
      "aws:eks/capability:Capability",
      (inputs) => {
        const argoCd = (inputs.configuration as { argoCd: Record<string, unknown> }).argoCd;
        delete argoCd.networkAccess;
      },
    );
    const packConfig = loadPackConfig("managed-argocd");
    const report = runPolicyPack(sample, packConfig);
    assert.deepEqual(
      report.violations.map((violation) => [violation.policy, violation.enforcementLevel]),
      [["argocd-capability-private", "mandatory"]],
    );
    // A dev stack that opts out (gitops.argocd.publicEndpoint) records the exception, with reason and expiry, in
    // its pack config; the same stack then passes.
    const settings = packConfig["pack-settings"] as Record<string, unknown>;
    const exempted = runPolicyPack(sample, {
      ...packConfig,
      "pack-settings": {
        ...settings,
        exemptions: [
          {
            resource: "gitops-argocd",
            policy: "argocd-capability-private",
            reason: "no VPN into the dev VPC yet",
            expires: "2999-12-31",
          },
        ],
      },
    });
    assert.deepEqual(exempted.violations, []);
  });

  it("would catch a public endpoint and creator admin on the real dev cluster", async () => {
    const dev = await synthesizedStack("dev");
    const broken = withInputs(dev, "aws:eks/cluster:Cluster", (inputs) => {
      inputs.vpcConfig = {
        ...(inputs.vpcConfig as object),
        endpointPublicAccess: true,
        publicAccessCidrs: ["0.0.0.0/0"],
      };
      inputs.accessConfig = { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true };
    });
    const report = runPolicyPack(broken, loadPackConfig("dev"));
    assert.deepEqual(report.violations.map((violation) => violation.policy).sort(), [
      "eks-endpoint-private",
      "eks-no-creator-admin",
    ]);
  });

  it("would catch prod without deletion protection, and dev without an expiry tag", async () => {
    const prod = withInputs(await synthesizedStack("prod"), "aws:eks/cluster:Cluster", (inputs) => {
      inputs.deletionProtection = false;
    });
    assert.deepEqual(
      runPolicyPack(prod, loadPackConfig("prod")).violations.map((violation) => violation.policy),
      ["prod-deletion-protection"],
    );
    const dev = withInputs(await synthesizedStack("dev"), "aws:eks/cluster:Cluster", (inputs) => {
      inputs.tags = { ...(inputs.tags as object), "expires-on": undefined };
    });
    assert.deepEqual(
      runPolicyPack(dev, loadPackConfig("dev")).violations.map((violation) => violation.policy),
      ["dev-expiry-tag"],
    );
  });
});
