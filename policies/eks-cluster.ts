import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import {
  controlPlaneLogTypes,
  eksKubernetesVersions,
  minorOf,
  newestEksKubernetesVersion,
} from "./lib/eks-facts";
import { describeOpenSpace, parseCidr, publicAddresses } from "./lib/cidr";
import {
  at,
  configWithDefaults,
  type ConfigSchemaWithDefaults,
  elements,
  forType,
  isUnknown,
  show,
  UNKNOWN,
} from "./lib/values";

/** Inputs of aws:eks/cluster:Cluster as the analyzer sees them (outputs resolved, or unknown during preview). */
export type ClusterProps = pulumi.Unwrap<aws.eks.ClusterArgs>;
export const clusterType = "aws:eks/cluster:Cluster";

export interface EndpointConfig {
  /** Whether this stack may expose the API endpoint publicly at all (per stack in policies/config/<stack>.json). */
  allowPublicAccess: boolean;
  /** Smallest allowed prefix length of a public access CIDR: /16 is already 65,536 addresses. */
  minPublicCidrPrefix: number;
}

const endpointConfigSchema = {
  properties: {
    allowPublicAccess: { type: "boolean", default: false },
    minPublicCidrPrefix: { type: "integer", default: 16, minimum: 0, maximum: 32 },
  },
} satisfies ConfigSchemaWithDefaults<EndpointConfig>;

export const eksEndpointPrivate: ResourceValidationPolicy = {
  name: "eks-endpoint-private",
  description:
    "The EKS API endpoint must be private: set vpcConfig.endpointPrivateAccess: true and endpointPublicAccess: false (public access only where the stack's policy config allows it, and only with explicit narrow publicAccessCidrs).",
  enforcementLevel: "mandatory",
  configSchema: endpointConfigSchema,
  validateResource: forType<ClusterProps>(clusterType, (cluster, args, reportViolation) => {
    const config = configWithDefaults<EndpointConfig>(endpointConfigSchema, args.getConfig);
    for (const problem of endpointProblems(cluster, config)) reportViolation(problem);
  }),
};

/** What is wrong with a cluster's endpoint exposure; AWS defaults are private off, public on, CIDRs 0.0.0.0/0. */
export function endpointProblems(cluster: ClusterProps, config: EndpointConfig): string[] {
  const problems: string[] = [];
  const privateAccess = at(cluster, "vpcConfig", "endpointPrivateAccess");
  if (privateAccess !== UNKNOWN && privateAccess !== true) {
    problems.push(
      "vpcConfig.endpointPrivateAccess is off (unset means off): nodes and in-VPC runners would reach the API through the internet; set it to true.",
    );
  }
  const publicAccess = at(cluster, "vpcConfig", "endpointPublicAccess");
  if (publicAccess === UNKNOWN || publicAccess === false) return problems;
  const cidrs = elements(at(cluster, "vpcConfig", "publicAccessCidrs"));
  const cidrText =
    cidrs === UNKNOWN
      ? "unknown CIDRs"
      : cidrs === undefined || cidrs.length === 0
        ? "0.0.0.0/0 (unset)"
        : cidrs.map(show).join(", ");
  if (!config.allowPublicAccess) {
    problems.push(
      `The API endpoint is public (endpointPublicAccess ${publicAccess === undefined ? "unset, which AWS treats as true" : "true"}; open to ${cidrText}) but this stack's policy config does not allow a public endpoint; set vpcConfig.endpointPublicAccess: false and reach the API from inside the VPC.`,
    );
    return problems;
  }
  if (cidrs === UNKNOWN) return problems;
  if (cidrs === undefined || cidrs.length === 0) {
    problems.push(
      "The API endpoint is public with no publicAccessCidrs, which AWS treats as 0.0.0.0/0; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.",
    );
    return problems;
  }
  // The ranges are judged together: 0.0.0.0/1 + 128.0.0.0/1 is the internet, like 0.0.0.0/0.
  const known = cidrs.filter((cidr): cidr is string => typeof cidr === "string");
  const limit = 1n << BigInt(32 - config.minPublicCidrPrefix);
  const invalid = known.filter((cidr) => parseCidr(cidr) === undefined);
  if (publicAddresses(known, 4) > limit || publicAddresses(known, 6) > 0n || invalid.length > 0) {
    problems.push(
      `publicAccessCidrs ${known.join(", ")} together open the API to ${invalid.length > 0 ? `unparseable ranges (${invalid.join(", ")})` : describeOpenSpace(known, publicAddresses(known, 6) > 0n ? 6 : 4)}, more than a /${config.minPublicCidrPrefix}; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.`,
    );
  }
  return problems;
}

