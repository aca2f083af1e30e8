import { strict as assert } from "assert";
import { loadPackConfig, runPolicyPack } from "../../policies/harness";
import { iamRolePermissionsBoundary, roleBoundaryTagKey } from "../../policies/role-boundary";
import type { SynthResult } from "../../synth";
import { synthesizedStack } from "../support/stacks";
import { StackResourceSpec, UNKNOWN_VALUE, validateStack } from "./support";

const boundary = "arn:aws:iam::111122223333:policy/platform-eu-west-1-dev-role-boundary";
const cluster: StackResourceSpec = { type: "aws:eks/cluster:Cluster", name: "platform-dev", props: {} };
const role = (name: string, props: Record<string, unknown>): StackResourceSpec => ({
  type: "aws:iam/role:Role",
  name,
  props,
});
const bounded = (name: string, arn = boundary) =>
  role(name, { permissionsBoundary: arn, tags: { [roleBoundaryTagKey]: arn } });
const messages = (specs: StackResourceSpec[]) =>
  validateStack(iamRolePermissionsBoundary, specs).map((violation) => violation.message);

describe("policies: iam-role-permissions-boundary", () => {
  it("passes a cluster stack whose roles all carry one boundary and the tag naming it", () => {
    assert.deepEqual(messages([cluster, bounded("cluster"), bounded("node")]), []);
  });

  it("flags a role without a boundary, on the role (so an exemption can name it)", () => {
    const found = validateStack(iamRolePermissionsBoundary, [cluster, bounded("cluster"), role("node", {})]);
    assert.equal(found.length, 1);
    assert.match(found[0].message, /^Role node has no permissionsBoundary/);
    assert.match(String(found[0].urn), /aws:iam\/role:Role::node$/);
  });

  it("flags a boundary tag that names another boundary, and roles with different boundaries", () => {
    const other = "arn:aws:iam::111122223333:policy/platform-eu-west-1-prod-role-boundary";
    const wrongTag = role("node", { permissionsBoundary: boundary, tags: { [roleBoundaryTagKey]: other } });
    assert.match(messages([cluster, bounded("cluster"), wrongTag])[0], /but tag permissions-boundary="?arn/);
    assert.match(
      messages([cluster, bounded("cluster"), bounded("node", other)])[0],
      /2 different permissions/,
    );
  });

  it("judges unknown boundaries at up, and leaves stacks without a cluster (the foundation's CI roles) alone", () => {
    assert.deepEqual(messages([cluster, role("node", { permissionsBoundary: UNKNOWN_VALUE })]), []);
    assert.deepEqual(messages([role("ci-dev-deploy", {})]), []);
  });

  it("is waived for one named role by a pack-settings exemption (resource, reason, expiry), like every rule", async () => {
    const dev = JSON.parse(JSON.stringify(await synthesizedStack("dev"))) as SynthResult;
    const node = dev.resources.find((resource) => resource.name === "platform-dev-node");
    assert.ok(node);
    delete (node.inputs as Record<string, unknown>).permissionsBoundary;
    const config = loadPackConfig("dev");
    const flagged = runPolicyPack(dev, config).violations.map((violation) => violation.policy);
    assert.deepEqual(flagged, ["iam-role-permissions-boundary"]);
    const settings = config["pack-settings"] as Record<string, unknown>;
    const exemption = {
      resource: "platform-dev-node",
      policy: "iam-role-permissions-boundary",
      reason: "created by hand before the foundation existed",
      expires: "2999-12-31",
    };
    const waived = runPolicyPack(dev, {
      ...config,
      "pack-settings": { ...settings, exemptions: [exemption] },
    });
    assert.deepEqual(waived.violations, []);
  });
});
