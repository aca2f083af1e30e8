import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { clusterType } from "./eks-cluster";
import { wholeAccount } from "./lib/iam-documents";
import {
  at,
  atPath,
  configWithDefaults,
  type ConfigSchemaWithDefaults,
  entries,
  forType,
  elements,
  globMatches,
  isUnknown,
  show,
  UNKNOWN,
} from "./lib/values";

export type OidcProviderProps = pulumi.Unwrap<aws.iam.OpenIdConnectProviderArgs>;
export const oidcProviderType = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
export const configMapTypes = ["kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch"];
export const serviceAccountTypes = [
  "kubernetes:core/v1:ServiceAccount",
  "kubernetes:core/v1:ServiceAccountPatch",
];
/** Resources whose inputs carry Helm values that may template a ServiceAccount annotation. */
export const helmValuesTypes = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];
export const argoApplicationTypes = [
  "kubernetes:argoproj.io/v1alpha1:Application",
  "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
];
export const irsaAnnotation = "eks.amazonaws.com/role-arn";

export const eksNoAwsAuthConfigMap: ResourceValidationPolicy = {
  name: "eks-no-aws-auth-configmap",
  description:
    "Do not manage the kube-system/aws-auth ConfigMap: grant cluster access with aws.eks.AccessEntry and AccessPolicyAssociation (authenticationMode API).",
  enforcementLevel: "mandatory",
  validateResource: forType(configMapTypes, (props, _args, reportViolation) => {
    const name = atPath(props, "metadata", "name");
    const namespace = atPath(props, "metadata", "namespace");
    if (name !== "aws-auth" || namespace !== "kube-system") return;
    reportViolation(
      "This manages kube-system/aws-auth, the deprecated IAM-to-RBAC mapping that one bad edit turns into a cluster lock-out; delete it and declare aws.eks.AccessEntry resources instead.",
    );
  }),
};

/** True for the issuer URL of an EKS cluster's OIDC provider (what IRSA trusts). */
export function isEksOidcIssuer(url: string): boolean {
  return /^(https:\/\/)?oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Za-z0-9]+\/?$/.test(url);
}

/**
 * A stack policy because the issuer URL is normally the cluster's output, unknown during preview; the
 * property dependency on the cluster still tells us what the provider is for.
 */
export const eksNoIrsaOidcProvider: StackValidationPolicy = {
  name: "eks-no-irsa-oidc-provider",
  description:
    "Use EKS Pod Identity, not IRSA: remove the cluster's IAM OIDC provider and give each service account an aws.eks.PodIdentityAssociation (role trusted by pods.eks.amazonaws.com).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const provider of args.resources.filter((resource) => resource.type === oidcProviderType)) {
      if (isIrsaProvider(provider)) {
        reportViolation(
          "This IAM OIDC provider trusts the EKS cluster's issuer, which only IRSA needs; Pod Identity needs no OIDC provider and no per-cluster trust policy: delete it and use aws.eks.PodIdentityAssociation.",
          provider.urn,
        );
      }
    }
  },
};

function isIrsaProvider(provider: PolicyResource): boolean {
  const url = at(provider.props as OidcProviderProps, "url");
  if (typeof url === "string") return isEksOidcIssuer(url);
  // Unknown (or dropped as unknown): judge by where the value comes from.
  const sources = provider.propertyDependencies["url"] ?? [];
  return sources.some((source) => source.type === clusterType);
}

export interface IrsaAnnotationConfig {
  /** "namespace/serviceaccount" pairs that must keep IRSA (a chart that cannot use Pod Identity yet). */
  allowedServiceAccounts: string[];
}

const irsaAnnotationConfigSchema = {
  properties: { allowedServiceAccounts: { type: "array", items: { type: "string" }, default: [] } },
} satisfies ConfigSchemaWithDefaults<IrsaAnnotationConfig>;

export const eksNoIrsaAnnotations: ResourceValidationPolicy = {
  name: "eks-no-irsa-annotations",
  description: `Use EKS Pod Identity, not IRSA: remove the ${irsaAnnotation} service-account annotation (also from Helm values) and add an aws.eks.PodIdentityAssociation.`,
  enforcementLevel: "mandatory",
  configSchema: irsaAnnotationConfigSchema,
  validateResource: forType(
    [...serviceAccountTypes, ...helmValuesTypes, ...argoApplicationTypes],
    (props, args, reportViolation) => {
      const config = configWithDefaults<IrsaAnnotationConfig>(irsaAnnotationConfigSchema, args.getConfig);
      if (serviceAccountTypes.includes(args.type)) {
        const annotation = atPath(props, "metadata", "annotations", irsaAnnotation);
        const account = `${String(atPath(props, "metadata", "namespace") ?? "default")}/${String(atPath(props, "metadata", "name"))}`;
        if (annotation !== undefined && !config.allowedServiceAccounts.includes(account)) {
          reportViolation(
            `ServiceAccount ${account} is annotated ${irsaAnnotation} (IRSA); remove the annotation and create an aws.eks.PodIdentityAssociation for it.`,
          );
        }
        return;
      }
      const paths = findKey(props, irsaAnnotation, []);
      if (paths.length > 0) {
        reportViolation(
          `Values set the IRSA annotation ${irsaAnnotation} at ${paths.join(", ")}; drop it and bind the chart's service account with an aws.eks.PodIdentityAssociation.`,
        );
      }
    },
  ),
};

