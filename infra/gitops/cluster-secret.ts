import { enabledAddons } from "../addons/enabled";
import { ciliumStartupTaint } from "../cluster/contract";
import type { PlatformConfig } from "../config";
import { everydayAddons } from "../config/addons";

/**
 * The gitops-bridge contract: the Argo CD cluster Secret's labels are the add-on switches of this stack (the
 * ApplicationSets in addons/ select clusters by them) and its annotations carry the infrastructure values the
 * add-ons need (their templates read them). Pure functions, so every rule is testable without Pulumi.
 */

/** Where Argo CD reaches the cluster: itself when it runs inside it; the cluster ARN for the EKS capability. */
export function clusterServer(config: PlatformConfig, clusterArn: string): string {
  return config.gitops.argocd.install === "capability" ? clusterArn : "https://kubernetes.default.svc";
}

export function clusterSecretLabels(config: PlatformConfig): Record<string, string> {
  const switches = Object.fromEntries(
    Object.entries(enabledAddons(config)).map(([addon, enabled]) => [`enable_${addon}`, String(enabled)]),
  );
  return {
    "argocd.argoproj.io/secret-type": "cluster",
    environment: config.environment,
    compute_mode: config.compute.mode,
    argocd_availability: config.gitops.highAvailability ? "ha" : "single",
    ...switches,
  };
}

/** Infrastructure values, resolved (plain strings), that the annotations are built from. */
export interface InfrastructureValues {
  readonly accountId: string;
  readonly partition: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly endpoint: string;
  readonly vpcId: string;
  readonly privateSubnetIds: readonly string[];
  readonly clusterSecurityGroupId: string;
  /** Present when the karpenter add-on is on (both modes). */
  readonly karpenterNodeRoleName?: string;
  /** karpenter mode only. */
  readonly karpenterControllerRoleArn?: string;
  readonly karpenterInterruptionQueueName?: string;
  /** karpenter mode with Cilium only. */
  readonly ciliumOperatorRoleArn?: string;
  /** Present when the add-on is on. */
  readonly awsLoadBalancerControllerRoleArn?: string;
  readonly externalDnsRoleArn?: string;
  readonly externalSecretsRoleArn?: string;
}

/** The API server host without scheme or path, as Cilium's k8sServiceHost wants it. */
export function endpointHost(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//, "").replace(/[/:].*$/, "");
}

export function clusterSecretAnnotations(
  config: PlatformConfig,
  infra: InfrastructureValues,
): Record<string, string> {
  const addons = enabledAddons(config);
  const annotations: Record<string, string> = {
    addons_repo_url: config.gitops.repoUrl,
    addons_repo_revision: config.gitops.revision,
    addons_repo_basepath: config.gitops.path,
    aws_account_id: infra.accountId,
    aws_partition: infra.partition,
    aws_region: config.region,
    aws_cluster_name: infra.clusterName,
    aws_cluster_arn: infra.clusterArn,
    aws_vpc_id: infra.vpcId,
    aws_private_subnet_ids: infra.privateSubnetIds.join(","),
    cluster_endpoint_host: endpointHost(infra.endpoint),
    cluster_security_group_id: infra.clusterSecurityGroupId,
  };
  if (addons.karpenter) {
    annotations.karpenter_node_role_name = required(infra.karpenterNodeRoleName, "karpenterNodeRoleName");
    annotations.karpenter_node_class_kind = config.compute.mode === "auto" ? "NodeClass" : "EC2NodeClass";
    // JSON lists: the node-pool patches insert them as YAML flow sequences.
    annotations.karpenter_subnet_selector_terms = JSON.stringify(
      infra.privateSubnetIds.map((id) => ({ id })),
    );
    annotations.karpenter_security_group_selector_terms = JSON.stringify([
      { id: infra.clusterSecurityGroupId },
    ]);
    annotations.karpenter_startup_taints = JSON.stringify(addons.cilium ? [ciliumStartupTaint] : []);
    if (config.compute.mode === "karpenter") {
      annotations.karpenter_controller_role_arn = required(
        infra.karpenterControllerRoleArn,
        "karpenterControllerRoleArn",
      );
      annotations.karpenter_interruption_queue = required(
        infra.karpenterInterruptionQueueName,
        "karpenterInterruptionQueueName",
      );
    }
  }
  if (addons.cilium) {
    annotations.cilium_operator_role_arn = required(infra.ciliumOperatorRoleArn, "ciliumOperatorRoleArn");
  }
  Object.assign(annotations, everydayAddonAnnotations(config, infra));
  return annotations;
}

