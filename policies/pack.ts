import type { Policies } from "@pulumi/policy";
import { addonLoadBalancerControllerUpstream, addonRoute53Scoped, addonSecretsScoped } from "./addon-iam";
import { argocdCapabilityPrivate } from "./argocd-capability";
import { ciRunnerLogsEncrypted, ciRunnerPrivateSubnets, ciRunnerRoleNotAdmin } from "./ci-runner";
import { devExpiryTag, devSingleNat, prodDeletionProtection, prodNatPerAz } from "./cost";
import {
  eksAccessEntriesOnly,
  eksAutoModeConsistent,
  eksAutoModeNoRedundantAddons,
  eksControlPlaneLogging,
  eksEndpointPrivate,
  eksNoCreatorAdmin,
  eksSecretsEncryption,
  eksStandardSupport,
  eksVersionSupported,
  eksVersionUpgradeDue,
} from "./eks-cluster";
import { eksFleetHubAccess } from "./fleet";
import { iamNoAdminAccess, iamTrustPolicyScoped } from "./iam";
import {
  eksAccessAdminScoped,
  eksNoAwsAuthConfigMap,
  eksNoIrsaAnnotations,
  eksNoIrsaOidcProvider,
} from "./identity";
import {
  eksClusterLogGroup,
  kmsDeletionWindow,
  kmsKeyPolicyNoWildcard,
  kmsKeyRotation,
  logGroupKms,
  logGroupRetention,
} from "./kms-and-logs";
import { argocdServerPrivate, k8sNoPlaintextSecret, k8sStorageClassEncrypted } from "./kubernetes";
import {
  eksMultiAz,
  sgNoPublicIngress,
  sgOpenEgress,
  vpcFlowLogs,
  vpcPodSubnetSize,
  vpcPrivateSubnetNoPublicIp,
} from "./network";
import { ec2Imdsv2Required, eksNodeNoSsh } from "./nodes";
import { iamRolePermissionsBoundary } from "./role-boundary";
import { packSettingsPolicy, withExemptions } from "./lib/settings";
import { argocdSourcePinned, eksFargateNamespaces, helmReleasePinned } from "./workloads";

/** Name of the pack as the CLI and the Pulumi Cloud show it. */
export const policyPackName = "eks-gitops-platform-guardrails";

/**
 * The rules of the pack. To add one: write it in the module for its area and append it here; pack-settings and
 * exemptions are applied to every rule below, nothing else to register. Order is the order of the report table.
 */
export const rules: Policies = [
  eksEndpointPrivate,
  eksSecretsEncryption,
  kmsKeyRotation,
  kmsDeletionWindow,
  kmsKeyPolicyNoWildcard,
  eksControlPlaneLogging,
  eksClusterLogGroup,
  logGroupRetention,
  logGroupKms,
  eksAccessEntriesOnly,
  eksNoCreatorAdmin,
  eksAccessAdminScoped,
  iamNoAdminAccess,
  iamTrustPolicyScoped,
  iamRolePermissionsBoundary,
  eksNoAwsAuthConfigMap,
  eksNoIrsaOidcProvider,
  eksNoIrsaAnnotations,
  eksFleetHubAccess,
  eksVersionSupported,
  eksVersionUpgradeDue,
  eksStandardSupport,
  vpcPodSubnetSize,
  vpcPrivateSubnetNoPublicIp,
  eksMultiAz,
  vpcFlowLogs,
  eksNodeNoSsh,
  ec2Imdsv2Required,
  eksAutoModeConsistent,
  eksAutoModeNoRedundantAddons,
  sgNoPublicIngress,
  sgOpenEgress,
  eksFargateNamespaces,
  helmReleasePinned,
  argocdSourcePinned,
  argocdServerPrivate,
  k8sNoPlaintextSecret,
  k8sStorageClassEncrypted,
  argocdCapabilityPrivate,
  devExpiryTag,
  devSingleNat,
  prodDeletionProtection,
  prodNatPerAz,
  addonRoute53Scoped,
  addonSecretsScoped,
  addonLoadBalancerControllerUpstream,
  ciRunnerRoleNotAdmin,
  ciRunnerPrivateSubnets,
  ciRunnerLogsEncrypted,
];

/**
 * Every policy of the pack, importable without starting the analyzer (only index.ts constructs the PolicyPack):
 * pack-settings first (it records the environment and exemptions the rules read), then each rule with the
 * stack's exemptions applied to its violations.
 */
export const policies: Policies = [packSettingsPolicy(() => rules), ...rules.map(withExemptions)];
