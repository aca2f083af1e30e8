import { z } from "zod";
import { stackReferencePattern } from "../foundation/contract";

/**
 * The stack's place in a fleet (hub-and-spoke, docs/gitops.md "Fleet"):
 * - `standalone` (default): Argo CD in this cluster syncs this cluster only — the behaviour of every stack so far.
 * - `hub`: Argo CD (chart or EKS capability) runs here and owns the ApplicationSets; spokes register themselves.
 * - `spoke`: no Argo CD of its own; grants the hub named in `hub` its access entry and writes its own cluster Secret
 *   into the hub (one `pulumi up` adds it, one `pulumi destroy` drains and removes it).
 */
const stackRef = z
  .string()
  .regex(
    stackReferencePattern,
    "must be a fully qualified stack name <organization>/<project>/<stack>, e.g. acme/eks-gitops-platform/hub (self-managed backends: organization/eks-gitops-platform/hub)",
  );

export const fleetRoles = ["standalone", "hub", "spoke"] as const;
export type FleetRole = (typeof fleetRoles)[number];

/** How a self-managed (chart) hub's pods reach this spoke's private API endpoint. */
export const hubNetworks = ["same-vpc", "routed"] as const;

/** At most this many other accounts' deploy roles may register spokes with one hub (one access entry each). */
export const maxFleetRegistrars = 20;

/** An IAM role ARN (no path restriction: foundations name their deploy roles). */
const roleArnPattern = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

export const fleetSchema = z
  .strictObject({
    role: z
      .enum(fleetRoles, { message: 'must be "standalone" (default), "hub" or "spoke"' })
      .default("standalone"),
    /** spoke: the hub stack this cluster registers with. */
    hub: stackRef.optional(),
    /**
     * hub: deploy roles of the hub's environment in OTHER accounts (their own foundations) that may register spokes.
     * Spokes on the hub's own foundation register with the deploy role that already deploys the hub: nothing to list.
     */
    registrars: z
      .array(
        z
          .string()
          .regex(
            roleArnPattern,
            "must be an IAM role ARN, the deployRoleArn output of the other account's foundation for this environment, e.g. arn:aws:iam::444455556666:role/eks-gitops-prod-deploy",
          ),
      )
      .max(maxFleetRegistrars, `lists at most ${maxFleetRegistrars} registrars (one access entry each)`)
      .default([]),
    /** Removed: spokes register themselves (kept here so a stack that still sets it gets the fix, not "unknown key"). */
    spokes: z.unknown().optional(),
    /**
     * spoke with a chart hub: `same-vpc` admits the hub cluster's security group to this API on 443; `routed`
     * admits the hub VPC's CIDR (you provide the peering or transit-gateway route). The capability needs neither.
     */
    hubNetwork: z.enum(hubNetworks, { message: 'must be "same-vpc" or "routed"' }).optional(),
  })
  .superRefine((fleet, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    if (fleet.spokes !== undefined)
      issue(
        ["spokes"],
        "was removed: a hub no longer lists its spokes, each spoke registers itself with one `pulumi up` (fleet.role: spoke, fleet.hub: <this hub>). Delete fleet.spokes from this stack; spokes on another account's foundation need their deploy role in fleet.registrars (docs/gitops.md, Fleet)",
      );
    if (fleet.role === "spoke" && fleet.hub === undefined)
      issue(
        ["hub"],
        "a spoke registers with a hub: set fleet.hub to the hub's stack, e.g. acme/eks-gitops-platform/hub",
      );
    if (fleet.role !== "spoke" && fleet.hub !== undefined)
      issue(["hub"], `only a spoke names a hub (this stack's fleet.role is ${fleet.role}); remove fleet.hub`);
    if (fleet.role !== "spoke" && fleet.hubNetwork !== undefined)
      issue(["hubNetwork"], "only a spoke says how its hub reaches it; remove fleet.hubNetwork");
    if (fleet.role !== "hub" && fleet.registrars.length > 0)
      issue(
        ["registrars"],
        `only a hub accepts registrations (this stack's fleet.role is ${fleet.role}); set fleet.role: hub or remove fleet.registrars`,
      );
    const accounts = new Map<string, number>();
    fleet.registrars.forEach((arn, index) => {
      const account = roleArnPattern.exec(arn)?.[1];
      if (account === undefined) return;
      const first = accounts.get(account);
      if (first !== undefined)
        issue(
          ["registrars", index],
          `is in account ${account} like fleet.registrars.${first}: one registrar per account (its foundation's deploy role of this environment)`,
        );
      else accounts.set(account, index);
    });
  });

export type FleetConfig = Omit<z.output<typeof fleetSchema>, "spokes">;

/** The stack's fleet settings, `standalone` when the stack says nothing. */
export function fleetOf(config: { readonly fleet?: FleetConfig }): FleetConfig {
  return config.fleet ?? { role: "standalone", registrars: [] };
}

/** The account a registrar role lives in: what names its Kubernetes group and labels its spokes' Secrets. */
export function registrarAccount(roleArn: string): string {
  const account = roleArnPattern.exec(roleArn)?.[1];
  if (account === undefined) throw new Error(`${roleArn} is not an IAM role ARN`);
  return account;
}
