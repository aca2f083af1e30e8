import { strict as assert } from "assert";
import { devExpiryTag, devSingleNat, prodDeletionProtection } from "../../policies/cost";
import { goodCluster, validateResource, validateStack } from "./support";

const clusterType = "aws:eks/cluster:Cluster";
const nat = "aws:ec2/natGateway:NatGateway";
const vpc = "aws:ec2/vpc:Vpc";

describe("policies: cost hygiene", () => {
  describe("dev-expiry-tag", () => {
    const devTags = { environment: "dev", "expires-on": "2026-12-31" };

    it("passes a dev stack whose tagged resources carry expires-on, and ignores prod", () => {
      assert.deepEqual(
        validateStack(devExpiryTag, [
          { type: vpc, name: "vpc", props: { tags: devTags } },
          { type: clusterType, name: "cluster", props: goodCluster({ tags: devTags }) },
          {
            type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            name: "untaggable",
            props: { role: "x" },
          },
        ]),
        [],
      );
      assert.deepEqual(
        validateStack(devExpiryTag, [{ type: vpc, name: "vpc", props: { tags: { environment: "prod" } } }]),
        [],
      );
    });

    it("reports once per stack, on the cluster, when dev resources lack the tag", () => {
      const violations = validateStack(devExpiryTag, [
        { type: vpc, name: "vpc", props: { tags: { environment: "dev" } } },
        {
          type: clusterType,
          name: "cluster",
          props: goodCluster({ tags: { environment: "dev", "expires-on": "soon" } }),
        },
      ]);
      assert.deepEqual(violations, [
        {
          message:
            "2 of 2 tagged resources in this dev stack have no valid expires-on tag (YYYY-MM-DD), so the expiry workflow would never clean it up; set expiresOn in Pulumi.<stack>.yaml.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/cluster:Cluster::cluster",
        },
      ]);
    });

    it("uses the pack config environment when resources carry no environment tag", () => {
      const untagged = [{ type: vpc, name: "vpc", props: { tags: { project: "x" } } }];
      assert.deepEqual(validateStack(devExpiryTag, untagged), []);
      assert.equal(validateStack(devExpiryTag, untagged, { environment: "dev" }).length, 1);
    });
  });

  describe("dev-single-nat", () => {
    it("advises one NAT gateway in dev, allows one per AZ elsewhere", () => {
      const gateways = (environment: string) => [
        { type: vpc, name: "vpc", props: { tags: { environment } } },
        { type: nat, name: "nat-a", props: { tags: { environment } } },
        { type: nat, name: "nat-b", props: { tags: { environment } } },
        { type: nat, name: "nat-c", props: { tags: { environment } } },
      ];
      assert.equal(devSingleNat.enforcementLevel, "advisory");
      assert.deepEqual(validateStack(devSingleNat, gateways("dev")), [
        {
          message:
            "This dev stack runs 3 public NAT gateways (one per AZ); a dev cluster does not need AZ-independent egress: set network.natGateways: single.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:ec2/natGateway:NatGateway::nat-b",
        },
      ]);
      assert.deepEqual(validateStack(devSingleNat, gateways("prod")), []);
      assert.deepEqual(validateStack(devSingleNat, gateways("dev").slice(0, 2)), []);
    });
  });

  describe("prod-deletion-protection", () => {
    it("requires deletion protection on prod clusters only", () => {
      assert.deepEqual(validateResource(prodDeletionProtection, clusterType, goodCluster()), []);
      assert.deepEqual(
        validateResource(prodDeletionProtection, clusterType, goodCluster({ deletionProtection: false })),
        [
          "deletionProtection is false on a prod cluster: one mistaken destroy deletes it with every workload; set cluster.deletionProtection: true.",
        ],
      );
      const dev = goodCluster({ deletionProtection: undefined, tags: { environment: "dev" } });
      assert.deepEqual(validateResource(prodDeletionProtection, clusterType, dev), []);
    });

    it("prefers the resource's environment tag over the pack config fallback", () => {
      const untagged = goodCluster({ deletionProtection: undefined, tags: undefined });
      assert.deepEqual(validateResource(prodDeletionProtection, clusterType, untagged), []);
      assert.deepEqual(
        validateResource(prodDeletionProtection, clusterType, untagged, { environment: "prod" }),
        [
          "deletionProtection is unset (off) on a prod cluster: one mistaken destroy deletes it with every workload; set cluster.deletionProtection: true.",
        ],
      );
      const taggedDev = goodCluster({ deletionProtection: false, tags: { environment: "dev" } });
      assert.deepEqual(
        validateResource(prodDeletionProtection, clusterType, taggedDev, { environment: "prod" }),
        [],
      );
    });
  });
});
