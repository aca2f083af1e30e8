import { UnknownValueError } from "@pulumi/policy";
import type {
  PolicyConfigSchema,
  ResourceValidation,
  ResourceValidationArgs,
  ReportViolation,
} from "@pulumi/policy";

/**
 * Reading resource inputs without tripping over preview-time unknowns.
 *
 * Under `pulumi preview` a value computed from another resource's output (a KMS key ARN created in the same
 * program, a subnet id) is unknown. The policy SDK wraps inputs in a proxy that throws `UnknownValueError` when
 * such a value is read, and the CLI then downgrades the *whole* policy to a "can't run during preview" advisory —
 * which would also hide the known mistakes next to it. So every read goes through `at()`, which returns the
 * `UNKNOWN` marker instead; each rule skips only the check that depends on the unknown value.
 * Absent values (`undefined`) are *not* unknown: they mean "provider default", which rules must judge.
 */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;
export type Known<T> = T | Unknown;

/**
 * The wire sentinels for unknown values (string, boolean, number, array, asset, archive, object), as defined in
 * `@pulumi/policy/proxy.js`; seen when inputs reach a policy without the SDK's proxy (e.g. a synth record).
 */
const unknownSentinels = new Set([
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN || (typeof value === "string" && unknownSentinels.has(value));
}

/** Reads one property, mapping "unknown during preview" (thrown by the SDK's proxy, or the raw sentinel) to UNKNOWN. */
function read(object: unknown, key: string | number): unknown {
  if (object === undefined || object === null || typeof object !== "object") return undefined;
  try {
    const value = (object as Record<string | number, unknown>)[key];
    return isUnknown(value) ? UNKNOWN : value;
  } catch (error) {
    if (error instanceof UnknownValueError) return UNKNOWN;
    throw error;
  }
}

type Prop<T, K> = K extends keyof NonNullable<T> ? NonNullable<T>[K] : never;

/**
 * Typed, unknown-safe property path. Key names are checked against the resource's real input type
 * (e.g. `pulumi.Unwrap<aws.eks.ClusterArgs>`), so a misspelt input name is a compile error, not a silent pass.
 */
export function at<T, K1 extends keyof NonNullable<T>>(object: T, k1: K1): Known<Prop<T, K1>> | undefined;
export function at<T, K1 extends keyof NonNullable<T>, K2 extends keyof NonNullable<Prop<T, K1>>>(
  object: T,
  k1: K1,
  k2: K2,
): Known<Prop<Prop<T, K1>, K2>> | undefined;
export function at<
  T,
  K1 extends keyof NonNullable<T>,
  K2 extends keyof NonNullable<Prop<T, K1>>,
  K3 extends keyof NonNullable<Prop<Prop<T, K1>, K2>>,
>(object: T, k1: K1, k2: K2, k3: K3): Known<Prop<Prop<Prop<T, K1>, K2>, K3>> | undefined;
export function at(object: unknown, ...path: (string | number | symbol)[]): unknown {
  return atPath(object, ...(path as (string | number)[]));
}

/** Untyped path for Kubernetes custom resources and Helm values, whose shape no SDK type describes. */
export function atPath(object: unknown, ...path: (string | number)[]): unknown {
  let node: unknown = object;
  for (const key of path) {
    if (isUnknown(node)) return UNKNOWN;
    node = read(node, key);
  }
  return node;
}

/** The elements of a possibly unknown array, each element read unknown-safely. */
export function elements(value: unknown): Known<unknown[]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (isUnknown(value)) return UNKNOWN;
  if (!Array.isArray(value)) return undefined;
  const length = read(value, "length");
  if (typeof length !== "number") return UNKNOWN;
  return Array.from({ length }, (_, index) => read(value, index));
}

/** Own keys and values of a possibly unknown map (tags, annotations, Helm values). */
export function entries(value: unknown): Known<[string, unknown][]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (isUnknown(value)) return UNKNOWN;
  if (typeof value !== "object") return undefined;
  return Object.keys(value).map((key) => [key, read(value, key)]);
}

/** Tag value of a resource (`tags` input), unknown-safe. */
export function tag(props: unknown, key: string): Known<string> | undefined {
  const value = atPath(props, "tags", key);
  if (isUnknown(value)) return UNKNOWN;
  return typeof value === "string" ? value : undefined;
}

/**
 * Restricts a resource validation to one type token (what `validateResourceOfType` does, without loading the
 * multi-megabyte provider SDK into the analyzer just to learn the token).
 */
export function forType<P = Record<string, unknown>>(
  type: string | readonly string[],
  validate: (props: P, args: ResourceValidationArgs, reportViolation: ReportViolation) => void,
): ResourceValidation {
  const types = typeof type === "string" ? [type] : type;
  return (args, reportViolation) => {
    if (!types.includes(args.type)) return;
    validate(args.props as P, args, reportViolation);
  };
}

/** A policy config schema that declares, for every field of the config T, a default of that field's type. */
export type ConfigSchemaWithDefaults<T extends object> = PolicyConfigSchema & {
  properties: { [K in keyof T]-?: PolicyConfigSchema["properties"][string] & { default: T[K] } };
};

/**
 * Policy config with the schema's defaults applied in code (as harness.ts `configOf` does), so a missing pack
 * config file never changes behaviour. Given values other than undefined override the defaults.
 */
export function configWithDefaults<T extends object>(
  schema: ConfigSchemaWithDefaults<T>,
  getConfig: () => object,
): T {
  const merged: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const fallback = (property as { default?: unknown }).default;
    if (fallback !== undefined) merged[key] = fallback;
  }
  for (const [key, value] of Object.entries(getConfig())) if (value !== undefined) merged[key] = value;
  return merged as T;
}

/** Prefix length of an IPv4/IPv6 CIDR, or undefined for something that is not one. */
export function cidrPrefix(cidr: string): number | undefined {
  const match = /^[0-9a-fA-F.:]+\/(\d{1,3})$/.exec(cidr);
  return match ? Number(match[1]) : undefined;
}

/** True for CIDRs that mean "anywhere": 0.0.0.0/0 and ::/0. */
export function isAnywhere(cidr: string): boolean {
  return cidr === "0.0.0.0/0" || cidr === "::/0";
}

/**
 * An exact version: `1.2.3`, `v1.2.3`, `1.2.3-rc.1`, optionally with build metadata. Ranges (`^1.2`, `~1`,
 * `>=1`, `1.x`, `1.2.*`), `latest`, `HEAD` and empty strings float, so a re-sync can pull a different chart.
 */
export function isExactVersion(version: string): boolean {
  return /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version);
}

/** Glob match as Fargate selectors use it (`*` any run, `?` one character). */
export function globMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(
    "^" +
      pattern
        .split("")
        .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("") +
      "$",
  );
  return regex.test(value);
}

/** Printable form of a value that may be the UNKNOWN marker (a Symbol cannot be joined into a string). */
export function show(value: unknown): string {
  if (isUnknown(value)) return "<unknown>";
  return typeof value === "string" ? value : JSON.stringify(value);
}
