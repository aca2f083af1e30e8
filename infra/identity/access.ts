/** Who may reach the Kubernetes API, and with which EKS access policy. */
export interface AccessGrant {
  readonly principalArn: string;
  readonly accessPolicy: "AmazonEKSClusterAdminPolicy" | "AmazonEKSViewPolicy";
  /** Stable logical name derived from the principal, so reordering the config list changes nothing. */
  readonly logicalName: string;
}

export interface AccessConfig {
  readonly deployRoleArn?: string;
  readonly admins: readonly string[];
  readonly viewers: readonly string[];
  /** The environment's CI roles from the foundation: deploy (admin) and preview (admin or view). */
  readonly pipeline?: {
    readonly deployRoleArn: string;
    readonly previewRoleArn: string;
    readonly previewAccess: "admin" | "view";
  };
}

/**
 * Turns the access config into one grant per principal. The deploy role is an admin because it applies the
 * Kubernetes side (Argo CD bootstrap); listing a principal twice is an error rather than a silent pick.
 */
export function accessGrants(access: AccessConfig): AccessGrant[] {
  const grants = new Map<string, AccessGrant>();
  const add = (principalArn: string, accessPolicy: AccessGrant["accessPolicy"], key: string) => {
    if (grants.has(principalArn)) {
      throw new Error(
        `access.${key}: ${principalArn} is already granted access (as deployRoleArn, admin or viewer); list each principal once`,
      );
    }
    grants.set(principalArn, { principalArn, accessPolicy, logicalName: principalLogicalName(principalArn) });
  };
  if (access.pipeline) {
    // The deploy role applies the Kubernetes side; the preview role's dry runs need write RBAC unless the
    // foundation chose view-only previews for this environment (docs/pipeline.md, "Preview rights").
    add(access.pipeline.deployRoleArn, "AmazonEKSClusterAdminPolicy", "deployRoleArn (the foundation's)");
    add(
      access.pipeline.previewRoleArn,
      access.pipeline.previewAccess === "admin" ? "AmazonEKSClusterAdminPolicy" : "AmazonEKSViewPolicy",
      "previewRoleArn (the foundation's)",
    );
  }
  if (access.deployRoleArn) add(access.deployRoleArn, "AmazonEKSClusterAdminPolicy", "deployRoleArn");
  access.admins.forEach((arn) => add(arn, "AmazonEKSClusterAdminPolicy", "admins"));
  access.viewers.forEach((arn) => add(arn, "AmazonEKSViewPolicy", "viewers"));
  return [...grants.values()];
}

/** "arn:aws:iam::123456789012:role/team/ci-deploy" → "role-team-ci-deploy-123456789012". */
export function principalLogicalName(principalArn: string): string {
  const [, , , , account, resource] = principalArn.split(":");
  return `${resource.replace(/[^A-Za-z0-9-]+/g, "-")}-${account}`;
}

/** The EKS access policies the platform grants. */
export type AccessPolicyName = AccessGrant["accessPolicy"] | "AmazonEKSAutoNodePolicy";

export function accessPolicyArn(partition: string, policy: AccessPolicyName): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${policy}`;
}
