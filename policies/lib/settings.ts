import type {
  Policy,
  ReportViolation,
  ResourceValidation,
  ResourceValidationPolicy,
  StackValidation,
  StackValidationPolicy,
} from "@pulumi/policy";
import { globMatches } from "./values";

/**
 * Stack-wide settings of the pack: the environment and the exemptions. They come from the stack's pack config
 * (`"pack-settings": {...}` in policies/config/<stack>.json, reviewed like code), never from the tags of the
 * resource being checked: a resource cannot talk its way out of a rule.
 *
 * CrossGuard hands each policy only its own config, so the `pack-settings` policy — registered first in
 * pack.ts — records its config here every time the analyzer runs it (once per resource analysed and once per
 * stack analysis, always before the other policies), and every other policy reads it from here. If
 * `pack-settings` is disabled nothing is recorded: there are then no exemptions and the environment counts as
 * prod, so switching the settings off can only make the pack stricter.
 */

export const environments = ["dev", "staging", "prod"] as const;
export type Environment = (typeof environments)[number];

export interface Exemption {
  /** A Pulumi URN (exact), or a glob (`*`, `?`) matched against the resource's logical name. */
  readonly resource: string;
  /** The policy the resource is exempt from. */
  readonly policy: string;
  /** Why the exception is safe, for the reviewer. */
  readonly reason: string;
  /** Last day (UTC, YYYY-MM-DD) the exemption applies; after it the violation is back and the exemption is one. */
  readonly expires: string;
}

export interface PackSettings {
  readonly environment?: Environment;
  readonly exemptions: readonly Exemption[];
}

export const packSettingsName = "pack-settings";

/**
 * A rule may name the environments where no exemption covers it (`notExemptibleOn: ["prod"]`: mandatory there
 * whatever the stack's pack config says). Such an exemption never applies and is itself a violation.
 */
export interface ExemptionLimit {
  readonly notExemptibleOn?: readonly Environment[];
}

/** A rule as pack-settings sees it: its name and where it cannot be exempted. */
export type PackRule = { readonly name: string } & ExemptionLimit;

function refusesExemptionOn(rule: ExemptionLimit, environment: Environment): boolean {
  return rule.notExemptibleOn?.includes(environment) ?? false;
}

let recorded: PackSettings | undefined;

/** Forgets recorded settings (the offline harness calls it before each run, as a fresh analyzer would start). */
export function resetPackSettings(): void {
  recorded = undefined;
}

/** Records settings directly; for unit tests that call a single policy without the pack. */
export function recordPackSettings(settings: Partial<PackSettings> | undefined): void {
  recorded = settings === undefined ? undefined : readSettings(settings);
}

export function packSettings(): PackSettings {
  return recorded ?? { exemptions: [] };
}

/** The stack's environment; a stack without one is judged as prod (the strictest). */
export function stackEnvironment(): Environment {
  return packSettings().environment ?? "prod";
}

function readSettings(config: object): PackSettings {
  const { environment, exemptions } = config as { environment?: unknown; exemptions?: unknown };
  return {
    environment: environments.includes(environment as Environment) ? (environment as Environment) : undefined,
    exemptions: Array.isArray(exemptions) ? (exemptions as Exemption[]) : [],
  };
}

/** Today as YYYY-MM-DD in UTC, the format exemption expiry dates use. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** The logical name at the end of a URN. */
export function nameOfUrn(urn: string): string {
  const parts = urn.split("::");
  return parts[parts.length - 1];
}

/** Fewest literal (non-wildcard) characters a name pattern needs: `*`, `*-*` or `?*` would exempt every resource. */
export const minPatternLiterals = 3;

/** Whether an exemption's resource is an exact URN or a name pattern narrow enough to name something. */
function namesAResource(resource: string): boolean {
  return resource.startsWith("urn:") || resource.replace(/[*?]/g, "").length >= minPatternLiterals;
}

