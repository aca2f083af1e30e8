import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { type ExemptionLimit, stackEnvironment } from "./lib/settings";
import { atPath, elements, forType, isUnknown, UNKNOWN } from "./lib/values";

export type CapabilityProps = pulumi.Unwrap<aws.eks.CapabilityArgs>;
export const capabilityType = "aws:eks/capability:Capability";

/**
 * The EKS Argo CD capability's UI/API endpoint answers on the public internet unless `networkAccess.vpceIds` names
 * an interface endpoint for `com.amazonaws.<region>.eks-capabilities` (EKS user guide, argocd-private-access).
 * Mandatory on every environment; a dev stack that opts out (gitops.argocd.publicEndpoint) records an exemption
 * with its reason and expiry in its pack config, which reviewers see like any other. On prod no exemption covers
 * it: such an exemption is a pack-settings violation and never applies.
 */
export const argocdCapabilityPrivate: ResourceValidationPolicy & ExemptionLimit = {
  name: "argocd-capability-private",
  description:
    "The EKS Argo CD capability must keep its UI/API private: set configuration.argoCd.networkAccess.vpceIds to an interface VPC endpoint for com.amazonaws.<region>.eks-capabilities (a dev stack that opts out needs an exemption in its pack config; on prod no exemption applies).",
  enforcementLevel: "mandatory",
  notExemptibleOn: ["prod"],
  validateResource: forType<CapabilityProps>(capabilityType, (capability, _args, reportViolation) => {
    const problem = argoCdNetworkProblem(capability, stackEnvironment());
    if (problem) reportViolation(problem);
  }),
};

/** What is wrong with an Argo CD capability's network access, if anything. */
export function argoCdNetworkProblem(capability: CapabilityProps, environment: string): string | undefined {
  if (atPath(capability, "type") !== "ARGOCD") return undefined;
  const vpceIds = elements(atPath(capability, "configuration", "argoCd", "networkAccess", "vpceIds"));
  if (vpceIds === UNKNOWN) return undefined;
  // An endpoint id not known yet (preview of a new endpoint) counts as set.
  if (vpceIds?.some((id) => isUnknown(id) || (typeof id === "string" && id !== ""))) return undefined;
  return `The Argo CD capability has no configuration.argoCd.networkAccess.vpceIds, so its UI/API answers on the public internet with Identity Center sign-in as the only gate (this stack is ${environment}); create an interface VPC endpoint for com.amazonaws.<region>.eks-capabilities and list its id (the platform does unless gitops.argocd.publicEndpoint is set, which only dev allows).`;
}
