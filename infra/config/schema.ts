import { z } from "zod";
import { addressesNeeded, parseCidr } from "../network/plan";
import { fargateProfilesSchema } from "./fargate";
import { fleetSchema } from "./fleet";
import { addonsSchema, gitopsSchema } from "./gitops";
import { dayNumber } from "./patterns";
import { findKubernetesVersion, kubernetesVersions, newestKubernetesVersion } from "./kubernetes-versions";
import { stackReferencePattern } from "../foundation/contract";

/**
 * The typed stack configuration. Every knob has a default here (documented in the README's config reference);
 * environment-dependent defaults are filled in by `applyEnvironmentDefaults` so dev stays cheap and prod hardened.
 */

const iamPrincipalArn = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;
/**
 * Lowercase, 2–32 characters: Cilium's cluster.name rule, and the longest derived names (EventBridge rules such as
 * `<cluster>-karpenter-instance-state-change`) stay within AWS's 64-character limit.
 */
export const clusterNamePattern = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
export const clusterNameRule =
  "must be 2–32 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit (Cilium's cluster name rule; role, rule and log group names are derived from it)";
const logRetentionChoices = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const supportedVersions = kubernetesVersions.map((entry) => entry.version).join(", ");

const cidr = z.string().superRefine((value, ctx) => {
  try {
    parseCidr(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `${(error as Error).message}` });
  }
});

const principalList = z
  .array(
    z
      .string()
      .regex(
        iamPrincipalArn,
        "must be an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins (not an account id, group or assumed-role session)",
      ),
  )
  .default([]);

export const networkSchema = z.strictObject({
  vpcCidr: cidr.default("10.0.0.0/16"),
  availabilityZoneCount: z
    .number()
    .int()
    .min(3, "the cluster must span at least 3 AZs so that losing one AZ leaves a quorum of capacity; use 3")
    .max(6, "at most 6 AZs are supported; use 3")
    .default(3),
  privateSubnetPrefix: z
    .number()
    .int()
    .min(16, "private subnets larger than /16 are not supported; use 19")
    .max(
      20,
      "private subnets hold every pod IP (VPC CNI): a /21 or smaller runs out of pod IPs as the cluster grows (a /24 leaves ~250 pod IPs per AZ); use 19 (8,190 IPs per AZ) or at least 20",
    )
    .default(19),
  publicSubnetPrefix: z
    .number()
    .int()
    .min(20, "public subnets only hold load balancers and NAT gateways; use 24")
    .max(27, "a public subnet smaller than /27 cannot hold an ALB's ENIs; use 24")
    .default(24),
  natGateways: z.enum(["single", "perAz"]).optional(),
  flowLogRetentionDays: z.number().int().optional(),
});

export const clusterSchema = z.strictObject({
  name: z.string().regex(clusterNamePattern, clusterNameRule).optional(),
  kubernetesVersion: z
    .string()
    .refine((value) => findKubernetesVersion(value) !== undefined, {
      message: `is not a Kubernetes version this project supports on EKS (${supportedVersions}); use ${newestKubernetesVersion}`,
    })
    .default(newestKubernetesVersion),
  supportType: z.enum(["STANDARD", "EXTENDED"]).default("STANDARD"),
  publicAccessCidrs: z
    .array(
      cidr.refine((value) => parseCidr(value).prefix >= 16, {
        message:
          "opens the Kubernetes API to a whole /0–/15 range (0.0.0.0/0 is the internet); list only your pipeline's egress addresses, e.g. 203.0.113.10/32",
      }),
    )
    .default([]),
  privateAccessCidrs: z
    .array(
      cidr.refine((value) => parseCidr(value).prefix >= 8, {
        message: "is wider than a /8; list the private ranges of your runners or VPN, e.g. 10.100.0.0/16",
      }),
    )
    .default([]),
  logRetentionDays: z.number().optional(),
  deletionProtection: z.boolean().optional(),
  kmsDeletionWindowDays: z
    .number()
    .int()
    .min(7, "KMS allows 7 to 30 days; use 30")
    .max(30, "KMS allows 7 to 30 days; use 30")
    .default(30),
});

export const accessSchema = z.strictObject({
  deployRoleArn: z
    .string()
    .regex(
      iamPrincipalArn,
      "must be the IAM role ARN your pipeline assumes, e.g. arn:aws:iam::123456789012:role/github-deploy",
    )
    .optional(),
  admins: principalList,
  viewers: principalList,
});

export const computeSchema = z.strictObject({
  mode: z
    .enum(["auto", "karpenter"], {
      message:
        'must be "auto" (EKS Auto Mode, the default) or "karpenter" (self-managed Karpenter on a system node group)',
    })
    .default("auto"),
  systemNodeGroup: z
    .strictObject({
      instanceTypes: z
        .array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, "must be an EC2 instance type such as m7g.large"))
        .min(1)
        .default(["m7g.large"]),
      minSize: z
        .number()
        .int()
        .min(2, "the system node group runs Karpenter and CoreDNS: keep at least 2 nodes")
        .default(2),
      maxSize: z.number().int().min(2).default(3),
    })
    .default({ instanceTypes: ["m7g.large"], minSize: 2, maxSize: 3 }),
  fargateProfiles: fargateProfilesSchema,
});