export const eksSecretsEncryption: ResourceValidationPolicy = {
  name: "eks-secrets-encryption",
  description:
    'Kubernetes Secrets must be envelope-encrypted with a customer-managed KMS key: set encryptionConfig { resources: ["secrets"], provider: { keyArn: <your aws.kms.Key arn> } }.',
  enforcementLevel: "mandatory",
  validateResource: forType<ClusterProps>(clusterType, (cluster, _args, reportViolation) => {
    const problem = encryptionProblem(cluster);
    if (problem) reportViolation(problem);
  }),
};

export function encryptionProblem(cluster: ClusterProps): string | undefined {
  const encryption = at(cluster, "encryptionConfig");
  if (encryption === UNKNOWN) return undefined;
  if (encryption === undefined) {
    return 'encryptionConfig is not set, so Secrets are stored with only EBS-level encryption; add encryptionConfig { resources: ["secrets"], provider: { keyArn } } with a customer KMS key.';
  }
  const resources = elements(at(cluster, "encryptionConfig", "resources"));
  if (resources !== UNKNOWN && !(resources ?? []).includes("secrets") && !(resources ?? []).some(isUnknown)) {
    return 'encryptionConfig.resources does not include "secrets"; set resources: ["secrets"].';
  }
  const keyArn = at(cluster, "encryptionConfig", "provider", "keyArn");
  // An ARN of a key created in the same program is unknown during preview: that is the expected good case.
  // keyArn is required by the provider, so a missing one can only be an unknown some tool dropped; not a finding.
  if (keyArn === UNKNOWN || keyArn === undefined) return undefined;
  if (typeof keyArn !== "string" || keyArn === "") {
    return "encryptionConfig.provider.keyArn is empty; point it at a customer-managed aws.kms.Key with rotation on.";
  }
  if (/(^|:)alias\/aws\//.test(keyArn)) {
    return `encryptionConfig.provider.keyArn ${keyArn} is an AWS-managed key, which cannot rotate on your schedule or be audited by key policy; use a customer-managed aws.kms.Key.`;
  }
  return undefined;
}

export interface LoggingConfig {
  requiredLogTypes: string[];
}

const loggingConfigSchema = {
  properties: {
    requiredLogTypes: {
      type: "array",
      items: { type: "string", enum: [...controlPlaneLogTypes] },
      default: [...controlPlaneLogTypes],
    },
  },
} satisfies ConfigSchemaWithDefaults<LoggingConfig>;

export const eksControlPlaneLogging: ResourceValidationPolicy = {
  name: "eks-control-plane-logging",
  description:
    "All five control-plane log types must be on: set enabledClusterLogTypes: [api, audit, authenticator, controllerManager, scheduler].",
  enforcementLevel: "mandatory",
  configSchema: loggingConfigSchema,
  validateResource: forType<ClusterProps>(clusterType, (cluster, args, reportViolation) => {
    const config = configWithDefaults<LoggingConfig>(loggingConfigSchema, args.getConfig);
    const missing = missingLogTypes(cluster, config.requiredLogTypes);
    if (missing.length > 0) {
      reportViolation(
        `Control-plane log types not enabled: ${missing.join(", ")}; add them to enabledClusterLogTypes (audit and authenticator are what an incident review needs).`,
      );
    }
  }),
};

