import { z } from "zod";

/**
 * Config of the everyday add-ons (metrics-server, AWS Load Balancer Controller, ExternalDNS, External Secrets):
 * their schemas, the rules that tie them to the compute mode, and the defaults that depend on the environment or
 * mode. Pure, so every rule is testable without Pulumi.
 */

/** A Route 53 hosted zone id as the API returns it without the `/hostedzone/` prefix, e.g. Z0123456789ABCDEFGHIJ. */
export const hostedZoneIdPattern = /^Z[A-Z0-9]{1,31}$/;

/**
 * Secrets Manager names allow letters, digits and /_+=.@-; a prefix must not be empty (that would be every secret) and
 * must end with "/": IAM matches `secret:<prefix>*` as plain text, so "platform-prod" would also grant
 * "platform-prod-payments/…" or another cluster's "platform-prod2/…".
 */
export const secretNamePrefixPattern = /^[A-Za-z0-9/_+=.@-]{1,255}\/$/;

export const externalDnsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  hostedZoneIds: z
    .array(
      z
        .string()
        .regex(
          hostedZoneIdPattern,
          "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (without the /hostedzone/ prefix; `aws route53 list-hosted-zones` shows it)",
        ),
    )
    .default([]),
  policy: z
    .enum(["upsert-only", "sync"], {
      message:
        'must be "upsert-only" (creates and updates records, never deletes them: the default) or "sync" (also deletes the records it owns)',
    })
    .default("upsert-only"),
});

export const externalSecretsSchema = z.strictObject({
  /** Default: on in staging and prod, off in dev. */
  enabled: z.boolean().optional(),
  /** Default: `<cluster name>/`. */
  namePrefix: z
    .string()
    .regex(
      secretNamePrefixPattern,
      'must be the start of the Secrets Manager names this cluster may read, ending with "/", e.g. "platform-prod/" (letters, digits and /_+=.@-; no wildcards; without the final "/" the IAM grant would also cover "platform-prod2/…")',
    )
    .optional(),
});

/** The keys of `addons` this module owns (spread into addonsSchema). */
export const everydayAddonsShape = {
  metricsServer: z.boolean().default(true),
  /** Default: on in compute mode karpenter; Auto Mode has its own load balancing. */
  awsLoadBalancerController: z.boolean().optional(),
  externalDns: externalDnsSchema.default(externalDnsSchema.parse({})),
  externalSecrets: externalSecretsSchema.default(externalSecretsSchema.parse({})),
};

type EverydayAddonsConfig = {
  readonly metricsServer: boolean;
  readonly awsLoadBalancerController?: boolean;
  readonly externalDns: z.output<typeof externalDnsSchema>;
  readonly externalSecrets: z.output<typeof externalSecretsSchema>;
};

interface AddonRuleInput {
  readonly environment: "dev" | "staging" | "prod";
  readonly compute: { readonly mode: "auto" | "karpenter" };
  readonly gitops: { readonly highAvailability?: boolean; readonly argocd: { readonly install: string } };
  readonly addons: EverydayAddonsConfig;
}

/** A config problem at a path under the project's keys. */
export interface AddonConfigIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Mode and consistency rules. `highAvailability` is the resolved value (its default depends on the environment), so
 * the caller passes it in.
 */
export function everydayAddonIssues(config: AddonRuleInput, highAvailability: boolean): AddonConfigIssue[] {
  const issues: AddonConfigIssue[] = [];
  const addons = config.addons;
  if (config.compute.mode === "auto" && addons.awsLoadBalancerController === true) {
    issues.push({
      path: ["addons", "awsLoadBalancerController"],
      message:
        "EKS Auto Mode runs its own load balancing: Services of type LoadBalancer get an NLB (load balancer class eks.amazonaws.com/nlb, the cluster default) and Ingresses an ALB through an IngressClass with controller eks.amazonaws.com/alb; a second controller would fight over the same objects. Remove addons.awsLoadBalancerController (or set it to false), or use compute.mode: karpenter",
    });
  }
  const dns = addons.externalDns;
  if (dns.enabled && dns.hostedZoneIds.length === 0) {
    issues.push({
      path: ["addons", "externalDns", "hostedZoneIds"],
      message:
        "ExternalDNS manages only the Route 53 zones listed here (its IAM role is scoped to them): list at least one hosted zone id, e.g. [Z0123456789ABCDEFGHIJ], or set addons.externalDns.enabled: false",
    });
  }
  const duplicates = dns.hostedZoneIds.filter((id, index) => dns.hostedZoneIds.indexOf(id) !== index);
  if (duplicates.length > 0) {
    issues.push({
      path: ["addons", "externalDns", "hostedZoneIds"],
      message: `lists ${[...new Set(duplicates)].join(", ")} more than once; list each hosted zone id once`,
    });
  }
  if (highAvailability && config.gitops.argocd.install === "helm" && !addons.metricsServer) {
    issues.push({
      path: ["addons", "metricsServer"],
      message:
        "HA Argo CD (gitops.highAvailability) scales its API server and repo-server with HorizontalPodAutoscalers, which read metrics-server: set addons.metricsServer: true, or gitops.highAvailability: false",
    });
  }
  return issues;
}

/** The everyday add-ons of a stack with their defaults resolved. */
export interface EverydayAddons {
  readonly metricsServer: boolean;
  readonly awsLoadBalancerController: boolean;
  readonly externalDns: z.output<typeof externalDnsSchema>;
  readonly externalSecrets: { readonly enabled: boolean; readonly namePrefix: string };
}

/** Defaults by environment and mode: External Secrets on where clusters live long, the LB controller where needed. */
export function everydayAddons(config: {
  readonly environment: "dev" | "staging" | "prod";
  readonly compute: { readonly mode: "auto" | "karpenter" };
  readonly cluster: { readonly name: string };
  readonly addons: EverydayAddonsConfig;
}): EverydayAddons {
  const addons = config.addons;
  return {
    metricsServer: addons.metricsServer,
    awsLoadBalancerController:
      config.compute.mode === "karpenter" && (addons.awsLoadBalancerController ?? true),
    externalDns: addons.externalDns,
    externalSecrets: {
      enabled: addons.externalSecrets.enabled ?? config.environment !== "dev",
      namePrefix: addons.externalSecrets.namePrefix ?? `${config.cluster.name}/`,
    },
  };
}