/** Which foundation stack (VPC, runner, CI roles) this cluster is built on: see infra/foundation/contract.ts. */
export const foundationRefSchema = z.strictObject({
  stack: z
    .string()
    .regex(
      stackReferencePattern,
      "must be a fully qualified stack name <organization>/eks-gitops-foundation/<stack>, e.g. acme/eks-gitops-foundation/eu-west-1 (self-managed backends: organization/eks-gitops-foundation/eu-west-1)",
    )
    .optional(),
});

export const platformSchema = z
  .strictObject({
    environment: z.enum(["dev", "staging", "prod"], { message: 'must be "dev", "staging" or "prod"' }),
    expiresOn: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date written YYYY-MM-DD, e.g. 2026-12-31")
      .refine((value) => dayNumber(value) !== undefined, "must be a real calendar date, e.g. 2026-12-31")
      .optional(),
    owner: z.string().min(1).default("platform-team"),
    tags: z.record(z.string(), z.string()).default({}),
    network: networkSchema.default(networkSchema.parse({})),
    cluster: clusterSchema.default(clusterSchema.parse({})),
    foundation: foundationRefSchema.default({}),
    access: accessSchema.default(accessSchema.parse({})),
    compute: computeSchema.default(computeSchema.parse({})),
    gitops: gitopsSchema.default(gitopsSchema.parse({})),
    addons: addonsSchema.default(addonsSchema.parse({})),
    // No default: a standalone stack's resolved config (and synthesized graph) stays exactly what it was.
    fleet: fleetSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const zones = Array.from({ length: config.network.availabilityZoneCount }, (_, index) => String(index));
    const vpc = safeParseCidr(config.network.vpcCidr);
    if (vpc && config.network.privateSubnetPrefix <= 20) {
      const needed = addressesNeeded({
        availabilityZones: zones,
        privatePrefix: config.network.privateSubnetPrefix,
        publicPrefix: config.network.publicSubnetPrefix,
      });
      const available = 1n << BigInt(32 - vpc.prefix);
      if (needed > available || config.network.privateSubnetPrefix < vpc.prefix) {
        ctx.addIssue({
          code: "custom",
          path: ["network", "vpcCidr"],
          message: `holds ${available} addresses but ${zones.length} private /${config.network.privateSubnetPrefix} and ${zones.length} public /${config.network.publicSubnetPrefix} subnets need ${needed}; use a /16 (e.g. 10.0.0.0/16) or smaller subnets`,
        });
      }
    }
    if (config.environment === "dev" && config.expiresOn === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["expiresOn"],
        message:
          "dev stacks are disposable and must carry an expiry date (the expire workflow destroys them after it); set e.g. 2026-12-31",
      });
    }
    if (config.environment === "prod" && config.cluster.publicAccessCidrs.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "publicAccessCidrs"],
        message:
          "prod keeps the API endpoint private; reach it from a runner inside the VPC and remove this list",
      });
    }
    if (config.access.deployRoleArn === undefined && config.access.admins.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["access", "admins"],
        message:
          "with the creator's admin access off, nobody could reach the cluster: set access.deployRoleArn or list at least one admin role ARN",
      });
    }
    if (config.compute.mode === "auto" && config.addons.cilium) {
      ctx.addIssue({
        code: "custom",
        path: ["addons", "cilium"],
        message:
          "EKS Auto Mode does not support alternate CNI plugins (it manages pod networking and has its own network policy, which the platform enables); set compute.mode: karpenter to run Cilium, or addons.cilium: false",
      });
    }
    if (config.compute.mode === "auto" && config.addons.corednsAutoscaler) {
      ctx.addIssue({
        code: "custom",
        path: ["addons", "corednsAutoscaler"],
        message:
          "EKS Auto Mode runs DNS as a service on each node, so there is no CoreDNS Deployment to scale; set addons.corednsAutoscaler: false, or compute.mode: karpenter",
      });
    }
    if (config.compute.systemNodeGroup.maxSize < config.compute.systemNodeGroup.minSize) {
      ctx.addIssue({
        code: "custom",
        path: ["compute", "systemNodeGroup", "maxSize"],
        message: `must be at least minSize (${config.compute.systemNodeGroup.minSize})`,
      });
    }
    if (
      config.cluster.logRetentionDays !== undefined &&
      !logRetentionChoices.includes(config.cluster.logRetentionDays)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "logRetentionDays"],
        message: `is not a CloudWatch Logs retention period; use one of ${logRetentionChoices.join(", ")}`,
      });
    }
    if (
      config.network.flowLogRetentionDays !== undefined &&
      !logRetentionChoices.includes(config.network.flowLogRetentionDays)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "flowLogRetentionDays"],
        message: `is not a CloudWatch Logs retention period; use one of ${logRetentionChoices.join(", ")}`,
      });
    }
  });

function safeParseCidr(value: string): { prefix: number } | undefined {
  try {
    return parseCidr(value);
  } catch {
    return undefined;
  }
}

export type RawPlatformConfig = z.output<typeof platformSchema>;