/** Whether a still-valid exemption covers this policy on this resource (never where the rule refuses exemptions). */
export function isExempt(
  policy: string,
  urn: string | undefined,
  on: string = today(),
  limit: ExemptionLimit = {},
): boolean {
  if (urn === undefined || refusesExemptionOn(limit, stackEnvironment())) return false;
  return packSettings().exemptions.some(
    (exemption) =>
      exemption.policy === policy &&
      typeof exemption.expires === "string" &&
      datePattern.test(exemption.expires) &&
      exemption.expires >= on &&
      typeof exemption.reason === "string" &&
      exemption.reason.trim() !== "" &&
      typeof exemption.resource === "string" &&
      namesAResource(exemption.resource) &&
      (exemption.resource.startsWith("urn:")
        ? exemption.resource === urn
        : globMatches(exemption.resource, nameOfUrn(urn))),
  );
}

/** What is wrong with the settings: no environment, incomplete, unknown-policy or expired exemptions. */
export function settingsProblems(
  settings: PackSettings,
  rules: readonly PackRule[],
  on: string = today(),
): string[] {
  const policyNames = rules.map((rule) => rule.name);
  const environment = settings.environment ?? "prod";
  const problems: string[] = [];
  if (settings.environment === undefined) {
    problems.push(
      `${packSettingsName}.environment is not set in this stack's pack config, so the pack judges the stack as prod; set "${packSettingsName}": { "environment": "dev" | "staging" | "prod" } in policies/config/<stack>.json.`,
    );
  }
  settings.exemptions.forEach((exemption, index) => {
    const where = `${packSettingsName}.exemptions[${index}]`;
    const missing = (["resource", "policy", "reason", "expires"] as const).filter(
      (key) => typeof exemption[key] !== "string" || exemption[key].trim() === "",
    );
    if (missing.length > 0) {
      problems.push(
        `${where} has no ${missing.join(", ")}; every exemption names the resource (URN or name pattern), the policy, the reason and an expiry date (YYYY-MM-DD), and it does not apply until it does.`,
      );
      return;
    }
    if (!policyNames.includes(exemption.policy) || exemption.policy === packSettingsName) {
      problems.push(
        `${where} exempts ${exemption.resource} from "${exemption.policy}", which is not a policy of this pack; use one of the policy names in docs/policies.md.`,
      );
    }
    if (!namesAResource(exemption.resource)) {
      problems.push(
        `${where} exempts "${exemption.resource}" from "${exemption.policy}": a name pattern needs at least ${minPatternLiterals} characters besides * and ?, or it exempts every resource; name the resource (its URN, or a pattern such as "public-alb*"). It does not apply until it does.`,
      );
    }
    const rule = rules.find((candidate) => candidate.name === exemption.policy);
    if (rule !== undefined && refusesExemptionOn(rule, environment)) {
      problems.push(
        `${where} exempts ${exemption.resource} from "${exemption.policy}", which no exemption may cover on ${environment}: the rule is mandatory there. Fix the resource and remove the exemption; it does not apply.`,
      );
    }
    if (!datePattern.test(exemption.expires)) {
      problems.push(
        `${where} (${exemption.policy} for ${exemption.resource}) has expires "${exemption.expires}", not a date; write YYYY-MM-DD. It does not apply until it does.`,
      );
    } else if (exemption.expires < on) {
      problems.push(
        `${where}: the exemption of ${exemption.resource} from ${exemption.policy} expired on ${exemption.expires} (reason given: ${exemption.reason}); fix the resource, or renew the exemption with a new expiry date if the reason still holds.`,
      );
    }
  });
  return problems;
}

const settingsSchema = {
  properties: {
    environment: { type: "string", enum: [...environments] },
    exemptions: {
      type: "array",
      default: [],
      items: {
        type: "object",
        properties: {
          resource: { type: "string", minLength: 1 },
          policy: { type: "string", minLength: 1 },
          reason: { type: "string", minLength: 1 },
          expires: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" },
        },
        required: ["resource", "policy", "reason", "expires"],
        additionalProperties: false,
      },
    },
  },
} as const;

