import type { Policies } from "@pulumi/policy";
import { devExpiryTag, devSingleNat, prodDeletionProtection } from "./cost";
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
import { eksNoAwsAuthConfigMap, eksNoIrsaAnnotations, eksNoIrsaOidcProvider } from "./identity";
import { eksClusterLogGroup, kmsDeletionWindow, kmsKeyRotation, logGroupRetention } from "./kms-and-logs";
import {
  eksMultiAz,
  sgNoPublicIngress,
  sgOpenEgress,
  vpcPodSubnetSize,
  vpcPrivateSubnetNoPublicIp,
} from "./network";
import { argocdSourcePinned, eksFargateNamespaces, helmReleasePinned } from "./workloads";

/** Name of the pack as the CLI and the Pulumi Cloud show it. */
export const policyPackName = "eks-gitops-platform-guardrails";

/**
 * Every policy of the pack, importable without starting the analyzer (only index.ts constructs the PolicyPack).
 * Order is the order of the report table.
 */
export const policies: Policies = [
  eksEndpointPrivate,
  eksSecretsEncryption,
  kmsKeyRotation,
  kmsDeletionWindow,
  eksControlPlaneLogging,
  eksClusterLogGroup,
  logGroupRetention,
  eksAccessEntriesOnly,
  eksNoCreatorAdmin,
  eksNoAwsAuthConfigMap,
  eksNoIrsaOidcProvider,
  eksNoIrsaAnnotations,
  eksVersionSupported,
  eksVersionUpgradeDue,
  eksStandardSupport,
  vpcPodSubnetSize,
  vpcPrivateSubnetNoPublicIp,
  eksMultiAz,
  eksAutoModeConsistent,
  eksAutoModeNoRedundantAddons,
  sgNoPublicIngress,
  sgOpenEgress,
  eksFargateNamespaces,
  helmReleasePinned,
  argocdSourcePinned,
  devExpiryTag,
  devSingleNat,
  prodDeletionProtection,
];