export function missingLogTypes(cluster: ClusterProps, required: readonly string[]): string[] {
  const enabled = elements(at(cluster, "enabledClusterLogTypes"));
  if (enabled === UNKNOWN || (enabled ?? []).some(isUnknown)) return [];
  return required.filter((type) => !(enabled ?? []).includes(type));
}

export interface AccessConfig {
  allowedAuthenticationModes: string[];
}

const accessConfigSchema = {
  properties: {
    allowedAuthenticationModes: {
      type: "array",
      items: { type: "string", enum: ["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"] },
      default: ["API"],
    },
  },
} satisfies ConfigSchemaWithDefaults<AccessConfig>;

export const eksAccessEntriesOnly: ResourceValidationPolicy = {
  name: "eks-access-entries-only",
  description:
    'Cluster access must be managed by EKS Access Entries, not the aws-auth ConfigMap: set accessConfig.authenticationMode: "API".',
  enforcementLevel: "mandatory",
  configSchema: accessConfigSchema,
  validateResource: forType<ClusterProps>(clusterType, (cluster, args, reportViolation) => {
    const config = configWithDefaults<AccessConfig>(accessConfigSchema, args.getConfig);
    const mode = at(cluster, "accessConfig", "authenticationMode");
    if (mode === UNKNOWN) return;
    if (mode === undefined || !config.allowedAuthenticationModes.includes(mode)) {
      reportViolation(
        `accessConfig.authenticationMode is ${mode === undefined ? "unset (AWS defaults to CONFIG_MAP)" : mode}; set it to "API" and grant access with aws.eks.AccessEntry + AccessPolicyAssociation.`,
      );
    }
  }),
};

export const eksNoCreatorAdmin: ResourceValidationPolicy = {
  name: "eks-no-creator-admin",
  description:
    "The identity that creates the cluster must not become a hidden cluster admin: set accessConfig.bootstrapClusterCreatorAdminPermissions: false and declare explicit access entries.",
  enforcementLevel: "mandatory",
  validateResource: forType<ClusterProps>(clusterType, (cluster, _args, reportViolation) => {
    const creatorAdmin = at(cluster, "accessConfig", "bootstrapClusterCreatorAdminPermissions");
    if (creatorAdmin === UNKNOWN || creatorAdmin === false) return;
    reportViolation(
      `accessConfig.bootstrapClusterCreatorAdminPermissions is ${creatorAdmin === undefined ? "unset (AWS defaults to true)" : String(creatorAdmin)}: whoever runs the first deployment silently becomes cluster admin, and changing it later replaces the cluster; set it to false.`,
    );
  }),
};

export interface VersionConfig {
  /** Newest EKS Kubernetes minor version, e.g. "1.36". */
  newestVersion: string;
  /** Minors behind newest from which an advisory violation is raised. */
  advisoryLag: number;
  /** Minors behind newest from which a mandatory violation is raised. */
  mandatoryLag: number;
  /** The minor versions EKS offers; anything else cannot be created (the pack's copy of the EKS table). */
  offeredVersions: string[];
}

export type VersionVerdict =
  | { kind: "ok" }
  | { kind: "unpinned" }
  | { kind: "invalid"; version: string }
  | { kind: "not-offered"; version: string }
  | { kind: "behind"; version: string; lag: number; level: "advisory" | "mandatory" };

/** lag = minor(newest) − minor(version); lag ≥ mandatoryLag is mandatory, ≥ advisoryLag advisory. */
export function classifyVersion(version: string | undefined, config: VersionConfig): VersionVerdict {
  if (version === undefined) return { kind: "unpinned" };
  const cluster = minorOf(version);
  const newest = minorOf(config.newestVersion);
  if (cluster === undefined) return { kind: "invalid", version };
  if (!config.offeredVersions.includes(version)) return { kind: "not-offered", version };
  if (newest === undefined)
    throw new Error(`policy config newestVersion "${config.newestVersion}" is not like 1.36`);
  const lag = newest - cluster;
  if (lag >= config.mandatoryLag) return { kind: "behind", version, lag, level: "mandatory" };
  if (lag >= config.advisoryLag) return { kind: "behind", version, lag, level: "advisory" };
  return { kind: "ok" };
}

