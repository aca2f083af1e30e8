import { z } from "zod";
import { addressesNeeded, parseCidr } from "./cidr";
import { fargateProfilesSchema } from "./fargate";
import { fleetSchema } from "./fleet";
import { addonsSchema, gitopsSchema, publicArgoCdEndpointIssue } from "./gitops";
import { dayNumber } from "./patterns";
import { findKubernetesVersion, kubernetesVersions, newestKubernetesVersion } from "./kubernetes-versions";
import { stackReferencePattern } from "../foundation/contract";

/**
 * The typed stack configuration. Every knob has a default here (documented in the README's config reference);
 * environment-dependent defaults are filled in by `applyEnvironmentDefaults` so dev stays cheap and prod hardened.
 */

const iamPrincipalArn = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;
/** IAM's limit on a role or user name (the part after the last "/"; the path before it may be longer). */
const iamNameLimit = 64;
const iamNameFits = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1).length <= iamNameLimit;
const iamNameMessage = `names a role or user longer than IAM's ${iamNameLimit}-character limit; check the ARN`;

/**
 * An integer within bounds. A value out of bounds stops validation there (zod `abort`), so the rules across keys
 * below never compute with, say, 4294967295 availability zones or 1e308.
 */
export function intBetween(min: number, max: number, messages: { min?: string; max?: string } = {}) {
  return z
    .number()
    .min(min, { message: messages.min ?? `must be at least ${min}`, abort: true })
    .max(max, { message: messages.max ?? `must be at most ${max}`, abort: true })
    .int({ message: "must be a whole number", abort: true });
}

/** AWS tagging limits (Tag Editor / resource tagging API). */
export const tagLimits = { keyLength: 128, valueLength: 256, tagsPerResource: 50 } as const;
/** Letters, digits, spaces and _ . : / = + - @ in any language: the characters every tagging service accepts. */
const tagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Tags the program itself puts on every resource (infra/config's resolvePlatformConfig). */
export const platformTagKeys = [
  "project",
  "stack",
  "environment",
  "owner",
  "managed-by",
  "expires-on",
] as const;

const tagValue = z
  .string()
  .max(tagLimits.valueLength, `is longer than AWS's ${tagLimits.valueLength}-character limit for tag values`)
  .regex(
    tagCharacters,
    "may only hold letters, digits, spaces and _ . : / = + - @ (AWS tag value characters)",
  );
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
const retentionDays = z.number().refine((value) => logRetentionChoices.includes(value), {
  message: `is not a CloudWatch Logs retention period; use one of ${logRetentionChoices.join(", ")}`,
  abort: true,
});
const supportedVersions = kubernetesVersions.map((entry) => entry.version).join(", ");

const cidr = z.string().superRefine((value, ctx) => {
  try {
    parseCidr(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `${(error as Error).message}` });
  }
});

/** A list of CIDR blocks in which every address range appears once: no duplicates, no block inside another. */
function cidrList(item: z.ZodType<string>) {
  return z
    .array(item)
    .max(40, "EKS accepts at most 40 CIDR blocks per access list")
    .superRefine((blocks, ctx) => {
      const parsed = blocks.map(safeParseCidr);
      parsed.forEach((block, index) => {
        if (!block) return;
        const earlier = parsed.findIndex((other, otherIndex) => {
          if (!other || otherIndex >= index) return false;
          const wider = Math.min(block.prefix, other.prefix);
          const shift = BigInt(32 - wider);
          return block.base >> shift === other.base >> shift;
        });
        if (earlier < 0) return;
        ctx.addIssue({
          code: "custom",
          path: [index],
          message:
            blocks[earlier] === blocks[index]
              ? `is listed twice (also item ${earlier}); list each range once`
              : `overlaps item ${earlier} (${blocks[earlier]}); list each address range once (keep the wider block or split it)`,
        });
      });
    })
    .default([]);
}

const principalList = z
  .array(
    z
      .string()
      .regex(
        iamPrincipalArn,
        "must be an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins (not an account id, group or assumed-role session)",
      )
      .refine(iamNameFits, iamNameMessage),
  )
  .max(100, "at most 100 principals per list; grant a role that people assume instead")
  .default([]);

/** Keys a cluster stack no longer has: the foundation owns the VPC's public side, NAT and flow logs. */
const movedToFoundation = (key: string) =>
  z
    .unknown()
    .refine(() => false, {
      message: `the VPC now belongs to the foundation: set eks-gitops-foundation:network.${key} in foundation/Pulumi.<stack>.yaml and remove it here`,
    })
    .optional();

