import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { clusterType, type ClusterProps } from "./eks-cluster";
import { stackEnvironment } from "./lib/settings";
import { at, atPath, forType, tag, UNKNOWN } from "./lib/values";

export type NatGatewayProps = pulumi.Unwrap<aws.ec2.NatGatewayArgs>;
export const natGatewayType = "aws:ec2/natGateway:NatGateway";

/**
 * Resource types that always carry the platform's tags. In a dev stack each must have `expires-on`, whether or not
 * it carries other tags: dropping every tag from a resource does not take it out of the check.
 */
export const alwaysTaggedTypes = [
  clusterType,
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/natGateway:NatGateway",
  "aws:kms/key:Key",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:eks/nodeGroup:NodeGroup",
];

export const devExpiryTag: StackValidationPolicy = {
  name: "dev-expiry-tag",
  description:
    "Dev stacks are disposable and must say when: set expiresOn: YYYY-MM-DD in the stack config so every resource carries the expires-on tag the expiry workflow reads.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    if (stackEnvironment() !== "dev") return;
    // Judged: every resource that carries tags, and every resource of a type that must (tags or not).
    const judged = args.resources.filter((resource) => {
      const tags = atPath(resource.props, "tags");
      return alwaysTaggedTypes.includes(resource.type) || (tags !== undefined && tags !== UNKNOWN);
    });
    const missing = judged.filter((resource) => {
      const expiry = tag(resource.props, "expires-on");
      return expiry !== UNKNOWN && (expiry === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(expiry));
    });
    if (missing.length === 0) return;
    const first = missing.find((resource) => resource.type === clusterType) ?? missing[0];
    reportViolation(
      `${missing.length} of ${judged.length} taggable resources in this dev stack (first: ${first.name}) have no valid expires-on tag (YYYY-MM-DD), so the expiry workflow would never clean it up; set expiresOn in Pulumi.<stack>.yaml.`,
      first.urn,
    );
  },
};

export const devSingleNat: StackValidationPolicy = {
  name: "dev-single-nat",
  description:
    "Dev stacks should use one NAT gateway (about $32/month each plus data): set network.natGateways: single.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    if (stackEnvironment() !== "dev") return;
    const gateways = publicNatGateways(args.resources);
    if (gateways.length > 1) {
      reportViolation(
        `This dev stack runs ${gateways.length} public NAT gateways (one per AZ); a dev cluster does not need AZ-independent egress: set network.natGateways: single.`,
        gateways[1].urn,
      );
    }
  },
};

export const prodDeletionProtection: ResourceValidationPolicy = {
  name: "prod-deletion-protection",
  description:
    "Production clusters must have deletion protection: set deletionProtection: true (cluster.deletionProtection).",
  enforcementLevel: "mandatory",
  validateResource: forType<ClusterProps>(clusterType, (cluster, _args, reportViolation) => {
    if (stackEnvironment() !== "prod") return;
    const protection = at(cluster, "deletionProtection");
    if (protection === UNKNOWN || protection === true) return;
    reportViolation(
      `deletionProtection is ${protection === undefined ? "unset (off)" : "false"} on a prod cluster: one mistaken destroy deletes it with every workload; set cluster.deletionProtection: true.`,
    );
  }),
};

function publicNatGateways(resources: readonly PolicyResource[]): PolicyResource[] {
  return resources.filter(
    (resource) =>
      resource.type === natGatewayType &&
      at(resource.props as NatGatewayProps, "connectivityType") !== "private",
  );
}

/**
 * The AZs of the NAT gateways' subnets (their availabilityZone, else the count of gateways when the subnets are
 * not in the stack). Prod needs one per AZ: with a single NAT gateway, losing its AZ cuts every node's egress.
 */
export const prodNatPerAz: StackValidationPolicy = {
  name: "prod-nat-per-az",
  description:
    "Prod stacks need a NAT gateway in every availability zone, so losing one AZ does not cut the other AZs' egress: set network.natGateways: perAz.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    if (stackEnvironment() !== "prod") return;
    const vpcs = args.resources.filter((resource) => resource.type === "aws:ec2/vpc:Vpc");
    if (vpcs.length === 0) return;
    const gateways = publicNatGateways(args.resources);
    const subnetZones = new Set(
      args.resources
        .filter((resource) => resource.type === "aws:ec2/subnet:Subnet")
        .map((subnet) => at(subnet.props as pulumi.Unwrap<aws.ec2.SubnetArgs>, "availabilityZone"))
        .filter((zone): zone is string => typeof zone === "string"),
    );
    const gatewayZones = gateways.map((gateway) => {
      const subnet = (gateway.propertyDependencies["subnetId"] ?? [])[0];
      return subnet ? at(subnet.props as pulumi.Unwrap<aws.ec2.SubnetArgs>, "availabilityZone") : undefined;
    });
    // Gateways whose subnet AZ cannot be read count as one AZ each.
    const zonesServed = gatewayZones.every((zone) => typeof zone === "string")
      ? new Set(gatewayZones).size
      : gateways.length;
    const zonesNeeded = Math.max(subnetZones.size, 2);
    if (gateways.length === 0 || zonesServed >= zonesNeeded) return;
    reportViolation(
      `This prod stack runs ${gateways.length} public NAT gateway${gateways.length === 1 ? "" : "s"} serving ${zonesServed} of ${zonesNeeded} availability zones; losing that AZ cuts egress (image pulls, AWS APIs) for the nodes in the others: set network.natGateways: perAz.`,
      gateways[0].urn,
    );
  },
};