const versionConfigSchema = {
  properties: {
    newestVersion: { type: "string", pattern: "^1\\.\\d+$", default: newestEksKubernetesVersion },
    advisoryLag: { type: "integer", minimum: 0, default: 1 },
    mandatoryLag: { type: "integer", minimum: 1, default: 2 },
    offeredVersions: {
      type: "array",
      items: { type: "string", pattern: "^1\\.\\d+$" },
      default: [...eksKubernetesVersions],
    },
  },
} satisfies ConfigSchemaWithDefaults<VersionConfig>;

/** The cluster's version verdict under the policy config, with the newest version it was judged against. */
function clusterVersionVerdict(
  cluster: ClusterProps,
  getConfig: () => object,
): (VersionVerdict & { newestVersion: string }) | undefined {
  const version = at(cluster, "version");
  if (version === UNKNOWN) return undefined;
  const config = configWithDefaults<VersionConfig>(versionConfigSchema, getConfig);
  return { ...classifyVersion(version, config), newestVersion: config.newestVersion };
}

/** Mandatory half of the version rule: too far behind to stay in standard support for long. */
export const eksVersionSupported: ResourceValidationPolicy = {
  name: "eks-version-supported",
  description:
    "The cluster's Kubernetes version must be one EKS offers and not fall too far behind the newest (pack config offeredVersions / newestVersion / mandatoryLag): upgrade one minor at a time via cluster.kubernetesVersion.",
  enforcementLevel: "mandatory",
  configSchema: versionConfigSchema,
  validateResource: forType<ClusterProps>(clusterType, (cluster, args, reportViolation) => {
    const verdict = clusterVersionVerdict(cluster, args.getConfig);
    if (verdict?.kind === "invalid") {
      reportViolation(`version "${verdict.version}" is not a Kubernetes minor version such as 1.36.`);
    } else if (verdict?.kind === "not-offered") {
      const offered = configWithDefaults<VersionConfig>(versionConfigSchema, args.getConfig).offeredVersions;
      reportViolation(
        `Kubernetes ${verdict.version} is not a version EKS offers (${offered.join(", ")}); EKS refuses to create it: set cluster.kubernetesVersion to one of these (a new EKS release goes into the pack's offeredVersions).`,
      );
    } else if (verdict?.kind === "behind" && verdict.level === "mandatory") {
      reportViolation(
        `Kubernetes ${verdict.version} is ${verdict.lag} minor versions behind the newest (${verdict.newestVersion}); it is at or near the end of standard support (extended support costs 6x): upgrade one minor at a time.`,
      );
    }
  }),
};

/** Advisory half: one minor behind is fine today but needs a plan. */
export const eksVersionUpgradeDue: ResourceValidationPolicy = {
  name: "eks-version-upgrade-due",
  description:
    "The cluster runs behind the newest EKS version (pack config newestVersion / advisoryLag) or leaves its version unpinned: plan the upgrade and pin cluster.kubernetesVersion.",
  enforcementLevel: "advisory",
  configSchema: versionConfigSchema,
  validateResource: forType<ClusterProps>(clusterType, (cluster, args, reportViolation) => {
    const verdict = clusterVersionVerdict(cluster, args.getConfig);
    if (verdict?.kind === "unpinned") {
      reportViolation(
        "version is unset, so EKS picks its default and a replacement may land on another minor; pin it.",
      );
    } else if (verdict?.kind === "behind" && verdict.level === "advisory") {
      reportViolation(
        `Kubernetes ${verdict.version} is ${verdict.lag === 1 ? "one minor" : `${verdict.lag} minors`} behind the newest (${verdict.newestVersion}); plan the upgrade.`,
      );
    }
  }),
};

