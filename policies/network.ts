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
import { describeOpenSpace, parseCidr, publicAddresses } from "./lib/cidr";
import { nodeGroupType } from "./nodes";

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

/**
 * Node and pod subnets: those tagged for internal load balancers, and — tag or not — every subnet the cluster's
 * vpcConfig or a node group takes its subnet ids from. Removing the tag does not take a subnet out of the check.
 */
export function nodeSubnets(resources: readonly PolicyResource[]): PolicyResource[] {
  const found = new Set<PolicyResource>();
  for (const resource of resources) {
    if (resource.type === subnetType && tag(resource.props, privateSubnetTag) !== undefined)
      found.add(resource);
    const key =
      resource.type === clusterType ? "vpcConfig" : resource.type === nodeGroupType ? "subnetIds" : "";
    for (const source of resource.propertyDependencies[key] ?? [])
      if (source.type === subnetType) found.add(source);
  }
  return resources.filter((resource) => found.has(resource));
}

export const vpcPodSubnetSize: StackValidationPolicy = {
  name: "vpc-pod-subnet-size",
  description:
    "Node and pod subnets (the cluster's and node groups' subnets, and any tagged kubernetes.io/role/internal-elb) must be /20 or larger, because every pod takes a VPC IP: use network.privateSubnetPrefix 19 or 20.",
  enforcementLevel: "mandatory",
  configSchema: subnetSizeConfigSchema,
  validateStack: (args, reportViolation) => {
    const config = configWithDefaults<SubnetSizeConfig>(subnetSizeConfigSchema, args.getConfig);
    for (const subnet of nodeSubnets(args.resources)) {
      const cidr = at(subnet.props as SubnetProps, "cidrBlock");
      if (typeof cidr !== "string") continue;
      const prefix = cidrPrefix(cidr);
      if (prefix !== undefined && prefix > config.maxPrefix) {
        const addresses = 2 ** (32 - prefix) - 5;
        reportViolation(
          `Pod subnet ${subnet.name} (${cidr}) holds only ${addresses} usable IPs, and every pod takes one; use a /${config.maxPrefix} or larger (network.privateSubnetPrefix 19 gives 8,187 per AZ).`,
          subnet.urn,
        );
      }
    }
  },
};

