import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  describeStatement,
  grantsAll,
  isEveryone,
  isScopedByCondition,
  type Statement,
  statementsOf,
  wholeAccount,
} from "./lib/iam-documents";
import {
  atPath,
  configWithDefaults,
  type ConfigSchemaWithDefaults,
  elements,
  forType,
  show,
  UNKNOWN,
} from "./lib/values";

export const roleType = "aws:iam/role:Role";
/** Resources that carry an identity policy document in `policy`. */
export const policyDocumentTypes = [
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/groupPolicy:GroupPolicy",
];
/** Resources that attach a managed policy by `policyArn`. */
export const attachmentTypes = [
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/policyAttachment:PolicyAttachment",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
];

export interface AdminAccessConfig {
  /** Managed policies that amount to full administrator rights. */
  adminPolicyNames: string[];
}

const adminAccessConfigSchema = {
  properties: {
    adminPolicyNames: {
      type: "array",
      items: { type: "string" },
      default: ["AdministratorAccess", "IAMFullAccess"],
    },
  },
} satisfies ConfigSchemaWithDefaults<AdminAccessConfig>;

function isAdminPolicyArn(arn: unknown, config: AdminAccessConfig): boolean {
  if (typeof arn !== "string") return false;
  const match = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match !== null && config.adminPolicyNames.includes(match[1]);
}

/**
 * Allow statements granting every action (or everything but a few, via NotAction) on every resource; `iam:*` on
 * every resource counts too: it can attach AdministratorAccess to itself (Checkov CKV2_AWS_40).
 */
export function adminStatements(document: unknown): Statement[] {
  const statements = statementsOf(document);
  if (statements === UNKNOWN || statements === undefined) return [];
  return statements.filter(
    (statement) =>
      statement.effect === "Allow" &&
      (grantsAll(statement.actions, "iam") || statement.notActions.length > 0) &&
      (statement.resources.includes("*") || statement.notResources.length > 0),
  );
}

export const iamNoAdminAccess: ResourceValidationPolicy = {
  name: "iam-no-admin-access",
  description:
    'No IAM role, user, group or policy may hold full administrator rights: attach neither AdministratorAccess nor an inline "Action": "*" (or NotAction) on "Resource": "*"; grant the actions and resources the workload needs.',
  enforcementLevel: "mandatory",
  configSchema: adminAccessConfigSchema,
  validateResource: forType(
    [roleType, ...policyDocumentTypes, ...attachmentTypes],
    (props, args, reportViolation) => {
      const config = configWithDefaults<AdminAccessConfig>(adminAccessConfigSchema, args.getConfig);
      const fix =
        "grant only the actions and resources this identity needs (an AWS managed job-function policy or a scoped inline policy)";
      if (attachmentTypes.includes(args.type)) {
        const arn = atPath(props, "policyArn");
        if (isAdminPolicyArn(arn, config)) {
          reportViolation(
            `${args.name} attaches ${show(arn)}, full administrator rights over the account; ${fix}.`,
          );
        }
        return;
      }
      const documents: { where: string; document: unknown }[] = [];
      if (args.type === roleType) {
        const managed = elements(atPath(props, "managedPolicyArns"));
        for (const arn of managed === UNKNOWN ? [] : (managed ?? [])) {
          if (isAdminPolicyArn(arn, config)) {
            reportViolation(
              `Role ${args.name} lists ${show(arn)} in managedPolicyArns, full administrator rights over the account; ${fix}.`,
            );
          }
        }
        const inline = elements(atPath(props, "inlinePolicies"));
        (inline === UNKNOWN ? [] : (inline ?? [])).forEach((policy, index) =>
          documents.push({ where: `inlinePolicies[${index}]`, document: atPath(policy, "policy") }),
        );
      } else {
        documents.push({ where: "policy", document: atPath(props, "policy") });
      }
      for (const { where, document } of documents) {
        for (const statement of adminStatements(document)) {
          const grant =
            statement.notActions.length > 0
              ? `every action except ${statement.notActions.join(", ")} (NotAction)`
              : `"Action": ${JSON.stringify(statement.actions.length === 1 ? statement.actions[0] : statement.actions)}`;
          reportViolation(
            `${args.name} ${where} ${describeStatement(statement)} allows ${grant} on ${statement.notResources.length > 0 ? "every resource but a few (NotResource)" : '"Resource": "*"'}: full administrator rights; ${fix}.`,
          );
        }
      }
    },
  ),
};

export interface TrustConfig {
  /** Account ids whose root a role may trust as a whole (your own or a known partner). */
  trustedAccountIds: string[];
}

const trustConfigSchema = {
  properties: {
    trustedAccountIds: { type: "array", items: { type: "string", pattern: "^\\d{12}$" }, default: [] },
  },
} satisfies ConfigSchemaWithDefaults<TrustConfig>;

const githubIssuer = "token.actions.githubusercontent.com";

/** What is wrong with a role's trust policy: who could assume it that should not. */
export function trustProblems(document: unknown, config: TrustConfig): string[] {
  const statements = statementsOf(document);
  if (statements === UNKNOWN || statements === undefined) return [];
  const problems: string[] = [];
  for (const statement of statements.filter((candidate) => candidate.effect === "Allow")) {
    const where = describeStatement(statement);
    if (isEveryone(statement) && !isScopedByCondition(statement)) {
      problems.push(
        `${where} trusts "*": any AWS identity in any account can assume this role; name the service or role ARNs that may assume it (or restrict "*" with an aws:PrincipalOrgID / aws:PrincipalAccount condition).`,
      );
    }
    for (const principal of statement.principals.filter((candidate) => candidate.type === "AWS")) {
      for (const value of principal.values) {
        const account = wholeAccount(value);
        if (account !== undefined && !config.trustedAccountIds.includes(account)) {
          problems.push(
            `${where} trusts account ${account} as a whole (${value}): every user and role there that is allowed sts:AssumeRole can assume this role; name the role ARNs that need it, or list the account in this policy's trustedAccountIds if that is intended.`,
          );
        }
      }
    }
    for (const principal of statement.principals.filter((candidate) => candidate.type === "Federated")) {
      const github = principal.values.some((value) => value.endsWith(`oidc-provider/${githubIssuer}`));
      if (github && !statement.conditionKeys.some((key) => key === `${githubIssuer}:sub`)) {
        problems.push(
          `${where} trusts GitHub's OIDC provider without a condition on ${githubIssuer}:sub: any workflow in any GitHub repository can assume this role; add StringEquals/StringLike ${githubIssuer}:sub "repo:<owner>/<repo>:ref:refs/heads/main" (or :environment:<name>).`,
        );
      }
    }
  }
  return problems;
}

export const iamTrustPolicyScoped: ResourceValidationPolicy = {
  name: "iam-trust-policy-scoped",
  description:
    'An IAM role\'s trust policy must name who may assume it: no "*" principal without an organisation/account condition, no whole foreign account (arn:aws:iam::<id>:root) unless listed in trustedAccountIds, no GitHub OIDC trust without a sub condition.',
  enforcementLevel: "mandatory",
  configSchema: trustConfigSchema,
  validateResource: forType(roleType, (props, args, reportViolation) => {
    const config = configWithDefaults<TrustConfig>(trustConfigSchema, args.getConfig);
    for (const problem of trustProblems(atPath(props, "assumeRolePolicy"), config)) {
      reportViolation(`Role ${args.name} assumeRolePolicy ${problem}`);
    }
  }),
};