/** Values of the everyday add-ons: the role ARNs are informational (Pod Identity binds them), the rest configures. */
function everydayAddonAnnotations(
  config: PlatformConfig,
  infra: InfrastructureValues,
): Record<string, string> {
  const everyday = everydayAddons(config);
  const annotations: Record<string, string> = {};
  if (everyday.awsLoadBalancerController) {
    annotations.aws_load_balancer_controller_role_arn = required(
      infra.awsLoadBalancerControllerRoleArn,
      "awsLoadBalancerControllerRoleArn",
    );
  }
  if (everyday.externalDns.enabled) {
    annotations.external_dns_role_arn = required(infra.externalDnsRoleArn, "externalDnsRoleArn");
    // A JSON list: the ApplicationSet inserts it as a YAML flow sequence (one --zone-id-filter per zone).
    annotations.external_dns_zone_ids = JSON.stringify(everyday.externalDns.hostedZoneIds);
    annotations.external_dns_policy = everyday.externalDns.policy;
    // One owner per cluster: ExternalDNS only changes records whose TXT registry entry carries its own owner id.
    annotations.external_dns_txt_owner_id = infra.clusterName;
  }
  if (everyday.externalSecrets.enabled) {
    annotations.external_secrets_role_arn = required(infra.externalSecretsRoleArn, "externalSecretsRoleArn");
    annotations.external_secrets_name_prefix = everyday.externalSecrets.namePrefix;
  }
  return annotations;
}

/** stringData of the cluster Secret (declarative-setup format). No credentials: Argo CD uses its own identity. */
export function clusterSecretData(
  config: PlatformConfig,
  clusterName: string,
  clusterArn: string,
): Record<string, string> {
  return connectionData(config.gitops.argocd.install, { name: clusterName, arn: clusterArn });
}

/** A spoke as its hub's Argo CD reaches it (infra/fleet): by ARN (capability) or by endpoint with an IAM role. */
export interface RemoteCluster {
  readonly name: string;
  readonly arn: string;
  readonly endpoint: string;
  readonly certificateAuthorityData: string;
  /** Chart hub: the role in the spoke's account that the controller's Pod Identity role assumes. */
  readonly roleArn?: string;
}

/**
 * stringData of a spoke's cluster Secret on its hub. Still no credentials: the capability is identified by the
 * cluster ARN and authenticates as its capability role; the chart's controller runs `argocd-k8s-auth` with
 * `awsAuthConfig` (an EKS token for `clusterName`, signed by the assumed `roleARN`), the CA bundle is public.
 */
export function spokeClusterSecretData(
  hubInstall: PlatformConfig["gitops"]["argocd"]["install"],
  spoke: RemoteCluster,
): Record<string, string> {
  return connectionData(hubInstall, spoke);
}

function connectionData(
  install: PlatformConfig["gitops"]["argocd"]["install"],
  cluster: { name: string; arn: string } | RemoteCluster,
): Record<string, string> {
  if (install === "capability") return { name: cluster.name, server: cluster.arn };
  if (!("endpoint" in cluster))
    return {
      name: cluster.name,
      server: "https://kubernetes.default.svc",
      config: JSON.stringify({ tlsClientConfig: { insecure: false } }),
    };
  if (cluster.roleArn === undefined)
    throw new Error(
      `spoke ${cluster.name} exports no hubAccessRoleArn, which a chart hub needs for awsAuthConfig`,
    );
  return {
    name: cluster.name,
    server: cluster.endpoint,
    config: JSON.stringify({
      awsAuthConfig: { clusterName: cluster.name, roleARN: cluster.roleArn },
      tlsClientConfig: { insecure: false, caData: cluster.certificateAuthorityData },
    }),
  };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined)
    throw new Error(`cluster Secret annotation needs ${name}, which the add-on layer did not provide`);
  return value;
}
