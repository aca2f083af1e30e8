import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { clusterType, type ClusterProps } from "./eks-cluster";
import { at, atPath, environmentOf, forType, stackEnvironment, tag, UNKNOWN } from "./lib/values";

export type NatGatewayProps = pulumi.Unwrap<aws.ec2.NatGatewayArgs>;
export const natGatewayType = "aws:ec2/natGateway:NatGateway";

/**
 * These policies need the environment. It is read from the `environment` tag the core program puts on every
 * taggable resource (from the validated stack config); the policy config key `environment` is only the fallback
 * for untagged resources.
 */
const environmentSchema = {
  properties: { environment: { type: "string" as const, enum: ["dev", "staging", "prod"] } },
};

export const devExpiryTag: StackValidationPolicy = {
  name: "dev-expiry-tag",
  description:
    "Dev stacks are disposable and must say when: set expiresOn: YYYY-MM-DD in the stack config so every resource carries the expires-on tag the expiry workflow reads.",
  enforcementLevel: "mandatory",
  configSchema: environmentSchema,
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<{ environment?: string }>();
    if (stackEnvironment(args.resources, config) !== "dev") return;
    // Judge the resources that carry tags at all; one violation per stack, pointing at the first offender.
    const tagged = args.resources.filter((resource) => {
      const tags = atPath(resource.props, "tags");
      return tags !== undefined && tags !== UNKNOWN && typeof tags === "object";
    });
    const missing = tagged.filter((resource) => {
      const expiry = tag(resource.props, "expires-on");
      return expiry !== UNKNOWN && (expiry === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(expiry));
    });
    if (missing.length === 0) return;
    const first = missing.find((resource) => resource.type === clusterType) ?? missing[0];
    reportViolation(
      `${missing.length} of ${tagged.length} tagged resources in this dev stack have no valid expires-on tag (YYYY-MM-DD), so the expiry workflow would never clean it up; set expiresOn in Pulumi.<stack>.yaml.`,
      first.urn,
    );
  },
};

export const devSingleNat: StackValidationPolicy = {
  name: "dev-single-nat",
  description:
    "Dev stacks should use one NAT gateway (about $32/month each plus data): set network.natGateways: single.",
  enforcementLevel: "advisory",
  configSchema: environmentSchema,
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<{ environment?: string }>();
    if (stackEnvironment(args.resources, config) !== "dev") return;
    const gateways = args.resources.filter(
      (resource) =>
        resource.type === natGatewayType &&
        at(resource.props as NatGatewayProps, "connectivityType") !== "private",
    );
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
  configSchema: environmentSchema,
  validateResource: forType<ClusterProps>(clusterType, (cluster, args, reportViolation) => {
    if (environmentOf(cluster, args.getConfig<{ environment?: string }>()) !== "prod") return;
    const protection = at(cluster, "deletionProtection");
    if (protection === UNKNOWN || protection === true) return;
    reportViolation(
      `deletionProtection is ${protection === undefined ? "unset (off)" : "false"} on a prod cluster: one mistaken destroy deletes it with every workload; set cluster.deletionProtection: true.`,
    );
  }),
};
