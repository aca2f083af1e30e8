import { entries, isUnknown, UNKNOWN } from "./values";

/**
 * IAM and KMS policy documents as a rule reads them. A document arrives as JSON text (aws.iam.getPolicyDocument
 * output, JSON.stringify) or, from some programs, as an object; statements are normalised to arrays.
 */
export interface Statement {
  readonly index: number;
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  /** Principal as written: "*" or { AWS | Service | Federated | CanonicalUser: string | string[] }. */
  readonly principals: { readonly type: string; readonly values: string[] }[];
  readonly conditionKeys: string[];
  readonly condition: Record<string, Record<string, unknown>>;
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((item) => String(item));

/** Parsed statements, UNKNOWN while the document is unknown, undefined when absent or not a policy document. */
export function statementsOf(document: unknown): Statement[] | typeof UNKNOWN | undefined {
  if (document === undefined || document === null) return undefined;
  if (isUnknown(document)) return UNKNOWN;
  let parsed: unknown = document;
  if (typeof document === "string") {
    if (document.trim() === "") return undefined;
    try {
      parsed = JSON.parse(document);
    } catch {
      return undefined;
    }
  } else {
    const fields = entries(document);
    if (fields === UNKNOWN || (fields ?? []).some(([, value]) => isUnknown(value))) return UNKNOWN;
  }
  const raw = (parsed as { Statement?: unknown }).Statement;
  const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return statements.map((statement: Record<string, unknown>, index) => {
    const principal = statement.Principal;
    const principals =
      principal === undefined
        ? []
        : principal === "*"
          ? [{ type: "*", values: ["*"] }]
          : Object.entries(principal as Record<string, unknown>).map(([type, values]) => ({
              type,
              values: list(values),
            }));
    const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
    return {
      index,
      sid: typeof statement.Sid === "string" ? statement.Sid : undefined,
      effect: String(statement.Effect ?? ""),
      actions: list(statement.Action),
      notActions: list(statement.NotAction),
      resources: list(statement.Resource),
      notResources: list(statement.NotResource),
      principals,
      condition,
      conditionKeys: Object.values(condition).flatMap((block) => Object.keys(block ?? {})),
    };
  });
}

/** "Statement 2 (Sid AllowAll)": where in the document a finding sits. */
export function describeStatement(statement: Statement): string {
  return `statement ${statement.index}${statement.sid ? ` (Sid ${statement.sid})` : ""}`;
}

/** True when the statement's principal is everyone: "*" or AWS "*". */
export function isEveryone(statement: Statement): boolean {
  return statement.principals.some(
    (principal) => (principal.type === "*" || principal.type === "AWS") && principal.values.includes("*"),
  );
}

/** Whether an action pattern grants everything in the given service (or everything at all). */
export function grantsAll(actions: readonly string[], service?: string): boolean {
  return actions.some(
    (action) =>
      action === "*" ||
      action === "*:*" ||
      (service !== undefined && action.toLowerCase() === `${service}:*`),
  );
}

/** The 12-digit account an AWS principal names as a whole (root ARN or bare id), or undefined. */
export function wholeAccount(principal: string): string | undefined {
  const match = /^(?:arn:aws[a-z-]*:iam::(\d{12}):root|(\d{12}))$/.exec(principal);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Condition keys that pin a wildcard principal to an organisation, account or source. */
export const scopingConditionKeys = [
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:principalaccount",
  "aws:principalarn",
  "aws:sourceaccount",
  "aws:sourcearn",
  "aws:sourceorgid",
  "aws:sourceorgpaths",
  "aws:sourcevpce",
  "aws:sourcevpc",
  "kms:calleraccount",
];

export function isScopedByCondition(statement: Statement): boolean {
  return statement.conditionKeys.some((key) => scopingConditionKeys.includes(key.toLowerCase()));
}
