import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PodIdentityRole } from "../identity/pod-identity";
import { ciliumStartupTaint, systemNodeTaint } from "./contract";
import { platformRoleNames } from "../config/roles";

export interface SystemNodesArgs {
  readonly clusterName: pulumi.Output<string>;
  readonly kubernetesVersion: string;
  readonly nodeRoleArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly partition: pulumi.Input<string>;
  readonly instanceTypes: readonly string[];
  readonly minSize: number;
  readonly maxSize: number;
  readonly ciliumReplacesVpcCni: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * karpenter mode's fixed capacity: a small Bottlerocket managed node group for Karpenter's controller, CoreDNS and
 * Argo CD (Karpenter cannot schedule the pods that run Karpenter), plus the EKS add-ons that Auto Mode would
 * otherwise provide. With Cilium, the VPC CNI, kube-proxy and CoreDNS are left out here: CoreDNS needs pod
 * networking, which Cilium brings later, so the platform adds it after Cilium.
 */
export class SystemNodes extends pulumi.ComponentResource {
  readonly readiness: pulumi.Resource[];

  constructor(name: string, args: SystemNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:SystemNodes", name, {}, opts);
    const parent = { parent: this };
    const launchTemplate = new aws.ec2.LaunchTemplate(
      name,
      {
        namePrefix: `${name}-`,
        description: "EKS system node group: IMDSv2 only, encrypted gp3 volumes",
        updateDefaultVersion: true,
        metadataOptions: systemNodeMetadataOptions,
        blockDeviceMappings: bottlerocketBlockDevices.map((device) => ({
          deviceName: device.deviceName,
          ebs: {
            volumeType: "gp3",
            volumeSize: device.volumeSize,
            encrypted: "true",
            deleteOnTermination: "true",
          },
        })),
        tagSpecifications: ["instance", "volume"].map((resourceType) => ({
          resourceType,
          tags: { ...args.tags },
        })),
        tags: args.tags,
      },
      parent,
    );
    const nodeGroup = new aws.eks.NodeGroup(
      name,
      {
        clusterName: args.clusterName,
        nodeGroupName: "system",
        version: args.kubernetesVersion,
        nodeRoleArn: args.nodeRoleArn,
        subnetIds: args.subnetIds,
        amiType: bottlerocketAmiType(args.instanceTypes),
        capacityType: "ON_DEMAND",
        instanceTypes: [...args.instanceTypes],
        scalingConfig: { minSize: args.minSize, desiredSize: args.minSize, maxSize: args.maxSize },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: {
          id: launchTemplate.id,
          version: pulumi.interpolate`${launchTemplate.latestVersion}`,
        },
        labels: { "node.platform/role": "system" },
        // Only pods that tolerate CriticalAddonsOnly run here (Karpenter, CoreDNS, Cilium, Argo CD, the EKS add-ons);
        // with Cilium also its startup taint, as on Karpenter's pools. The EKS API spells effects in its own enum.
        taints: [
          { key: systemNodeTaint.key, value: systemNodeTaint.value, effect: "NO_SCHEDULE" },
          ...(args.ciliumReplacesVpcCni
            ? [{ key: ciliumStartupTaint.key, value: ciliumStartupTaint.value, effect: "NO_EXECUTE" }]
            : []),
        ],
        tags: args.tags,
      },
      parent,
    );

    const addon = (addonName: string, extra: EksAddonOptions = {}) =>
      eksAddon(this, `${name}-${addonName}`, args.clusterName, addonName, args.tags, extra);

    const podIdentityAgent = addon("eks-pod-identity-agent");
    const ebsRole = new PodIdentityRole(
      `${name}-ebs-csi`,
      {
        roleName: args.clusterName.apply(platformRoleNames.ebsCsi),
        partition: args.partition,
        managedPolicies: ["AmazonEBSCSIDriverPolicy"],
        tags: args.tags,
      },
      parent,
    );
    const readiness: pulumi.Resource[] = [nodeGroup, podIdentityAgent];
    readiness.push(
      addon("aws-ebs-csi-driver", {
        podIdentityAssociations: [{ roleArn: ebsRole.roleArn, serviceAccount: "ebs-csi-controller-sa" }],
        dependsOn: [nodeGroup, podIdentityAgent],
      }),
    );

    if (!args.ciliumReplacesVpcCni) {
      const cniRole = new PodIdentityRole(
        `${name}-vpc-cni`,
        {
          roleName: args.clusterName.apply(platformRoleNames.vpcCni),
          partition: args.partition,
          managedPolicies: ["AmazonEKS_CNI_Policy"],
          tags: args.tags,
        },
        parent,
      );
      // Prefix delegation: each ENI slot carries a /28, so pods per node are not capped by ENI IP count.
      const vpcCni = addon("vpc-cni", {
        podIdentityAssociations: [{ roleArn: cniRole.roleArn, serviceAccount: "aws-node" }],
        configurationValues: JSON.stringify({
          env: { ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "1" },
        }),
        dependsOn: [podIdentityAgent],
      });
      readiness.push(
        vpcCni,
        addon("kube-proxy"),
        // CoreDNS's replica count is left to the cluster-proportional-autoscaler add-on.
        addon("coredns", { dependsOn: [nodeGroup, vpcCni] }),
      );
    }
    this.readiness = readiness;
    this.registerOutputs({});
  }
}

/**
 * IMDSv2 only. Hop limit 2, not 1: the controllers on these nodes that are not on the host network (Karpenter reads
 * its region from IMDS when AWS_REGION is unset, the EBS CSI controller its instance metadata) must reach it. Workload
 * pods never run here (CriticalAddonsOnly); Karpenter's own nodes keep hop limit 1 (EC2NodeClass).
 */
export const systemNodeMetadataOptions = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 2,
} as const;