export const vpcPrivateSubnetNoPublicIp: ResourceValidationPolicy = {
  name: "vpc-private-subnet-no-public-ip",
  description:
    "Subnets must not give instances public IPs: set mapPublicIpOnLaunch: false on every subnet (NAT gateways and load balancers in public subnets get their own addresses).",
  enforcementLevel: "mandatory",
  validateResource: forType<SubnetProps>(subnetType, (subnet, args, reportViolation) => {
    if (at(subnet, "mapPublicIpOnLaunch") !== true) return;
    reportViolation(
      `Subnet ${args.name} sets mapPublicIpOnLaunch: true, so every instance or node launched in it gets a public address; set it to false (nodes reach the internet through the NAT gateway, load balancers get their own addresses).`,
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
  /** Most public IPv4 addresses the ingress rules of one security group may open together (65,536 = a /16). */
  maxPublicIpv4Addresses: number;
  /** Longest IPv6 prefix-equivalent the rules of one group may open together (48: at most a /48's worth). */
  minPublicIpv6Prefix: number;
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

function describePorts(rule: Rule): string {
  if (isAllTraffic(rule.protocol)) return "all traffic";
  return rule.fromPort === rule.toPort
    ? `port ${show(rule.fromPort)}`
    : `ports ${show(rule.fromPort)}-${show(rule.toPort)}`;
}

const publicIngressConfigSchema = {
  properties: {
    maxPublicIpv4Addresses: { type: "integer", minimum: 0, default: 65536 },
    minPublicIpv6Prefix: { type: "integer", minimum: 0, maximum: 128, default: 48 },
  },
} satisfies ConfigSchemaWithDefaults<PublicIngressConfig>;

/** The security group a rule belongs to: the group resource, else its known id, else the rule itself. */
function groupKeyOf(resource: PolicyResource): { key: string; urn: string; name: string } {
  if (resource.type === securityGroupType)
    return { key: resource.urn, urn: resource.urn, name: resource.name };
  const group = (resource.propertyDependencies["securityGroupId"] ?? [])[0];
  if (group && group.type === securityGroupType) return { key: group.urn, urn: group.urn, name: group.name };
  const id = atPath(resource.props, "securityGroupId");
  if (typeof id === "string") return { key: `id:${id}`, urn: resource.urn, name: id };
  if (group) return { key: group.urn, urn: resource.urn, name: `the security group of ${group.name}` };
  return { key: resource.urn, urn: resource.urn, name: resource.name };
}

/**
 * A stack policy because a group's ingress is often spread over several rule resources: the union of every
 * source range opened to one group is judged, so two halves of the internet are the internet.
 */
export const sgNoPublicIngress: StackValidationPolicy = {
  name: "sg-no-public-ingress",
  description:
    "Security groups must not accept traffic from the internet: the ingress rules of one group together (inline, aws.vpc.SecurityGroupIngressRule, aws.ec2.SecurityGroupRule) may open at most a /16 of public IPv4 (a /48 of IPv6); a public load balancer's group needs an exemption in the stack's pack config.",
  enforcementLevel: "mandatory",
  configSchema: publicIngressConfigSchema,
  validateStack: (args, reportViolation) => {
    const config = configWithDefaults<PublicIngressConfig>(publicIngressConfigSchema, args.getConfig);
    const groups = new Map<string, { urn: string; name: string; rules: (Rule & { resource: string })[] }>();
    for (const resource of args.resources) {
      const rules = rulesOf(resource.type, resource.props, "ingress");
      if (rules === UNKNOWN || rules.length === 0) continue;
      const { key, urn, name } = groupKeyOf(resource);
      const group = groups.get(key) ?? { urn, name, rules: [] };
      group.rules.push(...rules.map((rule) => ({ ...rule, resource: resource.name })));
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      const cidrs = group.rules.flatMap((rule) =>
        rule.cidrs.filter((cidr): cidr is string => typeof cidr === "string"),
      );
      for (const family of [4, 6] as const) {
        const open = publicAddresses(cidrs, family);
        const limit =
          family === 4
            ? BigInt(config.maxPublicIpv4Addresses)
            : 1n << BigInt(128 - config.minPublicIpv6Prefix);
        if (open <= limit) continue;
        const contributing = group.rules.filter((rule) =>
          rule.cidrs.some(
            (cidr) =>
              typeof cidr === "string" &&
              parseCidr(cidr)?.family === family &&
              publicAddresses([cidr], family) > 0n,
          ),
        );
        const listed = contributing
          .map(
            (rule) =>
              `${rule.resource}${rule.where === "rule" ? "" : ` ${rule.where}`} (${rule.cidrs.filter((cidr) => typeof cidr === "string" && parseCidr(cidr)?.family === family).join(", ")}, ${describePorts(rule)})`,
          )
          .join("; ");
        reportViolation(
          `Security group ${group.name} accepts ${describeOpenSpace(cidrs, family)} through its ingress rules together: ${listed}; allow only known CIDRs (at most ${family === 4 ? `${config.maxPublicIpv4Addresses.toLocaleString("en-US")} public addresses` : `a /${config.minPublicIpv6Prefix}`}) or source security groups. A public load balancer's group needs an exemption (resource, policy, reason, expiry) in the stack's pack config.`,
          group.urn,
        );
      }
    }
  },
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

export const vpcType = "aws:ec2/vpc:Vpc";
export const flowLogType = "aws:ec2/flowLog:FlowLog";

/**
 * Every VPC needs a flow log capturing ALL traffic: without it there is no record of what talked to what when a
 * node or pod is compromised. A stack policy, because the flow log's vpcId is the VPC's output.
 */
export const vpcFlowLogs: StackValidationPolicy = {
  name: "vpc-flow-logs",
  description:
    'Every VPC must have a flow log with trafficType "ALL" (aws.ec2.FlowLog with vpcId from the VPC), to an encrypted log group with retention.',
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const flowLogs = args.resources.filter((resource) => resource.type === flowLogType);
    for (const vpc of args.resources.filter((resource) => resource.type === vpcType)) {
      const mine = flowLogs.filter((flowLog) =>
        (flowLog.propertyDependencies["vpcId"] ?? []).some((source) => source.urn === vpc.urn),
      );
      if (mine.length === 0) {
        // A flow log whose vpcId is still unknown and comes from nowhere we can see could be this VPC's.
        const undecided = flowLogs.some(
          (flowLog) =>
            atPath(flowLog.props, "vpcId") === UNKNOWN &&
            (flowLog.propertyDependencies["vpcId"] ?? []).length === 0,
        );
        if (undecided) continue;
        reportViolation(
          `VPC ${vpc.name} has no flow log, so there is no record of its traffic for an incident review; add an aws.ec2.FlowLog with vpcId: vpc.id, trafficType: "ALL", to a KMS-encrypted log group with retention (the platform's network component does this).`,
          vpc.urn,
        );
        continue;
      }
      const types = mine.map((flowLog) => atPath(flowLog.props, "trafficType"));
      if (types.some((type) => type === UNKNOWN || type === "ALL")) continue;
      reportViolation(
        `VPC ${vpc.name}'s flow logs capture only ${types.map(show).join(", ")} traffic; set trafficType: "ALL" so accepted connections are recorded too.`,
        vpc.urn,
      );
    }
  },
};
