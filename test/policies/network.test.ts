import { strict as assert } from "assert";
import {
  eksMultiAz,
  sgNoPublicIngress,
  sgOpenEgress,
  vpcFlowLogs,
  vpcPodSubnetSize,
  vpcPrivateSubnetNoPublicIp,
} from "../../policies/network";
import { goodCluster, UNKNOWN_VALUE, validateResource, validateStack } from "./support";

const subnet = "aws:ec2/subnet:Subnet";
const securityGroup = "aws:ec2/securityGroup:SecurityGroup";
const ingressRule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const legacyRule = "aws:ec2/securityGroupRule:SecurityGroupRule";
const clusterType = "aws:eks/cluster:Cluster";
const privateTags = { environment: "prod", "kubernetes.io/role/internal-elb": "1" };

describe("policies: network", () => {
  describe("vpc-pod-subnet-size", () => {
    const clusterOn = (...subnets: string[]) => ({
      type: clusterType,
      name: "cluster",
      props: goodCluster(),
      propertyDependencies: { vpcConfig: subnets },
    });

    it("passes /19 and /20 pod subnets and ignores small public subnets", () => {
      assert.deepEqual(
        validateStack(vpcPodSubnetSize, [
          { type: subnet, name: "a", props: { cidrBlock: "10.0.0.0/19", tags: privateTags } },
          { type: subnet, name: "b", props: { cidrBlock: "10.0.32.0/20" } },
          {
            type: subnet,
            name: "public",
            props: { cidrBlock: "10.0.96.0/24", tags: { "kubernetes.io/role/elb": "1" } },
          },
          clusterOn("a", "b"),
        ]),
        [],
      );
    });

    it("rejects a /24 pod subnet with its usable IP count, tagged or not (the cluster's and node groups' subnets count)", () => {
      const expected = (name: string) => ({
        message: `Pod subnet ${name} (10.0.1.0/24) holds only 251 usable IPs, and every pod takes one; use a /20 or larger (network.privateSubnetPrefix 19 gives 8,187 per AZ).`,
        urn: `urn:pulumi:test::eks-gitops-platform::aws:ec2/subnet:Subnet::${name}`,
      });
      assert.deepEqual(
        validateStack(vpcPodSubnetSize, [
          { type: subnet, name: "tagged", props: { cidrBlock: "10.0.1.0/24", tags: privateTags } },
        ]),
        [expected("tagged")],
      );
      assert.deepEqual(
        validateStack(vpcPodSubnetSize, [
          { type: subnet, name: "untagged", props: { cidrBlock: "10.0.1.0/24" } },
          clusterOn("untagged"),
        ]),
        [expected("untagged")],
      );
      assert.deepEqual(
        validateStack(vpcPodSubnetSize, [
          { type: subnet, name: "nodes", props: { cidrBlock: "10.0.1.0/24" } },
          {
            type: "aws:eks/nodeGroup:NodeGroup",
            name: "system",
            props: {},
            propertyDependencies: { subnetIds: ["nodes"] },
          },
        ]),
        [expected("nodes")],
      );
      assert.deepEqual(
        validateStack(
          vpcPodSubnetSize,
          [{ type: subnet, name: "a", props: { cidrBlock: "10.0.0.0/21", tags: privateTags } }],
          { maxPrefix: 21 },
        ),
        [],
      );
      assert.deepEqual(
        validateStack(vpcPodSubnetSize, [
          { type: subnet, name: "a", props: { cidrBlock: UNKNOWN_VALUE, tags: privateTags } },
        ]),
        [],
      );
    });
  });

  describe("vpc-private-subnet-no-public-ip", () => {
    it("rejects public IPs on any subnet, whatever its tags", () => {
      const message =
        "Subnet subject sets mapPublicIpOnLaunch: true, so every instance or node launched in it gets a public address; set it to false (nodes reach the internet through the NAT gateway, load balancers get their own addresses).";
      for (const tags of [privateTags, undefined, { "kubernetes.io/role/elb": "1" }]) {
        assert.deepEqual(
          validateResource(vpcPrivateSubnetNoPublicIp, subnet, {
            cidrBlock: "10.0.0.0/19",
            mapPublicIpOnLaunch: true,
            tags,
          }),
          [message],
        );
      }
      assert.deepEqual(
        validateResource(vpcPrivateSubnetNoPublicIp, subnet, {
          cidrBlock: "10.0.0.0/19",
          mapPublicIpOnLaunch: false,
        }),
        [],
      );
    });
  });

  describe("eks-multi-az", () => {
    const subnetSpec = (name: string, availabilityZone: string) => ({
      type: subnet,
      name,
      props: { cidrBlock: "10.0.0.0/19", availabilityZone, tags: privateTags },
    });

    it("passes a cluster whose subnets span three AZs", () => {
      const violations = validateStack(eksMultiAz, [
        subnetSpec("a", "eu-west-1a"),
        subnetSpec("b", "eu-west-1b"),
        subnetSpec("c", "eu-west-1c"),
        {
          type: clusterType,
          name: "cluster",
          props: goodCluster(),
          propertyDependencies: { vpcConfig: ["a", "b", "c"] },
        },
      ]);
      assert.deepEqual(violations, []);
    });

    it("rejects two AZs, counting the subnets the cluster actually uses", () => {
      const violations = validateStack(eksMultiAz, [
        subnetSpec("a", "eu-west-1a"),
        subnetSpec("b", "eu-west-1b"),
        subnetSpec("unused", "eu-west-1c"),
        {
          type: clusterType,
          name: "cluster",
          props: goodCluster(),
          propertyDependencies: { vpcConfig: ["a", "b"] },
        },
      ]);
      assert.deepEqual(violations, [
        {
          message:
            "The cluster's subnets span 2 availability zones (eu-west-1a, eu-west-1b); use at least 3, one private subnet each.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/cluster:Cluster::cluster",
        },
      ]);
    });

    it("falls back to the private subnets of the stack, and skips while an AZ is unknown", () => {
      const twoZones = [
        subnetSpec("a", "eu-west-1a"),
        subnetSpec("b", "eu-west-1a"),
        { type: clusterType, name: "cluster", props: goodCluster() },
      ];
      // Public subnets (no internal-elb tag) in other AZs do not count: the cluster's nodes live in private ones.
      const publicSubnet = (name: string, availabilityZone: string) => ({
        type: subnet,
        name,
        props: { cidrBlock: "10.0.96.0/19", availabilityZone, tags: { "kubernetes.io/role/elb": "1" } },
      });
      const withPublic = [
        ...twoZones,
        publicSubnet("public-b", "eu-west-1b"),
        publicSubnet("public-c", "eu-west-1c"),
      ];
      assert.deepEqual(validateStack(eksMultiAz, withPublic), [
        {
          message:
            "The cluster's subnets span 1 availability zone (eu-west-1a); use at least 3, one private subnet each.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/cluster:Cluster::cluster",
        },
      ]);
      assert.deepEqual(validateStack(eksMultiAz, withPublic, { minAvailabilityZones: 1 }), []);
      const unknown = [
        subnetSpec("a", "eu-west-1a"),
        subnetSpec("b", UNKNOWN_VALUE),
        { type: clusterType, name: "cluster", props: goodCluster() },
      ];
      assert.deepEqual(validateStack(eksMultiAz, unknown), []);
    });
  });

  describe("sg-no-public-ingress", () => {
    const sg = (name: string, props: Record<string, unknown>) => ({ type: securityGroup, name, props });
    const rule = (name: string, group: string, props: Record<string, unknown>) => ({
      type: ingressRule,
      name,
      props: { securityGroupId: UNKNOWN_VALUE, ...props },
      propertyDependencies: { securityGroupId: [group] },
    });
    const groupUrn = (name: string) => `urn:pulumi:test::eks-gitops-platform::${securityGroup}::${name}`;

    it("rejects ingress from anywhere in every rule style, naming the group, the rules and the fix", () => {
      assert.deepEqual(
        validateStack(sgNoPublicIngress, [
          sg("bastion", {
            ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
          }),
        ]),
        [
          {
            message:
              "Security group bastion accepts the whole IPv4 internet through its ingress rules together: bastion ingress[0] (0.0.0.0/0, port 22); allow only known CIDRs (at most 65,536 public addresses) or source security groups. A public load balancer's group needs an exemption (resource, policy, reason, expiry) in the stack's pack config.",
            urn: groupUrn("bastion"),
          },
        ],
      );
      const ipv6 = validateStack(sgNoPublicIngress, [
        sg("web", {}),
        rule("v6", "web", { ipProtocol: "-1", cidrIpv6: "::/0" }),
      ]);
      assert.equal(ipv6.length, 1);
      assert.match(
        ipv6[0].message,
        /^Security group web accepts the whole IPv6 internet through its ingress rules together: v6 \(::\/0, all traffic\)/,
      );
      const legacy = validateStack(sgNoPublicIngress, [
        {
          type: legacyRule,
          name: "legacy",
          props: {
            type: "ingress",
            protocol: "tcp",
            fromPort: 0,
            toPort: 65535,
            cidrBlocks: ["0.0.0.0/0"],
            securityGroupId: "sg-1",
          },
        },
      ]);
      assert.equal(legacy.length, 1);
      assert.match(
        legacy[0].message,
        /^Security group sg-1 accepts the whole IPv4 internet .*legacy \(0\.0\.0\.0\/0, ports 0-65535\)/,
      );
    });

    it("judges the union of a group's rules: 0.0.0.0/1 + 128.0.0.0/1 is the whole internet, and so are many small ranges", () => {
      const halves = validateStack(sgNoPublicIngress, [
        sg("api", {}),
        rule("low", "api", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/1" }),
        rule("high", "api", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "128.0.0.0/1" }),
      ]);
      assert.deepEqual(
        halves.map((violation) => violation.urn),
        [groupUrn("api")],
      );
      assert.match(
        halves[0].message,
        /accepts the whole IPv4 internet through its ingress rules together: low \(0\.0\.0\.0\/1, port 443\); high \(128\.0\.0\.0\/1, port 443\)/,
      );
      // Two /17s are each within a /16 budget but together exceed it.
      const split = validateStack(sgNoPublicIngress, [
        sg("api", {
          ingress: [
            { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["52.0.0.0/17", "52.1.0.0/16"] },
          ],
        }),
      ]);
      assert.match(split[0].message, /^Security group api accepts 98,304 public IPv4 addresses/);
      // The same ranges on two different groups are judged apart.
      assert.deepEqual(
        validateStack(sgNoPublicIngress, [
          sg("a", {}),
          sg("b", {}),
          rule("to-a", "a", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "52.0.0.0/17" }),
          rule("to-b", "b", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "52.1.0.0/17" }),
        ]),
        [],
      );
    });

    it("passes VPC-internal and narrow public sources, egress, and unknown sources", () => {
      assert.deepEqual(
        validateStack(sgNoPublicIngress, [
          sg("api", {
            ingress: [
              { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8", "203.0.113.0/24"] },
            ],
          }),
          rule("vpc", "api", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "172.16.0.0/12" }),
          rule("unknown", "api", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: UNKNOWN_VALUE }),
          {
            type: legacyRule,
            name: "out",
            props: { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
          },
        ]),
        [],
      );
    });

    it("no longer honours a public-load-balancer tag: only an exemption in the pack config lets a group face the internet", () => {
      const alb = sg("public-alb", {
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
        tags: { "public-load-balancer": "true" },
      });
      assert.equal(validateStack(sgNoPublicIngress, [alb]).length, 1);
    });
  });

  describe("sg-open-egress", () => {
    it("advises against all-traffic egress to anywhere, not against port-limited egress", () => {
      assert.equal(sgOpenEgress.enforcementLevel, "advisory");
      assert.deepEqual(
        validateResource(sgOpenEgress, securityGroup, {
          egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
        }),
        [
          "egress[0] allows all traffic to 0.0.0.0/0; limit it to the ports needed (e.g. 443) or VPC endpoints where you can.",
        ],
      );
      assert.deepEqual(
        validateResource(sgOpenEgress, securityGroup, {
          egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
        }),
        [],
      );
    });
  });
});

