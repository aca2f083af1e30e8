import { strict as assert } from "assert";
import {
  eksMultiAz,
  sgNoPublicIngress,
  sgOpenEgress,
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
    it("passes /19 and /20 pod subnets and ignores small public subnets", () => {
      assert.deepEqual(
        validateResource(vpcPodSubnetSize, subnet, { cidrBlock: "10.0.0.0/19", tags: privateTags }),
        [],
      );
      assert.deepEqual(
        validateResource(vpcPodSubnetSize, subnet, { cidrBlock: "10.0.16.0/20", tags: privateTags }),
        [],
      );
      assert.deepEqual(
        validateResource(vpcPodSubnetSize, subnet, {
          cidrBlock: "10.0.96.0/24",
          tags: { "kubernetes.io/role/elb": "1" },
        }),
        [],
      );
    });

    it("rejects a /24 pod subnet with its usable IP count", () => {
      assert.deepEqual(
        validateResource(vpcPodSubnetSize, subnet, { cidrBlock: "10.0.1.0/24", tags: privateTags }),
        [
          "Pod subnet 10.0.1.0/24 holds only 251 usable IPs, and every pod takes one; use a /20 or larger (network.privateSubnetPrefix 19 gives 8,187 per AZ).",
        ],
      );
      assert.deepEqual(
        validateResource(
          vpcPodSubnetSize,
          subnet,
          { cidrBlock: "10.0.0.0/21", tags: privateTags },
          { maxPrefix: 21 },
        ),
        [],
      );
      assert.deepEqual(
        validateResource(vpcPodSubnetSize, subnet, { cidrBlock: UNKNOWN_VALUE, tags: privateTags }),
        [],
      );
    });
  });

  describe("vpc-private-subnet-no-public-ip", () => {
    it("rejects public IPs on private subnets only", () => {
      assert.deepEqual(
        validateResource(vpcPrivateSubnetNoPublicIp, subnet, {
          cidrBlock: "10.0.0.0/19",
          mapPublicIpOnLaunch: true,
          tags: privateTags,
        }),
        [
          "This private subnet sets mapPublicIpOnLaunch: true, so every node launched in it gets a public address; set it to false (egress goes through the NAT gateway).",
        ],
      );
      assert.deepEqual(
        validateResource(vpcPrivateSubnetNoPublicIp, subnet, {
          cidrBlock: "10.0.0.0/19",
          mapPublicIpOnLaunch: false,
          tags: privateTags,
        }),
        [],
      );
      assert.deepEqual(
        validateResource(vpcPrivateSubnetNoPublicIp, subnet, {
          cidrBlock: "10.0.96.0/24",
          mapPublicIpOnLaunch: true,
          tags: { "kubernetes.io/role/elb": "1" },
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
    it("rejects ingress from anywhere in every rule style", () => {
      assert.deepEqual(
        validateResource(sgNoPublicIngress, securityGroup, {
          ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
        }),
        ["ingress[0] allows port 22 from 0.0.0.0/0; restrict the source to known CIDRs or security groups."],
      );
      assert.deepEqual(
        validateResource(sgNoPublicIngress, ingressRule, { ipProtocol: "-1", cidrIpv6: "::/0" }),
        ["rule allows all traffic from ::/0; restrict the source to known CIDRs or security groups."],
      );
      assert.deepEqual(
        validateResource(sgNoPublicIngress, legacyRule, {
          type: "ingress",
          protocol: "tcp",
          fromPort: 0,
          toPort: 65535,
          cidrBlocks: ["0.0.0.0/0"],
        }),
        ["rule allows ports 0-65535 from 0.0.0.0/0; restrict the source to known CIDRs or security groups."],
      );
    });

    it("passes VPC-internal sources and a public load balancer's 80/443", () => {
      assert.deepEqual(
        validateResource(sgNoPublicIngress, ingressRule, {
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "10.40.0.0/16",
        }),
        [],
      );
      const alb = {
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
        tags: { "public-load-balancer": "true" },
      };
      assert.deepEqual(validateResource(sgNoPublicIngress, securityGroup, alb), []);
      assert.deepEqual(
        validateResource(sgNoPublicIngress, legacyRule, {
          type: "egress",
          protocol: "-1",
          fromPort: 0,
          toPort: 0,
          cidrBlocks: ["0.0.0.0/0"],
        }),
        [],
      );
    });

    it("still rejects other ports on a public load balancer's group", () => {
      const alb = {
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
        tags: { "public-load-balancer": "true" },
      };
      assert.deepEqual(validateResource(sgNoPublicIngress, securityGroup, alb), [
        "ingress[0] allows port 22 from 0.0.0.0/0; restrict the source to known CIDRs or security groups (public load balancers may open only ports 80/443).",
      ]);
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