/** The settings carrier: records the config for the other policies and reports problems with it. */
export function packSettingsPolicy(
  rules: () => readonly PackRule[],
): ResourceValidationPolicy & StackValidationPolicy {
  return {
    name: packSettingsName,
    description:
      'Stack-wide pack settings: set "pack-settings": { "environment": ..., "exemptions": [{ resource, policy, reason, expires }] } in policies/config/<stack>.json; expired or incomplete exemptions are violations.',
    enforcementLevel: "mandatory",
    configSchema: settingsSchema as unknown as ResourceValidationPolicy["configSchema"],
    validateResource: (args) => {
      recorded = readSettings(args.getConfig());
    },
    validateStack: (args, reportViolation) => {
      recorded = readSettings(args.getConfig());
      for (const problem of settingsProblems(recorded, rules())) reportViolation(problem);
    },
  };
}

/**
 * A policy whose violations are dropped where a valid exemption from the stack's pack config covers them (except in
 * the environments its `notExemptibleOn` names). The marker is not passed on to CrossGuard.
 */
export function withExemptions<P extends Policy>(rule: P & ExemptionLimit): P {
  const { notExemptibleOn, ...rest } = rule;
  const policy = rest as unknown as P;
  const filtered =
    (reportViolation: ReportViolation, defaultUrn?: string): ReportViolation =>
    (message, urn) => {
      if (!isExempt(policy.name, urn ?? defaultUrn, today(), { notExemptibleOn }))
        reportViolation(message, urn);
    };
  const resource = (policy as Partial<ResourceValidationPolicy>).validateResource;
  if (resource !== undefined) {
    const wrap =
      (validate: ResourceValidation): ResourceValidation =>
      (args, reportViolation) =>
        validate(args, filtered(reportViolation, args.urn));
    return {
      ...policy,
      validateResource: Array.isArray(resource) ? resource.map(wrap) : wrap(resource as ResourceValidation),
    };
  }
  const stack = (policy as Partial<StackValidationPolicy>).validateStack;
  if (stack !== undefined) {
    const validateStack: StackValidation = (args, reportViolation) => stack(args, filtered(reportViolation));
    return { ...policy, validateStack };
  }
  return policy;
}

const levelRank = { disabled: 0, advisory: 1, remediate: 2, mandatory: 2 } as const;
type Level = keyof typeof levelRank;

/**
 * Rules a stack's pack config lowers below their own level where that is not allowed: on prod no rule may be lowered
 * (by its own entry or by `all`), and a rule never below mandatory in the environments its `notExemptibleOn` names.
 * CrossGuard applies levels before any policy runs (a disabled rule is never called, an advisory one cannot tell),
 * so the pack cannot see this at run time: the repository's tests and the pipeline check the config files with it.
 */
export function loweredLevels(
  config: Record<string, unknown>,
  rules: readonly (PackRule & { readonly enforcementLevel?: string })[],
): string[] {
  const settings = config[packSettingsName] as { environment?: unknown } | undefined;
  const environment = environments.includes(settings?.environment as Environment)
    ? (settings?.environment as Environment)
    : "prod";
  const all = typeof config.all === "string" ? config.all : undefined;
  const problems: string[] = [];
  // pack-settings is not checked: disabling it drops every exemption and judges the stack as prod (stricter).
  for (const rule of rules) {
    const own = config[rule.name];
    const set =
      typeof own === "string"
        ? own
        : typeof own === "object" && own !== null
          ? ((own as { enforcementLevel?: string }).enforcementLevel ?? all)
          : all;
    const declared = (rule.enforcementLevel ?? "advisory") as Level;
    if (set === undefined || !(set in levelRank)) continue;
    const required: Level = refusesExemptionOn(rule, environment)
      ? "mandatory"
      : environment === "prod"
        ? declared
        : "disabled";
    if (levelRank[set as Level] < levelRank[required]) {
      problems.push(
        `${rule.name} is set to "${set}" in this ${environment} stack's pack config (${typeof own === "undefined" ? '"all"' : "its own entry"}), below its level "${required}", which no ${environment} stack may lower; remove the override.`,
      );
    }
  }
  return problems;
}