/** Paths at which a key occurs in a nested, possibly partly unknown, value (Helm values, Application specs). */
export function findKey(value: unknown, key: string, path: string[]): string[] {
  if (isUnknown(value)) return [];
  // Values given as YAML text (Argo CD `helm.values`, Release `valueYamlFiles` contents).
  if (typeof value === "string") return value.includes(`${key}:`) ? [path.join(".")] : [];
  const items = entries(value);
  if (items === undefined || items === UNKNOWN) return [];
  return items.flatMap(([childKey, child]) =>
    childKey === key ? [[...path, childKey].join(".")] : findKey(child, key, [...path, childKey]),
  );
}

export const accessEntryType = "aws:eks/accessEntry:AccessEntry";
export const accessPolicyAssociationType = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";

export interface AccessAdminConfig {
  /** Access policies that make a principal a cluster (or namespace) administrator. */
  adminPolicies: string[];
  /** Read-only policies: a principal holding one is a viewer, and must not also hold an admin policy. */
  viewerPolicies: string[];
  /** Globs on the principal ARN that name viewer/read-only identities. */
  viewerPrincipalPatterns: string[];
}

const accessAdminConfigSchema = {
  properties: {
    adminPolicies: {
      type: "array",
      items: { type: "string" },
      default: ["AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy"],
    },
    viewerPolicies: {
      type: "array",
      items: { type: "string" },
      default: ["AmazonEKSViewPolicy", "AmazonEKSAdminViewPolicy"],
    },
    viewerPrincipalPatterns: {
      type: "array",
      items: { type: "string" },
      default: ["*:role/*viewer*", "*:role/*readonly*", "*:role/*read-only*", "*:role/*auditor*"],
    },
  },
} satisfies ConfigSchemaWithDefaults<AccessAdminConfig>;

const policyNameOf = (arn: unknown) => (typeof arn === "string" ? arn.split("/").pop() : undefined);

/**
 * Who is made a cluster administrator through Access Entries: never everyone, never a whole account (its root:
 * every identity there), never an identity that is meant to only view. A stack policy so a principal granted a
 * view policy in one association and admin in another is seen as a viewer.
 */
export const eksAccessAdminScoped: StackValidationPolicy = {
  name: "eks-access-admin-scoped",
  description:
    'Cluster admin through Access Entries goes only to named roles: never to "*", an account root (arn:aws:iam::<id>:root), a viewer/read-only identity, nor via kubernetesGroups system:masters; grant viewers AmazonEKSViewPolicy only.',
  enforcementLevel: "mandatory",
  configSchema: accessAdminConfigSchema,
  validateStack: (args, reportViolation) => {
    const config = configWithDefaults<AccessAdminConfig>(accessAdminConfigSchema, args.getConfig);
    const associations = args.resources.filter((resource) => resource.type === accessPolicyAssociationType);
    const viewers = new Set(
      associations
        .filter((association) =>
          config.viewerPolicies.includes(policyNameOf(atPath(association.props, "policyArn")) ?? ""),
        )
        .map((association) => atPath(association.props, "principalArn"))
        .filter((principal): principal is string => typeof principal === "string"),
    );
    const whyNot = (principal: string): string | undefined => {
      if (principal.includes("*")) return `"${principal}" matches every identity`;
      const account = wholeAccount(principal);
      if (account !== undefined)
        return `${principal} is account ${account}'s root, i.e. every user and role in that account`;
      if (viewers.has(principal)) return `${principal} is also granted a view policy in this stack: a viewer`;
      if (
        config.viewerPrincipalPatterns.some((pattern) =>
          globMatches(pattern.toLowerCase(), principal.toLowerCase()),
        )
      )
        return `${principal} is named as a viewer/read-only identity`;
      return undefined;
    };
    for (const association of associations) {
      const policy = policyNameOf(atPath(association.props, "policyArn"));
      const principal = atPath(association.props, "principalArn");
      if (policy === undefined || !config.adminPolicies.includes(policy) || typeof principal !== "string")
        continue;
      const reason = whyNot(principal);
      if (reason === undefined) continue;
      reportViolation(
        `Access policy association ${association.name} grants ${policy} to ${principal}, but ${reason}; grant admin only to named administrator roles (access.admins) and give viewers AmazonEKSViewPolicy.`,
        association.urn,
      );
    }
    for (const entry of args.resources.filter((resource) => resource.type === accessEntryType)) {
      const groups = elements(atPath(entry.props, "kubernetesGroups"));
      if (groups === UNKNOWN || !(groups ?? []).includes("system:masters")) continue;
      reportViolation(
        `Access entry ${entry.name} puts ${show(atPath(entry.props, "principalArn"))} in kubernetesGroups system:masters, unrestricted cluster admin that bypasses RBAC and cannot be revoked by access policies; remove the group and associate a scoped access policy instead.`,
        entry.urn,
      );
    }
  },
};
