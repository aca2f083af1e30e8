import type { ResourceValidationPolicy } from "@pulumi/policy";
import upstreamLoadBalancerControllerPolicy from "./lib/aws-load-balancer-controller-iam-policy.json";
import { atPath, forType, isUnknown } from "./lib/values";

/**
 * IAM of the add-ons where a misuse is likely: ExternalDNS and External Secrets granted on every zone or secret
 * ("*"), and an AWS Load Balancer Controller policy broader than the one upstream publishes. Judged on the policy
 * documents themselves (inline role policies and managed policies), so it works on any program.
 */

export const policyDocumentTypes = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"];

export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const list = (value: string | readonly string[] | undefined): string[] =>
  value === undefined ? [] : typeof value === "string" ? [value] : [...value];

/** The Allow statements of a policy document given as JSON text (or an object); undefined when unreadable. */
export function allowStatements(document: unknown): IamStatement[] | undefined {
  let parsed: unknown = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch {
      return undefined;
    }
  }
  const statements = (parsed as { Statement?: unknown } | undefined)?.Statement;
  if (statements === undefined) return undefined;
  return (Array.isArray(statements) ? statements : [statements]).filter(
    (statement): statement is IamStatement => (statement as IamStatement).Effect === "Allow",
  );
}

/** IAM action matching: `service:*`, `*` and `?` wildcards, case-insensitive as IAM compares actions. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    "^" +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".") +
      "$",
    "i",
  );
  return regex.test(action);
}

const grants = (statement: IamStatement, action: string) =>
  statement.NotAction !== undefined ||
  list(statement.Action).some((pattern) => actionMatches(pattern, action));

/**
 * Grants the action through a pattern of its own service (`route53:*`, not `*`): a policy of every action is
 * iam-no-admin-access's concern, reported there once.
 */
const grantsOwnService = (statement: IamStatement, action: string) =>
  list(statement.Action).some(
    (pattern) =>
      pattern.toLowerCase().startsWith(`${action.split(":")[0].toLowerCase()}:`) &&
      actionMatches(pattern, action),
  );

/** Same ARN modulo partition (aws, aws-cn, aws-us-gov): the pack judges programs in any partition. */
const withoutPartition = (arn: string) => arn.replace(/^arn:aws[a-z-]*:/, "arn:aws:");

/** Resources a statement grants that cover every zone or every secret (or everything). */
function unscoped(statement: IamStatement, everything: RegExp): string[] {
  if (statement.NotResource !== undefined) return ["NotResource (everything but the listed ones)"];
  return list(statement.Resource).filter(
    (resource) => resource === "*" || everything.test(withoutPartition(resource)),
  );
}

function documentOf(props: unknown): unknown {
  const document = atPath(props, "policy");
  return isUnknown(document) ? undefined : document;
}

export const addonRoute53Scoped: ResourceValidationPolicy = {
  name: "addon-route53-zones-scoped",
  description:
    "Route 53 record changes (ExternalDNS) are granted on the hosted zones the controller manages, arn:aws:route53:::hostedzone/<id>, not on every zone.",
  enforcementLevel: "mandatory",
  validateResource: forType(policyDocumentTypes, (props, _args, reportViolation) => {
    for (const statement of allowStatements(documentOf(props)) ?? []) {
      if (!grantsOwnService(statement, "route53:ChangeResourceRecordSets")) continue;
      const wide = unscoped(statement, /^arn:aws:route53:::hostedzone\/\*$/);
      if (wide.length > 0)
        reportViolation(
          `This policy lets its holder change records in every Route 53 hosted zone (${wide.join(", ")}); list the zones it manages as arn:aws:route53:::hostedzone/<zone id> (the platform sets them in addons.externalDns.hostedZoneIds).`,
        );
    }
  }),
};

