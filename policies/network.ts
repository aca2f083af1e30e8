import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { clusterType } from "./eks-cluster";
import {
  at,
  atPath,
  cidrPrefix,
  configWithDefaults,
  type ConfigSchemaWithDefaults,
  elements,
  forType,
  isAnywhere,
  isUnknown,
  show,
  tag,
  UNKNOWN,
} from "./lib/values";

export type SubnetProps = pulumi.Unwrap<aws.ec2.SubnetArgs>;
export const subnetType = "aws:ec2/subnet:Subnet";
export const securityGroupType = "aws:ec2/securityGroup:SecurityGroup";
export const ingressRuleType = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const egressRuleType = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
export const securityGroupRuleType = "aws:ec2/securityGroupRule:SecurityGroupRule";

/** The tag the AWS Load Balancer Controller / Auto Mode use to find internal subnets: our node and pod subnets. */
export const privateSubnetTag = "kubernetes.io/role/internal-elb";

export interface SubnetSizeConfig {
  /** Largest allowed prefix length for node/pod subnets (smaller number = bigger subnet). */
  maxPrefix: number;
}

const subnetSizeConfigSchema = {
  properties: { maxPrefix: { type: "integer", minimum: 16, maximum: 28, default: 20 } },
} satisfies ConfigSchemaWithDefaults<SubnetSizeConfig>;

export const vpcPodSubnetSize: ResourceValidationPolicy = {
  name: "vpc-pod-subnet-size",
  description:
    "Node and pod subnets (tagged kubernetes.io/role/internal-elb) must be /20 or larger, because every pod takes a VPC IP: use network.privateSubnetPrefix 19 or 20.",
  enforcementLevel: "mandatory",
  configSchema: subnetSizeConfigSchema,
  validateResource: forType<SubnetProps>(subnetType, (subnet, args, reportViolation) => {
    const config = configWithDefaults<SubnetSizeConfig>(subnetSizeConfigSchema, args.getConfig);
    if (tag(subnet, privateSubnetTag) === undefined) return;
    const cidr = at(subnet, "cidrBlock");
    if (typeof cidr !== "string") return;
    const prefix = cidrPrefix(cidr);
    if (prefix !== undefined && prefix > config.maxPrefix) {
      const addresses = 2 ** (32 - prefix) - 5;
      reportViolation(
        `Pod subnet ${cidr} holds only ${addresses} usable IPs, and every pod takes one; use a /${config.maxPrefix} or larger (network.privateSubnetPrefix 19 gives 8,187 per AZ).`,
      );
    }
  }),
};

export const vpcPrivateSubnetNoPublicIp: ResourceValidationPolicy = {
  name: "vpc-private-subnet-no-public-ip",
  description:
    "Private (node/pod) subnets must not give instances public IPs: set mapPublicIpOnLaunch: false on subnets tagged kubernetes.io/role/internal-elb.",
  enforcementLevel: "mandatory",
  validateResource: forType<SubnetProps>(subnetType, (subnet, _args, reportViolation) => {
    if (tag(subnet, privateSubnetTag) === undefined) return;
    if (at(subnet, "mapPublicIpOnLaunch") !== true) return;
    reportViolation(
      "This private subnet sets mapPublicIpOnLaunch: true, so every node launched in it gets a public address; set it to false (egress goes through the NAT gateway).",
    );
  }),
};

export interface MultiAzConfig {
  minAvailabilityZones: number;
}

const multiAzConfigSchema = {
  properties: { minAvailabilityZones: { type: "integer", minimum: 1, default: 3 } },
} satisfies ConfigSchemaWithDefaults<MultiAzConfig>;

/**
 * A stack policy: the cluster's subnet ids are outputs of the subnets (unknown during preview), so the AZ count
 * comes from the subnet resources the cluster's vpcConfig depends on, or failing that from every private subnet.
 */
