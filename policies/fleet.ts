import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { atPath, elements, isUnknown, show } from "./lib/values";

/**
 * Fleet (hub-and-spoke) grants. The platform's copy of these facts is infra/fleet (a test checks they agree): the
 * hub's Argo CD gets exactly one access entry on each spoke, created by the spoke's `platform:fleet:HubAccess`
 * component; a chart hub's Argo CD Pod Identity role gets nothing on the hub itself; and the deploy roles the hub
 * lets register spokes (`platform:fleet:FleetRegistrars`) get a Kubernetes group, never an access policy, whose
 * RBAC cannot read Secrets, confined by a ValidatingAdmissionPolicy that denies.
 */
export const hubAccessComponent = "platform:fleet:HubAccess";
export const registrarsComponent = "platform:fleet:FleetRegistrars";
/** Kubernetes groups of registrars (infra/fleet/registration.ts registrarGroupPrefix). */
export const registrarGroupPrefix = "gitops-platform:fleet-registrar-";
const k8sRoleType = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const clusterScopedRbac = [
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
];
const admissionPolicyType = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const admissionBindingType = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const secretReads = ["get", "list", "watch", "*"];
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
const inRegistrars = (resource: PolicyResource) => resource.urn.includes(`${registrarsComponent}$`);
const strings = (value: unknown): string[] | undefined => {
  const items = elements(value);
  return items === undefined || isUnknown(items)
    ? undefined
    : items.filter((item) => typeof item === "string");
};
const policyName = (arn: unknown) => (typeof arn === "string" ? arn.split("/").pop() : undefined);
const sourcesOf = (resource: PolicyResource, property: string) =>
  (resource.propertyDependencies[property] ?? []).map((source) => source.urn);

export const eksFleetHubAccess: StackValidationPolicy = {
  name: "eks-fleet-hub-access",
  description:
    "A fleet hub's Argo CD gets one STANDARD access entry per spoke with exactly one EKS access policy (no Kubernetes groups, which bypass the access-policy audit; AmazonEKSClusterAdminPolicy only at cluster scope, for the reason in docs/gitops.md), and a chart hub's Argo CD Pod Identity role holds no access entry on the hub (its controller uses its service account there). On a hub, each registrar gets a STANDARD entry with only its registrar group and no access policy, its Role reads no Secrets and nothing is cluster-scoped, and a denying ValidatingAdmissionPolicy confines it.",
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

    validateRegistrars(args.resources, reportViolation);

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

/** The hub's grant to registrars (infra/fleet/registrars.ts): what a deploy role of another account may do here. */
function validateRegistrars(
  resources: readonly PolicyResource[],
  reportViolation: (message: string, urn?: string) => void,
): void {
  const grants = resources.filter(inRegistrars);
  const entries = grants.filter((resource) => resource.type === accessEntryType);
  for (const entry of entries) {
    const type = atPath(entry.props, "type");
    if (!isUnknown(type) && type !== "STANDARD")
      reportViolation(`A fleet registrar's access entry has type ${show(type)}; use STANDARD.`, entry.urn);
    const groups = strings(atPath(entry.props, "kubernetesGroups"));
    if (groups !== undefined && (groups.length !== 1 || !groups[0].startsWith(registrarGroupPrefix)))
      reportViolation(
        `A fleet registrar's access entry maps ${show(groups)}: it gets exactly one group, ${registrarGroupPrefix}<account>, whose only rights are the registrar Role.`,
        entry.urn,
      );
  }
  const registrarPrincipals = new Set<unknown>(
    entries.map((entry) => atPath(entry.props, "principalArn")).filter((arn) => typeof arn === "string"),
  );
  for (const association of resources.filter((resource) => resource.type === associationType))
    if (inRegistrars(association) || registrarPrincipals.has(atPath(association.props, "principalArn")))
      reportViolation(
        "A fleet registrar is granted an EKS access policy: a registrar writes only its spokes' cluster Secrets, through its Kubernetes group and the registrar Role; remove the association.",
        association.urn,
      );
  for (const resource of grants.filter((candidate) => clusterScopedRbac.includes(candidate.type)))
    reportViolation(
      "A fleet registrar gets cluster-scoped RBAC; it gets one Role in Argo CD's namespace.",
      resource.urn,
    );
  for (const role of grants.filter((resource) => resource.type === k8sRoleType)) {
    const rules = elements(atPath(role.props, "rules"));
    if (rules === undefined || isUnknown(rules)) continue;
    for (const rule of rules) {
      const groups = strings(atPath(rule, "apiGroups")) ?? [];
      const kinds = strings(atPath(rule, "resources")) ?? [];
      const verbs = strings(atPath(rule, "verbs")) ?? [];
      if (kinds.includes("*") || verbs.includes("*") || groups.includes("*"))
        reportViolation(
          `The fleet registrar Role has a wildcard rule ${show(rule)}; name groups, resources and verbs.`,
          role.urn,
        );
      else if (
        groups.includes("") &&
        kinds.includes("secrets") &&
        verbs.some((verb) => secretReads.includes(verb))
      )
        reportViolation(
          `The fleet registrar Role may ${verbs.filter((verb) => secretReads.includes(verb)).join(", ")} Secrets: Argo CD's namespace holds argocd-secret and the repository credentials; a registrar only creates, patches and deletes (server-side apply needs no read).`,
          role.urn,
        );
    }
  }
  if (entries.length === 0) return;
  const policies = grants.filter((resource) => resource.type === admissionPolicyType);
  const bindings = grants.filter((resource) => resource.type === admissionBindingType);
  const denies = bindings.some((binding) => {
    const actions = strings(atPath(binding.props, "spec", "validationActions"));
    return actions === undefined || actions.includes("Deny");
  });
  const failClosed = policies.some((policy) => {
    const failure = atPath(policy.props, "spec", "failurePolicy");
    return isUnknown(failure) || failure === undefined || failure === "Fail";
  });
  if (!failClosed || !denies)
    reportViolation(
      "Fleet registrars can write Secrets in Argo CD's namespace but no ValidatingAdmissionPolicy (failurePolicy Fail, bound with Deny) confines them to their own spokes' cluster Secrets.",
    );
}
