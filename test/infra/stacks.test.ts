import { strict as assert } from "node:assert";
import { ConfigError } from "../../infra/config";
import { synthesize, SynthResource, SynthResult } from "../../synth";
import { ofType, single, synthesizedStack } from "../support/stacks";

const fiveLogTypes = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

function policyNamesOf(result: SynthResult, roleLogicalName: string): string[] {
  return ofType(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((attachment) => attachment.name.startsWith(`${roleLogicalName}-`))
    .map((attachment) => String(attachment.inputs.policyArn).split("/").pop() as string)
    .sort();
}

describe("synthesized stacks: the cluster", () => {
  for (const stack of ["dev", "prod", "staging"]) {
    describe(stack, () => {
      let result: SynthResult;
      before(async () => {
        result = await synthesizedStack(stack);
      });

      it("has a private-only API endpoint", () => {
        const vpcConfig = single(result, "aws:eks/cluster:Cluster").inputs.vpcConfig as Record<
          string,
          unknown
        >;
        assert.equal(vpcConfig.endpointPrivateAccess, true);
        assert.equal(vpcConfig.endpointPublicAccess, false);
        assert.equal(vpcConfig.publicAccessCidrs, undefined);
      });

      it("encrypts secrets with the rotated customer KMS key", () => {
        const cluster = single(result, "aws:eks/cluster:Cluster");
        const key = single(result, "aws:kms/key:Key");
        assert.equal(key.inputs.enableKeyRotation, true);
        assert.equal(key.inputs.deletionWindowInDays, 30);
        assert.deepEqual((cluster.inputs.encryptionConfig as { resources: string[] }).resources, ["secrets"]);
        assert.ok(
          cluster.propertyDependencies.encryptionConfig.includes(key.urn),
          "encryption must use our key",
        );
        assert.equal(single(result, "aws:kms/alias:Alias").inputs.name, `alias/${cluster.inputs.name}`);
      });

      it("enables all five log types into a log group created before the cluster", () => {
        const cluster = single(result, "aws:eks/cluster:Cluster");
        assert.deepEqual(cluster.inputs.enabledClusterLogTypes, fiveLogTypes);
        const logGroup = ofType(result, "aws:cloudwatch/logGroup:LogGroup").find(
          (group) => group.inputs.name === `/aws/eks/${cluster.inputs.name}/cluster`,
        );
        assert.ok(logGroup, "control-plane log group missing");
        assert.ok(Number(logGroup.inputs.retentionInDays) > 0);
        assert.ok(logGroup.inputs.kmsKeyId, "log group must be KMS-encrypted");
        assert.ok(cluster.dependencies.includes(logGroup.urn), "cluster must depend on its log group");
      });

      it("uses access entries only, with creator admin off and an entry per configured principal", () => {
        const cluster = single(result, "aws:eks/cluster:Cluster");
        assert.deepEqual(cluster.inputs.accessConfig, {
          authenticationMode: "API",
          bootstrapClusterCreatorAdminPermissions: false,
        });
        const fromConfig = (resource: SynthResource) =>
          resource.parent.endsWith("platform:index:ClusterAccess::access");
        const entries = ofType(result, "aws:eks/accessEntry:AccessEntry")
          .filter(fromConfig)
          .map((entry) => entry.inputs.principalArn);
        assert.ok(entries.includes("arn:aws:iam::111122223333:role/github-deploy"));
        assert.ok(entries.includes("arn:aws:iam::111122223333:role/platform-admins"));
        const associations = ofType(result, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter(
          fromConfig,
        );
        assert.equal(associations.length, entries.length);
        for (const association of associations) {
          assert.match(
            String(association.inputs.policyArn),
            /^arn:aws:eks::aws:cluster-access-policy\/AmazonEKS(ClusterAdmin|View)Policy$/,
          );
          assert.deepEqual(association.inputs.accessScope, { type: "cluster" });
        }
      });

      it("has no IRSA OIDC provider and no aws-auth ConfigMap", () => {
        assert.equal(ofType(result, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 0);
        const configMaps = ofType(result, "kubernetes:core/v1:ConfigMap").filter(
          (map) => (map.inputs.metadata as { name?: string } | undefined)?.name === "aws-auth",
        );
        assert.equal(configMaps.length, 0);
      });

      it("installs no default add-ons and stays on standard support at the pinned version", () => {
        const cluster = single(result, "aws:eks/cluster:Cluster");
        assert.equal(cluster.inputs.bootstrapSelfManagedAddons, false);
        assert.deepEqual(cluster.inputs.upgradePolicy, { supportType: "STANDARD" });
        assert.equal(cluster.inputs.version, "1.36");
      });

      it("spreads /19 private subnets over 3 AZs and never maps public IPs", () => {
        const subnets = ofType(result, "aws:ec2/subnet:Subnet");
        const privateSubnets = subnets.filter(
          (subnet) =>
            (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"] === "1",
        );
        const publicSubnets = subnets.filter(
          (subnet) => (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/elb"] === "1",
        );
        assert.equal(privateSubnets.length, 3);
        assert.equal(publicSubnets.length, 3);
        assert.equal(new Set(privateSubnets.map((subnet) => subnet.inputs.availabilityZone)).size, 3);
        for (const subnet of privateSubnets) assert.match(String(subnet.inputs.cidrBlock), /\/19$/);
        for (const subnet of subnets) assert.equal(subnet.inputs.mapPublicIpOnLaunch, false);
        const clusterSubnets = (
          single(result, "aws:eks/cluster:Cluster").inputs.vpcConfig as { subnetIds: string[] }
        ).subnetIds;
        assert.equal(clusterSubnets.length, 3);
      });

      it("keeps NAT egress until the cluster is gone (the cluster depends on NAT gateways and private routes)", () => {
        const cluster = single(result, "aws:eks/cluster:Cluster");
        const egress = [
          ...ofType(result, "aws:ec2/natGateway:NatGateway"),
          ...ofType(result, "aws:ec2/route:Route").filter((route) => route.inputs.natGatewayId !== undefined),
        ];
        assert.ok(egress.length >= 4);
        for (const resource of egress) assert.ok(cluster.dependencies.includes(resource.urn), resource.name);
      });

      it("has an S3 gateway endpoint on the private route tables and VPC flow logs", () => {
        const endpoint = single(result, "aws:ec2/vpcEndpoint:VpcEndpoint");
        assert.equal(endpoint.inputs.vpcEndpointType, "Gateway");
        assert.equal(endpoint.inputs.serviceName, "com.amazonaws.eu-west-1.s3");
        assert.equal((endpoint.inputs.routeTableIds as string[]).length, 3);
        assert.equal(single(result, "aws:ec2/flowLog:FlowLog").inputs.trafficType, "ALL");
      });

      it("tags resources with environment and owner", () => {
        const tags = single(result, "aws:ec2/vpc:Vpc").inputs.tags as Record<string, string>;
        assert.equal(tags.environment, stack);
        assert.equal(tags.owner, "platform-team");
        assert.equal(tags["managed-by"], "pulumi");
      });

      it("outputs the kubeconfig only as a secret, and the update-kubeconfig command", () => {
        assert.equal(result.outputs.kubeconfig, "[secret]");
        assert.equal(
          result.outputs.updateKubeconfigCommand,
          `aws eks update-kubeconfig --region eu-west-1 --name platform-${stack}`,
        );
        assert.match(
          String(result.outputs.clusterEndpoint),
          /^https:\/\/[0-9A-F]{32}\.gr7\.eu-west-1\.eks\.amazonaws\.com$/,
        );
      });
    });
  }

  describe("Auto Mode stacks (dev, prod)", () => {
    for (const stack of ["dev", "prod"]) {
      it(`${stack}: enables compute, block storage and load balancing together, with the minimal roles`, async () => {
        const result = await synthesizedStack(stack);
        const cluster = single(result, "aws:eks/cluster:Cluster");
        const nodeRole = ofType(result, "aws:iam/role:Role").find((role) => role.name.endsWith("-node"));
        assert.ok(nodeRole);
        assert.deepEqual(cluster.inputs.computeConfig, {
          enabled: true,
          nodePools: ["system", "general-purpose"],
          nodeRoleArn: `arn:aws:iam::111122223333:role/platform-${stack}-node`,
        });
        assert.deepEqual(cluster.inputs.storageConfig, { blockStorage: { enabled: true } });
        assert.deepEqual(cluster.inputs.kubernetesNetworkConfig, { elasticLoadBalancing: { enabled: true } });
        assert.deepEqual(policyNamesOf(result, `platform-${stack}-cluster`), [
          "AmazonEKSBlockStoragePolicy",
          "AmazonEKSClusterPolicy",
          "AmazonEKSComputePolicy",
          "AmazonEKSLoadBalancingPolicy",
          "AmazonEKSNetworkingPolicy",
        ]);
        assert.deepEqual(policyNamesOf(result, `platform-${stack}-node`), [
          "AmazonEC2ContainerRegistryPullOnly",
          "AmazonEKSWorkerNodeMinimalPolicy",
        ]);
        const trust = JSON.parse(
          String(
            ofType(result, "aws:iam/role:Role").find((role) => role.name.endsWith("-cluster"))?.inputs
              .assumeRolePolicy,
          ),
        );
        assert.deepEqual(trust.Statement[0].Action, ["sts:AssumeRole", "sts:TagSession"]);
        assert.equal(ofType(result, "aws:eks/nodeGroup:NodeGroup").length, 0);
      });
    }

    it("dev is cheap: one NAT gateway, short retention, an expiry tag, no deletion protection", async () => {
      const result = await synthesizedStack("dev");
      assert.equal(ofType(result, "aws:ec2/natGateway:NatGateway").length, 1);
      const cluster = single(result, "aws:eks/cluster:Cluster");
      assert.equal((cluster.inputs.tags as Record<string, string>)["expires-on"], "2026-12-31");
      assert.equal(cluster.inputs.deletionProtection, false);
      assert.equal(cluster.protect, false);
    });

    it("prod is hardened: NAT per AZ, a year of logs, deletion protection in EKS and in Pulumi", async () => {
      const result = await synthesizedStack("prod");
      assert.equal(ofType(result, "aws:ec2/natGateway:NatGateway").length, 3);
      const cluster = single(result, "aws:eks/cluster:Cluster");
      assert.equal(cluster.inputs.deletionProtection, true);
      assert.equal(cluster.protect, true);
      const logGroup = ofType(result, "aws:cloudwatch/logGroup:LogGroup").find((group) =>
        String(group.inputs.name).endsWith("/cluster"),
      );
      assert.equal(logGroup?.inputs.retentionInDays, 365);
    });
  });

  describe("karpenter mode (staging)", () => {
    it("runs a Bottlerocket system node group and the EKS add-ons Auto Mode would provide, without VPC CNI or kube-proxy under Cilium", async () => {
      const result = await synthesizedStack("staging");
      const cluster = single(result, "aws:eks/cluster:Cluster");
      assert.equal(cluster.inputs.computeConfig, undefined);
      assert.equal(cluster.inputs.bootstrapSelfManagedAddons, false);
      const nodeGroup = single(result, "aws:eks/nodeGroup:NodeGroup");
      assert.equal(nodeGroup.inputs.amiType, "BOTTLEROCKET_ARM_64");
      assert.deepEqual(nodeGroup.inputs.scalingConfig, { minSize: 2, desiredSize: 2, maxSize: 3 });
      const addons = ofType(result, "aws:eks/addon:Addon").map((addon) => addon.inputs.addonName);
      assert.ok(addons.includes("eks-pod-identity-agent"));
      assert.ok(addons.includes("aws-ebs-csi-driver"));
      assert.ok(!addons.includes("vpc-cni"), "Cilium replaces the VPC CNI");
      assert.ok(!addons.includes("kube-proxy"), "Cilium replaces kube-proxy");
      const ebs = ofType(result, "aws:eks/addon:Addon").find(
        (addon) => addon.inputs.addonName === "aws-ebs-csi-driver",
      );
      assert.deepEqual(
        (ebs?.inputs.podIdentityAssociations as { serviceAccount: string }[])[0].serviceAccount,
        "ebs-csi-controller-sa",
      );
    });

    it("launches system nodes from a launch template (IMDSv2 only, both Bottlerocket volumes encrypted gp3) tainted CriticalAddonsOnly", async () => {
      const result = await synthesizedStack("staging");
      const nodeGroup = single(result, "aws:eks/nodeGroup:NodeGroup");
      const template = single(result, "aws:ec2/launchTemplate:LaunchTemplate");
      assert.ok(nodeGroup.inputs.launchTemplate, "the node group names its launch template");
      assert.ok(nodeGroup.dependencies.includes(template.urn));
      assert.deepEqual(template.inputs.metadataOptions, {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 2,
      });
      // Bottlerocket: /dev/xvda is the OS volume, /dev/xvdb the data volume; a device left out keeps the AMI's
      // unencrypted mapping.
      const devices = template.inputs.blockDeviceMappings as {
        deviceName: string;
        ebs: Record<string, unknown>;
      }[];
      assert.deepEqual(devices.map((device) => device.deviceName).sort(), ["/dev/xvda", "/dev/xvdb"]);
      for (const device of devices) {
        assert.equal(device.ebs.encrypted, "true", device.deviceName);
        assert.equal(device.ebs.volumeType, "gp3", device.deviceName);
      }
      assert.deepEqual(nodeGroup.inputs.taints, [
        { key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" },
        { key: "node.cilium.io/agent-not-ready", value: "true", effect: "NO_EXECUTE" },
      ]);
      assert.equal(nodeGroup.inputs.diskSize, undefined, "disk size comes from the launch template");
    });
  });
});

describe("synthesizing a bad config", () => {
  it("fails before declaring any resource, with every problem listed", async () => {
    await assert.rejects(
      synthesize("dev", {
        overrides: { network: { privateSubnetPrefix: 24 }, cluster: { publicAccessCidrs: ["0.0.0.0/0"] } },
      }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.problems.map((problem) => problem.key),
          [
            "eks-gitops-platform:network.privateSubnetPrefix",
            "eks-gitops-platform:cluster.publicAccessCidrs.0",
          ],
        );
        return true;
      },
    );
  });

  it("refuses a region whose account sees fewer than 3 AZs", async () => {
    await assert.rejects(
      synthesize("dev", { overrides: { "aws:region": "us-west-1" } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /network\.availabilityZoneCount = 3: us-west-1 offers only 2 AZs .*pick another region/,
        );
        return true;
      },
    );
  });

  it("applies a version change only to the cluster's version", async () => {
    const [before, after] = [
      await synthesizedStack("dev"),
      await synthesize("dev", { overrides: { cluster: { kubernetesVersion: "1.35" } } }),
    ];
    assert.equal(single(after, "aws:eks/cluster:Cluster").inputs.version, "1.35");
    const changed = after.resources.filter((resource) => {
      const previous = before.resources.find((item) => item.urn === resource.urn);
      return JSON.stringify(previous?.inputs) !== JSON.stringify(resource.inputs);
    });
    assert.deepEqual(
      changed.map((resource) => resource.type),
      ["aws:eks/cluster:Cluster"],
    );
  });
});

describe("reaching the private endpoint", () => {
  it("opens 443 on the cluster security group to the VPC and to the configured private networks only", async () => {
    const result = await synthesize("dev", {
      overrides: { cluster: { privateAccessCidrs: ["10.100.0.0/16"] } },
    });
    const cluster = single(result, "aws:eks/cluster:Cluster");
    const rules = ofType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    assert.deepEqual(
      rules.map((rule) => [
        rule.inputs.cidrIpv4,
        rule.inputs.fromPort,
        rule.inputs.toPort,
        rule.inputs.ipProtocol,
      ]),
      [
        ["10.40.0.0/16", 443, 443, "tcp"],
        ["10.100.0.0/16", 443, 443, "tcp"],
      ],
    );
    for (const rule of rules) {
      assert.match(String(rule.inputs.securityGroupId), /^sg-[0-9a-f]{17}$/);
      assert.ok(rule.dependencies.includes(cluster.urn), "the rule targets the cluster's own security group");
    }
  });
});