export const eksMultiAz: StackValidationPolicy = {
  name: "eks-multi-az",
  description:
    "The cluster must span at least three availability zones so losing one leaves a majority of capacity: use network.availabilityZoneCount 3 and pass one private subnet per AZ.",
  enforcementLevel: "mandatory",
  configSchema: multiAzConfigSchema,
  validateStack: (args, reportViolation) => {
    const config = configWithDefaults<MultiAzConfig>(multiAzConfigSchema, args.getConfig);
    const allSubnets = args.resources.filter((resource) => resource.type === subnetType);
    for (const cluster of args.resources.filter((resource) => resource.type === clusterType)) {
      const zones = clusterZones(cluster, allSubnets);
      if (zones === UNKNOWN) continue;
      if (zones.length < config.minAvailabilityZones) {
        reportViolation(
          `The cluster's subnets span ${zones.length} availability zone${zones.length === 1 ? "" : "s"} (${zones.join(", ") || "none"}); use at least ${config.minAvailabilityZones}, one private subnet each.`,
          cluster.urn,
        );
      }
    }
  },
};

/** Distinct AZs of the cluster's subnets, or UNKNOWN when too few are known to decide. */
export function clusterZones(
  cluster: PolicyResource,
  allSubnets: readonly PolicyResource[],
): string[] | typeof UNKNOWN {
  const fromDependencies = (cluster.propertyDependencies["vpcConfig"] ?? []).filter(
    (resource) => resource.type === subnetType,
  );
  const tagged = allSubnets.filter((subnet) => tag(subnet.props, privateSubnetTag) !== undefined);
  const subnets = fromDependencies.length > 0 ? fromDependencies : tagged.length > 0 ? tagged : allSubnets;
  const zones = subnets.map((subnet) => {
    const props = subnet.props as SubnetProps;
    const zone = at(props, "availabilityZone");
    return zone === undefined ? at(props, "availabilityZoneId") : zone;
  });
  if (zones.some((zone) => zone === UNKNOWN || zone === undefined)) return UNKNOWN;
  return [...new Set(zones as string[])].sort();
}

export interface PublicIngressConfig {
  /** Tag (key=true) that marks a security group or rule as belonging to an internet-facing load balancer. */
  publicLoadBalancerTag: string;
  /** Ports such a load balancer may open to the internet. */
  publicLoadBalancerPorts: number[];
}

interface Rule {
  readonly where: string;
  readonly cidrs: unknown[];
  readonly fromPort: unknown;
  readonly toPort: unknown;
  readonly protocol: unknown;
}

/** Ingress (or egress) rules of the three ways to write them: inline on the group, vpc.*Rule, ec2.SecurityGroupRule. */
export function rulesOf(
  type: string,
  props: unknown,
  direction: "ingress" | "egress",
): Rule[] | typeof UNKNOWN {
  if (type === securityGroupType) {
    const list = elements(atPath(props, direction));
    if (list === UNKNOWN) return UNKNOWN;
    return (list ?? []).map((rule, index) => blockRule(`${direction}[${index}]`, rule));
  }
  if (type === (direction === "ingress" ? ingressRuleType : egressRuleType)) {
    return [
      {
        where: "rule",
        cidrs: [atPath(props, "cidrIpv4"), atPath(props, "cidrIpv6")].filter((cidr) => cidr !== undefined),
        fromPort: atPath(props, "fromPort"),
        toPort: atPath(props, "toPort"),
        protocol: atPath(props, "ipProtocol"),
      },
    ];
  }
  if (type === securityGroupRuleType) {
    const ruleType = atPath(props, "type");
    if (ruleType === UNKNOWN) return UNKNOWN;
    if (ruleType !== direction) return [];
    return [blockRule("rule", props)];
  }
  return [];
}