export const eksStandardSupport: ResourceValidationPolicy = {
  name: "eks-standard-support",
  description:
    'Use the standard support policy so an outdated version is upgraded rather than billed at extended-support rates: set upgradePolicy.supportType: "STANDARD".',
  enforcementLevel: "advisory",
  validateResource: forType<ClusterProps>(clusterType, (cluster, _args, reportViolation) => {
    const supportType = at(cluster, "upgradePolicy", "supportType");
    if (supportType === UNKNOWN || supportType === "STANDARD") return;
    reportViolation(
      `upgradePolicy.supportType is ${supportType === undefined ? "unset (AWS defaults to EXTENDED)" : supportType}: past standard support the control plane costs $0.60 instead of $0.10 per hour; set it to "STANDARD".`,
    );
  }),
};

export const eksAutoModeConsistent: ResourceValidationPolicy = {
  name: "eks-auto-mode-consistent",
  description:
    "EKS Auto Mode needs computeConfig.enabled, storageConfig.blockStorage.enabled and kubernetesNetworkConfig.elasticLoadBalancing.enabled all true (or all off), with bootstrapSelfManagedAddons: false.",
  enforcementLevel: "mandatory",
  validateResource: forType<ClusterProps>(clusterType, (cluster, _args, reportViolation) => {
    for (const problem of autoModeProblems(cluster)) reportViolation(problem);
  }),
};

export function autoModeProblems(cluster: ClusterProps): string[] {
  const switches = {
    "computeConfig.enabled": at(cluster, "computeConfig", "enabled"),
    "storageConfig.blockStorage.enabled": at(cluster, "storageConfig", "blockStorage", "enabled"),
    "kubernetesNetworkConfig.elasticLoadBalancing.enabled": at(
      cluster,
      "kubernetesNetworkConfig",
      "elasticLoadBalancing",
      "enabled",
    ),
  };
  const values = Object.values(switches);
  if (values.some((value) => value === UNKNOWN)) return [];
  const on = Object.entries(switches).filter(([, value]) => value === true);
  if (on.length > 0 && on.length < values.length) {
    const off = Object.entries(switches).filter(([, value]) => value !== true);
    return [
      `Auto Mode is half on: ${on.map(([key]) => key).join(", ")} true but ${off.map(([key]) => key).join(", ")} not; EKS rejects this, set all three to true (Auto Mode) or all to false.`,
    ];
  }
  const bootstrap = at(cluster, "bootstrapSelfManagedAddons");
  if (on.length === values.length && bootstrap !== UNKNOWN && bootstrap !== false) {
    return [
      `Auto Mode is on but bootstrapSelfManagedAddons is ${bootstrap === undefined ? "unset (defaults to true)" : String(bootstrap)}: the unmanaged VPC CNI, kube-proxy and CoreDNS would be installed next to Auto Mode's own; set it to false (this replaces the cluster, so do it at creation).`,
    ];
  }
  return [];
}

export const addonType = "aws:eks/addon:Addon";

/** What Auto Mode already runs on its nodes, so the EKS add-on of the same job is redundant or conflicting. */
export const autoModeBuiltIns: Record<string, string> = {
  "vpc-cni": "pod networking",
  "kube-proxy": "service routing",
  coredns: "cluster DNS",
  "aws-ebs-csi-driver": "EBS volumes",
  "eks-pod-identity-agent": "the Pod Identity agent",
};

export const eksAutoModeNoRedundantAddons: StackValidationPolicy = {
  name: "eks-auto-mode-no-redundant-addons",
  description:
    "On an Auto Mode cluster, do not install the vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver or eks-pod-identity-agent add-ons: Auto Mode runs them itself.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    const autoMode = args.resources.some(
      (resource) =>
        resource.type === clusterType &&
        at(resource.props as ClusterProps, "computeConfig", "enabled") === true,
    );
    if (!autoMode) return;
    for (const addon of args.resources.filter((resource) => resource.type === addonType)) {
      const name = at(addon.props as pulumi.Unwrap<aws.eks.AddonArgs>, "addonName");
      if (typeof name === "string" && name in autoModeBuiltIns) {
        reportViolation(
          `The ${name} add-on duplicates what Auto Mode provides (${autoModeBuiltIns[name]}); its pods only run on non-Auto nodes and confuse upgrades: remove it.`,
          addon.urn,
        );
      }
    }
  },
};