/**
 * Bottlerocket has two volumes: /dev/xvda holds the OS image (read-only root, verified at boot), /dev/xvdb the
 * data volume (container images, logs, emptyDir). Both are listed, so both are encrypted gp3: a device left out
 * would come from the AMI's own mapping, unencrypted unless the account encrypts by default. Sizes follow
 * Karpenter's Bottlerocket defaults for the OS volume (4 GiB) and leave room for images on the data volume.
 */
export const bottlerocketBlockDevices = [
  { deviceName: "/dev/xvda", role: "os", volumeSize: 4 },
  { deviceName: "/dev/xvdb", role: "data", volumeSize: 50 },
] as const;

export type EksAddonOptions = Pick<aws.eks.AddonArgs, "podIdentityAssociations" | "configurationValues"> & {
  readonly dependsOn?: pulumi.Resource[];
};

/**
 * An EKS managed add-on that takes over whatever a previous install left (OVERWRITE on create) but keeps settings
 * someone changed in the cluster on update (PRESERVE), so a `pulumi up` never silently reverts a hot fix.
 */
export function eksAddon(
  parent: pulumi.Resource,
  name: string,
  clusterName: pulumi.Input<string>,
  addonName: string,
  tags: Readonly<Record<string, string>>,
  { dependsOn = [], ...extra }: EksAddonOptions = {},
): aws.eks.Addon {
  return new aws.eks.Addon(
    name,
    {
      clusterName,
      addonName,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "PRESERVE",
      tags,
      ...extra,
    },
    { parent, dependsOn },
  );
}

/** Bottlerocket AMI type for the system node group: Graviton families (m7g, c8g, t4g…) run arm64. */
export function bottlerocketAmiType(
  instanceTypes: readonly string[],
): "BOTTLEROCKET_ARM_64" | "BOTTLEROCKET_x86_64" {
  const isArm = (instanceType: string) => /^[a-z]+\d+[a-z]*g[a-z]*\./.test(instanceType);
  const arm = instanceTypes.filter(isArm);
  if (arm.length > 0 && arm.length < instanceTypes.length) {
    throw new Error(
      `compute.systemNodeGroup.instanceTypes mixes arm64 (${arm.join(", ")}) and x86_64 types; one node group runs one AMI, pick one architecture`,
    );
  }
  return arm.length > 0 ? "BOTTLEROCKET_ARM_64" : "BOTTLEROCKET_x86_64";
}