/** A rule written with cidrBlocks/ipv6CidrBlocks lists: inline on a group, or an ec2.SecurityGroupRule. */
function blockRule(where: string, rule: unknown): Rule {
  const cidrs = elements(atPath(rule, "cidrBlocks"));
  const ipv6 = elements(atPath(rule, "ipv6CidrBlocks"));
  return {
    where,
    cidrs: [
      ...(cidrs === UNKNOWN ? [UNKNOWN] : (cidrs ?? [])),
      ...(ipv6 === UNKNOWN ? [UNKNOWN] : (ipv6 ?? [])),
    ],
    fromPort: atPath(rule, "fromPort"),
    toPort: atPath(rule, "toPort"),
    protocol: atPath(rule, "protocol"),
  };
}

function isAllTraffic(protocol: unknown): boolean {
  return protocol === "-1" || protocol === "all" || protocol === -1;
}

function portsWithin(rule: Rule, allowed: readonly number[]): boolean {
  if (isAllTraffic(rule.protocol) || typeof rule.fromPort !== "number" || typeof rule.toPort !== "number")
    return false;
  for (let port = rule.fromPort; port <= rule.toPort; port++) if (!allowed.includes(port)) return false;
  return true;
}

function describePorts(rule: Rule): string {
  if (isAllTraffic(rule.protocol)) return "all traffic";
  return rule.fromPort === rule.toPort
    ? `port ${show(rule.fromPort)}`
    : `ports ${show(rule.fromPort)}-${show(rule.toPort)}`;
}

const publicIngressConfigSchema = {
  properties: {
    publicLoadBalancerTag: { type: "string", default: "public-load-balancer" },
    publicLoadBalancerPorts: { type: "array", items: { type: "integer" }, default: [80, 443] },
  },
} satisfies ConfigSchemaWithDefaults<PublicIngressConfig>;

export const sgNoPublicIngress: ResourceValidationPolicy = {
  name: "sg-no-public-ingress",
  description:
    "Security groups must not accept traffic from 0.0.0.0/0 or ::/0, except an internet-facing load balancer's group (tagged public-load-balancer=true) on ports 80/443.",
  enforcementLevel: "mandatory",
  configSchema: publicIngressConfigSchema,
  validateResource: forType(
    [securityGroupType, ingressRuleType, securityGroupRuleType],
    (props, args, reportViolation) => {
      const config = configWithDefaults<PublicIngressConfig>(publicIngressConfigSchema, args.getConfig);
      const rules = rulesOf(args.type, props, "ingress");
      if (rules === UNKNOWN) return;
      const isPublicLoadBalancer = tag(props, config.publicLoadBalancerTag) === "true";
      for (const rule of rules) {
        const open = rule.cidrs.filter((cidr) => typeof cidr === "string" && isAnywhere(cidr));
        if (open.length === 0) continue;
        if (isPublicLoadBalancer && portsWithin(rule, config.publicLoadBalancerPorts)) continue;
        reportViolation(
          `${rule.where} allows ${describePorts(rule)} from ${open.join(", ")}; restrict the source to known CIDRs or security groups${isPublicLoadBalancer ? ` (public load balancers may open only ports ${config.publicLoadBalancerPorts.join("/")})` : ""}.`,
        );
      }
    },
  ),
};

export const sgOpenEgress: ResourceValidationPolicy = {
  name: "sg-open-egress",
  description:
    "Prefer egress rules limited to the ports and destinations a workload needs over all-traffic to 0.0.0.0/0 (advisory: nodes often need HTTPS to AWS APIs and registries).",
  enforcementLevel: "advisory",
  validateResource: forType(
    [securityGroupType, egressRuleType, securityGroupRuleType],
    (props, args, reportViolation) => {
      const rules = rulesOf(args.type, props, "egress");
      if (rules === UNKNOWN) return;
      for (const rule of rules) {
        const open = rule.cidrs.filter((cidr) => typeof cidr === "string" && isAnywhere(cidr));
        if (open.length === 0 || !isAllTraffic(rule.protocol) || rule.cidrs.some(isUnknown)) continue;
        reportViolation(
          `${rule.where} allows all traffic to ${open.join(", ")}; limit it to the ports needed (e.g. 443) or VPC endpoints where you can.`,
        );
      }
    },
  ),
};