describe("policies: vpc-flow-logs", () => {
  const vpc = { type: "aws:ec2/vpc:Vpc", name: "vpc", props: { cidrBlock: "10.0.0.0/16" } };
  const flowLog = (trafficType: string) => ({
    type: "aws:ec2/flowLog:FlowLog",
    name: "vpc-flow",
    props: { vpcId: UNKNOWN_VALUE, trafficType },
    propertyDependencies: { vpcId: ["vpc"] },
  });

  it("rejects a VPC without a flow log, or with one that drops accepted traffic", () => {
    assert.deepEqual(validateStack(vpcFlowLogs, [vpc]), [
      {
        message:
          'VPC vpc has no flow log, so there is no record of its traffic for an incident review; add an aws.ec2.FlowLog with vpcId: vpc.id, trafficType: "ALL", to a KMS-encrypted log group with retention (the platform\'s network component does this).',
        urn: "urn:pulumi:test::eks-gitops-platform::aws:ec2/vpc:Vpc::vpc",
      },
    ]);
    assert.match(
      validateStack(vpcFlowLogs, [vpc, flowLog("REJECT")])[0].message,
      /capture only REJECT traffic/,
    );
  });

  it("passes a VPC whose flow log captures ALL traffic", () => {
    assert.deepEqual(validateStack(vpcFlowLogs, [vpc, flowLog("ALL")]), []);
  });
});
