import type { StackValidationPolicy } from "@pulumi/policy";
import { atPath, isUnknown, show, tag } from "./lib/values";

/**
 * Roles of a cluster program carry a permissions boundary. The platform's copy of these facts is
 * infra/foundation/contract.ts (`roleBoundaryTagKey`; a test checks they agree): the foundation's deploy role of an
 * environment may create roles only with the environment's boundary and the tag naming it, so a role without them
 * fails at `pulumi up` with AccessDenied, or, deployed with other credentials, is a role the pipeline's IAM
 * guarantees do not cover.
 */
export const roleBoundaryTagKey = "permissions-boundary";
const roleType = "aws:iam/role:Role";
const clusterType = "aws:eks/cluster:Cluster";

export const iamRolePermissionsBoundary: StackValidationPolicy = {
  name: "iam-role-permissions-boundary",
  description: `Every IAM role of a stack that declares an EKS cluster has a permissionsBoundary (the foundation's boundary of its environment, the same for all of them) and the tag ${roleBoundaryTagKey} naming it: the pipeline's deploy role can create no other role, and the boundary is what keeps a role it creates from becoming an administrator.`,
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    if (!args.resources.some((resource) => resource.type === clusterType)) return;
    const roles = args.resources.filter((resource) => resource.type === roleType);
    const boundaries = new Set<string>();
    for (const role of roles) {
      const boundary = atPath(role.props, "permissionsBoundary");
      if (isUnknown(boundary)) continue;
      if (typeof boundary !== "string" || boundary.length === 0) {
        reportViolation(
          `Role ${role.name} has no permissionsBoundary: give it the foundation's role boundary of this environment (infra/identity/role-boundary.ts does so for every role the program declares).`,
          role.urn,
        );
        continue;
      }
      boundaries.add(boundary);
      const named = tag(role.props, roleBoundaryTagKey);
      if (!isUnknown(named) && named !== boundary)
        reportViolation(
          `Role ${role.name} has permissionsBoundary ${boundary} but tag ${roleBoundaryTagKey}=${show(named)}: the deploy role passes and re-tags only roles whose tag names their boundary; set the tag to the boundary's ARN.`,
          role.urn,
        );
    }
    if (boundaries.size > 1)
      reportViolation(
        `The stack's roles carry ${boundaries.size} different permissions boundaries (${[...boundaries].join(", ")}); a cluster stack's roles all carry its environment's one.`,
      );
  },
};