export const addonSecretsScoped: ResourceValidationPolicy = {
  name: "addon-secrets-manager-scoped",
  description:
    "Reading Secrets Manager values (External Secrets) is granted on the secrets under a name prefix, arn:aws:secretsmanager:<region>:<account>:secret:<prefix>*, not on every secret.",
  enforcementLevel: "mandatory",
  validateResource: forType(policyDocumentTypes, (props, _args, reportViolation) => {
    for (const statement of allowStatements(documentOf(props)) ?? []) {
      if (!grantsOwnService(statement, "secretsmanager:GetSecretValue")) continue;
      const wide = unscoped(statement, /^arn:aws:secretsmanager:[^:]*:[^:]*:secret:\*$/);
      if (wide.length > 0)
        reportViolation(
          `This policy lets its holder read every secret in Secrets Manager (${wide.join(", ")}); scope it to a name prefix, arn:aws:secretsmanager:<region>:<account>:secret:<prefix>* (the platform uses addons.externalSecrets.namePrefix, default "<cluster>/").`,
        );
    }
  }),
};

const upstreamStatements = (upstreamLoadBalancerControllerPolicy as { Statement: IamStatement[] }).Statement;

/** Upstream resource pattern covers a granted resource: "*" covers all; otherwise the same ARN pattern. */
function resourceCovered(upstream: IamStatement, resource: string): boolean {
  return list(upstream.Resource).some(
    (pattern) => pattern === "*" || withoutPartition(pattern) === withoutPartition(resource),
  );
}

/** Every condition upstream attaches is present, with the same values, in the granted statement. */
function conditionsKept(upstream: IamStatement, statement: IamStatement): boolean {
  return Object.entries(upstream.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(
      ([key, value]) => JSON.stringify(statement.Condition?.[operator]?.[key]) === JSON.stringify(value),
    ),
  );
}

/**
 * What a Load Balancer Controller policy grants beyond upstream's: each (action, resource) must be granted by an
 * upstream statement for that exact action, on a resource upstream names, with all of upstream's conditions.
 */
export function beyondUpstream(statements: readonly IamStatement[]): string[] {
  const problems: string[] = [];
  for (const statement of statements) {
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
      problems.push("a NotAction/NotResource statement (grants everything but the listed ones)");
      continue;
    }
    for (const action of list(statement.Action)) {
      for (const resource of list(statement.Resource)) {
        const covered = upstreamStatements.some(
          (upstream) =>
            list(upstream.Action).some((granted) => granted.toLowerCase() === action.toLowerCase()) &&
            resourceCovered(upstream, resource) &&
            conditionsKept(upstream, statement),
        );
        if (!covered) problems.push(`${action} on ${resource}`);
      }
    }
  }
  return problems;
}

/**
 * A Load Balancer Controller policy: it lets its holder create load balancers, and either names the controller's
 * tag key (elbv2.k8s.aws/…) or belongs to a role or policy named for the controller. A wildcard such as
 * `elasticloadbalancing:*` counts as creating load balancers.
 */
export function isLoadBalancerControllerPolicy(
  statements: readonly IamStatement[],
  names: readonly string[],
): boolean {
  if (!statements.some((statement) => grants(statement, "elasticloadbalancing:CreateLoadBalancer")))
    return false;
  return (
    JSON.stringify(statements).includes("elbv2.k8s.aws/") ||
    names.some((name) => /(aws-)?load-?balancer-controller|alb-controller|lb-controller/i.test(name))
  );
}

export const addonLoadBalancerControllerUpstream: ResourceValidationPolicy = {
  name: "addon-lb-controller-upstream",
  description:
    "An AWS Load Balancer Controller policy grants nothing beyond the controller's published iam_policy.json (same actions, resources and tag conditions).",
  enforcementLevel: "mandatory",
  validateResource: forType(policyDocumentTypes, (props, args, reportViolation) => {
    const statements = allowStatements(documentOf(props));
    const names = [atPath(props, "role"), atPath(props, "name"), args.name].filter(
      (name): name is string => typeof name === "string",
    );
    if (!statements || !isLoadBalancerControllerPolicy(statements, names)) return;
    const extra = beyondUpstream(statements);
    if (extra.length > 0)
      reportViolation(
        `This AWS Load Balancer Controller policy grants more than upstream's iam_policy.json: ${extra.slice(0, 5).join("; ")}${extra.length > 5 ? ` (and ${extra.length - 5} more)` : ""}; use the published policy for the controller version you run (the platform's is in infra/addons/load-balancer-controller.ts).`,
      );
  }),
};
