import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { atPath, elements, isUnknown, show } from "./lib/values";

/**
 * Fleet (hub-and-spoke) grants. The platform's copy of these facts is infra/fleet (a test checks they agree): the
 * hub's Argo CD gets exactly one access entry on each spoke, created by the spoke's `platform:fleet:HubAccess`
 * component, and a chart hub's Argo CD Pod Identity role gets nothing on the hub itself.
 */
export const hubAccessComponent = "platform:fleet:HubAccess";
const accessEntryType = "aws:eks/accessEntry:AccessEntry";
const associationType = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";
const podIdentityType = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
const roleType = "aws:iam/role:Role";

/**
 * The EKS access policies a hub may hold on a spoke, narrowest first. Cluster admin at cluster scope is allowed for
 * the documented reason (docs/gitops.md, Fleet): the add-ons the hub syncs install CRDs, ClusterRoles, webhooks
 * and namespaces, and RBAC lets no one create a ClusterRole granting more than it holds.
 */
export const hubAccessPolicies = [
  "AmazonEKSViewPolicy",
  "AmazonEKSEditPolicy",
  "AmazonEKSAdminPolicy",
  "AmazonEKSClusterAdminPolicy",
];

const inHubAccess = (resource: PolicyResource) => resource.urn.includes(`${hubAccessComponent}$`);
const policyName = (arn: unknown) => (typeof arn === "string" ? arn.split("/").pop() : undefined);
const sourcesOf = (resource: PolicyResource, property: string) =>
  (resource.propertyDependencies[property] ?? []).map((source) => source.urn);

export const eksFleetHubAccess: StackValidationPolicy = {
  name: "eks-fleet-hub-access",
  description:
    "A fleet hub's Argo CD gets one STANDARD access entry per spoke with exactly one EKS access policy (no Kubernetes groups, which bypass the access-policy audit; AmazonEKSClusterAdminPolicy only at cluster scope, for the reason in docs/gitops.md), and a chart hub's Argo CD Pod Identity role holds no access entry on the hub (its controller uses its service account there).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const grants = args.resources.filter(inHubAccess);
    const entries = grants.filter((resource) => resource.type === accessEntryType);
    const associations = grants.filter((resource) => resource.type === associationType);
    if (entries.length > 1)
      reportViolation(
        `The hub is granted ${entries.length} access entries on this spoke; it gets exactly one (its Argo CD identity).`,
      );
    for (const entry of entries) {
      const type = atPath(entry.props, "type");
      if (!isUnknown(type) && type !== undefined && type !== "STANDARD")
        reportViolation(`The hub's access entry has type ${show(type)}; use STANDARD.`, entry.urn);
      const groups = elements(atPath(entry.props, "kubernetesGroups"));
      if (groups !== undefined && !isUnknown(groups) && groups.length > 0)
        reportViolation(
          `The hub's access entry maps Kubernetes groups ${show(groups)}: RBAC bound to a group is invisible to \`aws eks list-associated-access-policies\` (system:masters cannot even be revoked); grant one EKS access policy instead.`,
          entry.urn,
        );
    }
    if (entries.length > 0 && associations.length !== 1)
      reportViolation(
        `The hub's access entry has ${associations.length} access policy associations; it gets exactly one (docs/gitops.md, Fleet).`,
      );
    for (const association of associations) {
      const policy = policyName(atPath(association.props, "policyArn"));
      const scope = atPath(association.props, "accessScope", "type");
      if (isUnknown(policy) || policy === undefined) continue;
      if (!hubAccessPolicies.includes(policy))
        reportViolation(
          `The hub is granted ${policy}; use one of ${hubAccessPolicies.join(", ")}.`,
          association.urn,
        );
      else if (policy === "AmazonEKSClusterAdminPolicy" && !isUnknown(scope) && scope !== "cluster")
        reportViolation(
          `AmazonEKSClusterAdminPolicy is granted to the hub at ${show(scope)} scope: the reason it is needed (cluster-scoped add-on objects) holds only at cluster scope; grant it cluster-wide or use AmazonEKSAdminPolicy for namespaces.`,
          association.urn,
        );
    }

    // Hub side: Argo CD's Pod Identity roles (bound in namespace argocd) must not also be cluster principals here.
    const argocdRoles = new Set(
      args.resources
        .filter(
          (resource) => resource.type === podIdentityType && atPath(resource.props, "namespace") === "argocd",
        )
        .flatMap((association) => sourcesOf(association, "roleArn")),
    );
    for (const entry of args.resources.filter((resource) => resource.type === accessEntryType)) {
      const roles = sourcesOf(entry, "principalArn").filter((urn) => argocdRoles.has(urn));
      const role = args.resources.find(
        (resource) => resource.type === roleType && roles.includes(resource.urn),
      );
      if (role)
        reportViolation(
          `${show(atPath(role.props, "name"))} is Argo CD's Pod Identity role and also holds an access entry on this cluster: the in-cluster controller reaches it through its service account, so the entry only widens what the fleet identity can do; remove it.`,
          entry.urn,
        );
    }
  },
};
