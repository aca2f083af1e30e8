import { strict as assert } from "node:assert";
import { ConfigError } from "../../infra/config";
import { synthesize, SynthResource, SynthResult } from "../../synth";
import { cidrContains } from "../../infra/config/cidr";
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
        // The environment's CI roles come from the foundation: deploy as admin, preview as admin (dev, staging)
        // or view-only (prod: no write RBAC from pull requests).
        const deployRole = `arn:aws:iam::111122223333:role/platform-eu-west-1-${stack}-deploy`;
        const previewRole = `arn:aws:iam::111122223333:role/platform-eu-west-1-${stack}-preview`;
        assert.ok(entries.includes(deployRole));
        assert.ok(entries.includes(previewRole));
        assert.ok(entries.includes("arn:aws:iam::111122223333:role/platform-admins"));
        const policyOf = (principal: string) =>
          ofType(result, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
            .filter(fromConfig)
            .find((association) => association.inputs.principalArn === principal)?.inputs.policyArn;
        assert.match(String(policyOf(deployRole)), /AmazonEKSClusterAdminPolicy$/);
        assert.match(
          String(policyOf(previewRole)),
          stack === "prod" ? /AmazonEKSViewPolicy$/ : /AmazonEKSClusterAdminPolicy$/,
        );
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

      it("takes its VPC from the foundation and declares no VPC, gateway, NAT or flow log of its own", async () => {
        const foundation = await synthesizedStack("foundation-eu-west-1");
        for (const type of [
          "aws:ec2/vpc:Vpc",
          "aws:ec2/internetGateway:InternetGateway",
          "aws:ec2/natGateway:NatGateway",
          "aws:ec2/eip:Eip",
          "aws:ec2/flowLog:FlowLog",
          "aws:ec2/vpcEndpoint:VpcEndpoint",
          "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
        ])
          assert.equal(ofType(result, type).length, 0, `${stack} declares ${type}`);
        const subnets = ofType(result, "aws:ec2/subnet:Subnet");
        assert.equal(subnets.length, 3);
        for (const subnet of subnets) assert.equal(subnet.inputs.vpcId, foundation.outputs.vpcId);
        assert.equal(result.outputs.vpcId, foundation.outputs.vpcId);
        assert.deepEqual(result.outputs.publicSubnetIds, foundation.outputs.publicSubnetIds);
      });

      it("spreads /19 private subnets over the foundation's 3 AZs, inside its own block, never mapping public IPs", async () => {
        const foundation = await synthesizedStack("foundation-eu-west-1");
        const subnets = ofType(result, "aws:ec2/subnet:Subnet");
        const block = (result.config as { network: { vpcCidr: string } }).network.vpcCidr;
        assert.ok((foundation.outputs.clusterCidrs as string[]).includes(block));
        assert.deepEqual(
          subnets.map((subnet) => subnet.inputs.availabilityZone),
          foundation.outputs.availabilityZones,
        );
        for (const subnet of subnets) {
          assert.match(String(subnet.inputs.cidrBlock), /\/19$/);
          assert.ok(
            cidrContains(block, String(subnet.inputs.cidrBlock)),
            `${subnet.inputs.cidrBlock} outside ${block}`,
          );
          assert.equal(subnet.inputs.mapPublicIpOnLaunch, false);
          assert.equal(
            (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"],
            "1",
          );
        }
        const cluster = single(result, "aws:eks/cluster:Cluster");
        assert.equal((cluster.inputs.vpcConfig as { subnetIds: string[] }).subnetIds.length, 3);
        for (const subnet of subnets) assert.ok(cluster.propertyDependencies.vpcConfig.includes(subnet.urn));
      });

      it("routes each AZ to the foundation's NAT gateway of that AZ and its S3 endpoint, and keeps egress until the cluster is gone", async () => {
        const foundation = await synthesizedStack("foundation-eu-west-1");
        const cluster = single(result, "aws:eks/cluster:Cluster");
        const routes = ofType(result, "aws:ec2/route:Route");
        assert.deepEqual(
          routes.map((route) => route.inputs.natGatewayId),
          foundation.outputs.natGatewayIds,
        );
        const s3 = ofType(
          result,
          "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
        );
        assert.equal(s3.length, 3);
        for (const association of s3)
          assert.equal(association.inputs.vpcEndpointId, foundation.outputs.s3EndpointId);
        const egress = [
          ...routes,
          ...s3,
          ...ofType(result, "aws:ec2/routeTableAssociation:RouteTableAssociation"),
        ];
        assert.equal(egress.length, 9);
        for (const resource of egress) assert.ok(cluster.dependencies.includes(resource.urn), resource.name);
      });

      it("tags resources (every IAM role included: deploy rights are scoped by this tag) with environment and owner", () => {
        const tags = single(result, "aws:eks/cluster:Cluster").inputs.tags as Record<string, string>;
        assert.equal(tags.environment, stack);
        assert.equal(tags.owner, "platform-team");
        assert.equal(tags["managed-by"], "pulumi");
        const roles = ofType(result, "aws:iam/role:Role");
        assert.ok(roles.length >= 2);
        for (const role of roles)
          assert.equal((role.inputs.tags as Record<string, string>).environment, stack, role.name);
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

    it("dev is cheap: short retention, an expiry tag, no deletion protection", async () => {
      const result = await synthesizedStack("dev");
      const cluster = single(result, "aws:eks/cluster:Cluster");
      assert.equal((cluster.inputs.tags as Record<string, string>)["expires-on"], "2026-12-31");
      assert.equal(cluster.inputs.deletionProtection, false);
      assert.equal(cluster.protect, false);
    });

    it("prod is hardened: a year of logs, deletion protection in EKS and in Pulumi", async () => {
      const result = await synthesizedStack("prod");
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
  it("admits 443 from the environment's runner security group (by group id), configured private networks, and nothing public", async () => {
    const foundation = await synthesizedStack("foundation-eu-west-1");
    const environments = foundation.outputs.environments as Record<string, { runnerSecurityGroupId: string }>;
    for (const stack of ["dev", "staging", "prod"]) {
      const result = await synthesizedStack(stack);
      const rules = ofType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
      assert.deepEqual(
        rules.map((rule) => [
          rule.inputs.referencedSecurityGroupId,
          rule.inputs.cidrIpv4,
          rule.inputs.fromPort,
        ]),
        [[environments[stack].runnerSecurityGroupId, undefined, 443]],
        `${stack}: only its own runner's group`,
      );
      // Each environment's cluster admits a different runner: dev's runner never reaches prod's API.
      for (const other of ["dev", "staging", "prod"].filter((name) => name !== stack))
        assert.notEqual(environments[other].runnerSecurityGroupId, environments[stack].runnerSecurityGroupId);
    }
    const result = await synthesize("dev", {
      overrides: { cluster: { privateAccessCidrs: ["10.100.0.0/16"] } },
    });
    const cluster = single(result, "aws:eks/cluster:Cluster");
    const rules = ofType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    assert.deepEqual(
      rules.map((rule) => [
        rule.inputs.cidrIpv4 ?? rule.inputs.referencedSecurityGroupId,
        rule.inputs.ipProtocol,
      ]),
      [
        [environments.dev.runnerSecurityGroupId, "tcp"],
        ["10.100.0.0/16", "tcp"],
      ],
    );
    for (const rule of rules) {
      assert.match(String(rule.inputs.securityGroupId), /^sg-[0-9a-f]{17}$/);
      assert.ok(rule.dependencies.includes(cluster.urn), "the rule targets the cluster's own security group");
      assert.notEqual(rule.inputs.cidrIpv4, "0.0.0.0/0");
    }
    assert.equal((cluster.inputs.vpcConfig as Record<string, unknown>).endpointPublicAccess, false);
  });
});