export const networkSchema = z.strictObject({
  /** The cluster's own VPC block: one of the foundation's network.clusterCidrs. */
  vpcCidr: cidr.default("10.40.0.0/16"),
  availabilityZoneCount: intBetween(3, 6, {
    min: "the cluster must span at least 3 AZs so that losing one AZ leaves a quorum of capacity; use 3",
    max: "at most 6 AZs are supported; use 3",
  }).default(3),
  privateSubnetPrefix: intBetween(16, 20, {
    min: "private subnets larger than /16 are not supported; use 19",
    max: "private subnets hold every pod IP (VPC CNI): a /21 or smaller runs out of pod IPs as the cluster grows (a /24 leaves ~250 pod IPs per AZ); use 19 (8,190 IPs per AZ) or at least 20",
  }).default(19),
  publicSubnetPrefix: movedToFoundation("publicSubnetPrefix"),
  natGateways: movedToFoundation("natGateways"),
  flowLogRetentionDays: movedToFoundation("flowLogRetentionDays"),
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
  publicAccessCidrs: cidrList(
    cidr.refine((value) => parseCidr(value).prefix >= 16, {
      message:
        "opens the Kubernetes API to a whole /0–/15 range (0.0.0.0/0 is the internet); list only your pipeline's egress addresses, e.g. 203.0.113.10/32",
    }),
  ),
  privateAccessCidrs: cidrList(
    cidr.refine((value) => parseCidr(value).prefix >= 8, {
      message: "is wider than a /8; list the private ranges of your runners or VPN, e.g. 10.100.0.0/16",
    }),
  ),
  logRetentionDays: retentionDays.optional(),
  deletionProtection: z.boolean().optional(),
  kmsDeletionWindowDays: intBetween(7, 30, {
    min: "KMS allows 7 to 30 days; use 30",
    max: "KMS allows 7 to 30 days; use 30",
  }).default(30),
});

export const accessSchema = z.strictObject({
  deployRoleArn: z
    .string()
    .regex(
      iamPrincipalArn,
      "must be the IAM role ARN your pipeline assumes, e.g. arn:aws:iam::123456789012:role/github-deploy",
    )
    .refine(iamNameFits, iamNameMessage)
    .optional(),
  admins: principalList,
  viewers: principalList,
});

/** EKS service quota "nodes per managed node group" (default 450). */
const nodeGroupMaxNodes = 450;
const nodeGroupLimitMessage = `EKS allows at most ${nodeGroupMaxNodes} nodes per managed node group; the system group needs 2–3 (Karpenter adds the rest)`;

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
        .min(1, "list at least one instance type, e.g. [m7g.large]")
        .max(20, "a managed node group takes at most 20 instance types")
        .default(["m7g.large"]),
      minSize: intBetween(2, nodeGroupMaxNodes, {
        min: "the system node group runs Karpenter and CoreDNS: keep at least 2 nodes",
        max: nodeGroupLimitMessage,
      }).default(2),
      maxSize: intBetween(2, nodeGroupMaxNodes, { max: nodeGroupLimitMessage }).default(3),
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
    owner: tagValue.min(1, "must name the owning team, e.g. platform-team").default("platform-team"),
    tags: z
      .record(
        z
          .string()
          .min(1, "tag keys must not be empty")
          .max(
            tagLimits.keyLength,
            `is longer than AWS's ${tagLimits.keyLength}-character limit for tag keys`,
          )
          .regex(
            tagCharacters,
            "may only hold letters, digits, spaces and _ . : / = + - @ (AWS tag key characters)",
          )
          .refine(
            (key) => !key.toLowerCase().startsWith("aws:"),
            "the aws: prefix is reserved for AWS's own tags",
          )
          .refine(
            (key) => !(platformTagKeys as readonly string[]).includes(key),
            `is set by the platform on every resource (${platformTagKeys.join(", ")}); use the matching config key or another tag name`,
          ),
        tagValue,
      )
      .refine((tags) => Object.keys(tags).length <= tagLimits.tagsPerResource - platformTagKeys.length, {
        message: `AWS allows ${tagLimits.tagsPerResource} tags per resource and the platform sets ${platformTagKeys.length}; keep at most ${tagLimits.tagsPerResource - platformTagKeys.length}`,
      })
      .default({}),
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
      });
      const available = 1n << BigInt(32 - vpc.prefix);
      if (needed > available || config.network.privateSubnetPrefix < vpc.prefix) {
        ctx.addIssue({
          code: "custom",
          path: ["network", "vpcCidr"],
          message: `holds ${available} addresses but ${zones.length} private /${config.network.privateSubnetPrefix} subnets need ${needed}; use a /16 block (e.g. 10.40.0.0/16) or /20 subnets`,
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
    const publicArgoCd = publicArgoCdEndpointIssue(config.environment, config.gitops.argocd);
    if (publicArgoCd) {
      ctx.addIssue({ code: "custom", path: ["gitops", "argocd", "publicEndpoint"], message: publicArgoCd });
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
    if (config.compute.mode === "karpenter" && !config.addons.karpenter) {
      // One `pulumi up` would delete the controller's Pod Identity role and queue while Argo CD deletes the node
      // pools: the controller could no longer terminate its instances (NodeClaims hang, EC2 keeps billing).
      ctx.addIssue({
        code: "custom",
        path: ["addons", "karpenter"],
        message:
          "compute.mode: karpenter launches every workload node with Karpenter (the system nodes take only CriticalAddonsOnly pods), and switching it off would delete the controller's IAM role while its nodes still run; keep addons.karpenter: true, or move to compute.mode: auto",
      });
    }
    if (config.compute.systemNodeGroup.maxSize < config.compute.systemNodeGroup.minSize) {
      ctx.addIssue({
        code: "custom",
        path: ["compute", "systemNodeGroup", "maxSize"],
        message: `must be at least minSize (${config.compute.systemNodeGroup.minSize})`,
      });
    }
  });

function safeParseCidr(value: string): { base: bigint; prefix: number } | undefined {
  try {
    return parseCidr(value);
  } catch {
    return undefined;
  }
}

export type RawPlatformConfig = z.output<typeof platformSchema>;
