import { strict as assert } from "assert";
import { devExpiryTag, devSingleNat, prodDeletionProtection, prodNatPerAz } from "../../policies/cost";
import { goodCluster, validateResource, validateStack, withSettings } from "./support";

const clusterType = "aws:eks/cluster:Cluster";
const nat = "aws:ec2/natGateway:NatGateway";
const vpc = "aws:ec2/vpc:Vpc";
const subnet = "aws:ec2/subnet:Subnet";
const dev = { environment: "dev" } as const;
const prod = { environment: "prod" } as const;

describe("policies: cost hygiene", () => {
  describe("dev-expiry-tag", () => {
    const devTags = { environment: "dev", "expires-on": "2026-12-31" };

    it("passes a dev stack whose tagged resources carry expires-on, and ignores prod", () => {
      const stack = [
        { type: vpc, name: "vpc", props: { tags: devTags } },
        { type: clusterType, name: "cluster", props: goodCluster({ tags: devTags }) },
        {
          type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          name: "untaggable",
          props: { role: "x" },
        },
      ];
      assert.deepEqual(
        withSettings(dev, () => validateStack(devExpiryTag, stack)),
        [],
      );
      const untagged = [{ type: vpc, name: "vpc", props: {} }];
      assert.deepEqual(
        withSettings(prod, () => validateStack(devExpiryTag, untagged)),
        [],
      );
    });

    it("reports once per stack, on the cluster, when dev resources lack the tag", () => {
      const violations = withSettings(dev, () =>
        validateStack(devExpiryTag, [
          { type: vpc, name: "vpc", props: { tags: { environment: "dev" } } },
          {
            type: clusterType,
            name: "cluster",
            props: goodCluster({ tags: { environment: "dev", "expires-on": "soon" } }),
          },
        ]),
      );
      assert.deepEqual(violations, [
        {
          message:
            "2 of 2 taggable resources in this dev stack (first: cluster) have no valid expires-on tag (YYYY-MM-DD), so the expiry workflow would never clean it up; set expiresOn in Pulumi.<stack>.yaml.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/cluster:Cluster::cluster",
        },
      ]);
    });

    it("takes the environment from the pack settings, not tags: a dev stack whose resources say prod, or carry no tags at all, is still checked", () => {
      const disguised = [
        { type: vpc, name: "vpc", props: { tags: { environment: "prod" } } },
        { type: clusterType, name: "cluster", props: goodCluster({ tags: undefined }) },
      ];
      const violations = withSettings(dev, () => validateStack(devExpiryTag, disguised));
      assert.equal(violations.length, 1);
      assert.match(violations[0].message, /^2 of 2 taggable resources/);
    });
  });

  describe("dev-single-nat", () => {
    it("advises one NAT gateway in dev, allows one per AZ elsewhere", () => {
      const gateways = [
        { type: vpc, name: "vpc", props: {} },
        { type: nat, name: "nat-a", props: {} },
        { type: nat, name: "nat-b", props: {} },
        { type: nat, name: "nat-c", props: {} },
      ];
      assert.equal(devSingleNat.enforcementLevel, "advisory");
      assert.deepEqual(
        withSettings(dev, () => validateStack(devSingleNat, gateways)),
        [
          {
            message:
              "This dev stack runs 3 public NAT gateways (one per AZ); a dev cluster does not need AZ-independent egress: set network.natGateways: single.",
            urn: "urn:pulumi:test::eks-gitops-platform::aws:ec2/natGateway:NatGateway::nat-b",
          },
        ],
      );
      assert.deepEqual(
        withSettings(prod, () => validateStack(devSingleNat, gateways)),
        [],
      );
      assert.deepEqual(
        withSettings(dev, () => validateStack(devSingleNat, gateways.slice(0, 2))),
        [],
      );
    });
  });

  describe("prod-nat-per-az", () => {
    const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    const stack = (gatewayZones: string[]) => [
      { type: vpc, name: "vpc", props: {} },
      ...zones.map((zone) => ({ type: subnet, name: `public-${zone}`, props: { availabilityZone: zone } })),
      ...gatewayZones.map((zone, index) => ({
        type: nat,
        name: `nat-${index}`,
        props: {},
        propertyDependencies: { subnetId: [`public-${zone}`] },
      })),
    ];

    it("rejects a single NAT gateway (or two in one AZ) on prod, naming the count and the fix", () => {
      assert.deepEqual(
        withSettings(prod, () => validateStack(prodNatPerAz, stack(["eu-west-1a"]))),
        [
          {
            message:
              "This prod stack runs 1 public NAT gateway serving 1 of 3 availability zones; losing that AZ cuts egress (image pulls, AWS APIs) for the nodes in the others: set network.natGateways: perAz.",
            urn: "urn:pulumi:test::eks-gitops-platform::aws:ec2/natGateway:NatGateway::nat-0",
          },
        ],
      );
      assert.equal(
        withSettings(prod, () =>
          validateStack(prodNatPerAz, stack(["eu-west-1a", "eu-west-1a", "eu-west-1b"])),
        ).length,
        1,
      );
    });

    it("accepts one NAT gateway per AZ on prod, and a single one elsewhere", () => {
      assert.deepEqual(
        withSettings(prod, () => validateStack(prodNatPerAz, stack(zones))),
        [],
      );
      assert.deepEqual(
        withSettings(dev, () => validateStack(prodNatPerAz, stack(["eu-west-1a"]))),
        [],
      );
    });
  });

  describe("prod-deletion-protection", () => {
    it("requires deletion protection on prod clusters only", () => {
      assert.deepEqual(
        withSettings(prod, () => validateResource(prodDeletionProtection, clusterType, goodCluster())),
        [],
      );
      assert.deepEqual(
        withSettings(prod, () =>
          validateResource(prodDeletionProtection, clusterType, goodCluster({ deletionProtection: false })),
        ),
        [
          "deletionProtection is false on a prod cluster: one mistaken destroy deletes it with every workload; set cluster.deletionProtection: true.",
        ],
      );
      const unprotected = goodCluster({ deletionProtection: undefined });
      assert.deepEqual(
        withSettings(dev, () => validateResource(prodDeletionProtection, clusterType, unprotected)),
        [],
      );
    });

    it("is not talked past by an environment tag: a prod stack's cluster tagged staging is still prod", () => {
      const disguised = goodCluster({ deletionProtection: undefined, tags: { environment: "staging" } });
      assert.deepEqual(
        withSettings(prod, () => validateResource(prodDeletionProtection, clusterType, disguised)),
        [
          "deletionProtection is unset (off) on a prod cluster: one mistaken destroy deletes it with every workload; set cluster.deletionProtection: true.",
        ],
      );
    });

    it("judges a stack whose pack settings name no environment as prod", () => {
      const unprotected = goodCluster({ deletionProtection: false });
      assert.equal(
        withSettings({}, () => validateResource(prodDeletionProtection, clusterType, unprotected)).length,
        1,
      );
    });
  });
});
