import { z } from "zod";
import { stackReferencePattern } from "../foundation/contract";

/**
 * The stack's place in a fleet (hub-and-spoke, docs/gitops.md "Fleet"):
 * - `standalone` (default): Argo CD in this cluster syncs this cluster only — the behaviour of every stack so far.
 * - `hub`: Argo CD (chart or EKS capability) runs here, owns the ApplicationSets, and gets one cluster Secret per
 *   stack listed in `spokes` (read through `pulumi.StackReference`).
 * - `spoke`: no Argo CD of its own; grants the hub named in `hub` its access entry and exports its registration.
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

export const fleetSchema = z
  .strictObject({
    role: z
      .enum(fleetRoles, { message: 'must be "standalone" (default), "hub" or "spoke"' })
      .default("standalone"),
    /** spoke: the hub stack that registers this cluster. */
    hub: stackRef.optional(),
    /** hub: the spoke stacks it registers; adding or removing one is one `pulumi up` of the hub. */
    spokes: z.array(stackRef).default([]),
    /**
     * spoke with a chart hub: `same-vpc` admits the hub cluster's security group to this API on 443; `routed`
     * admits the hub VPC's CIDR (you provide the peering or transit-gateway route). The capability needs neither.
     */
    hubNetwork: z.enum(hubNetworks, { message: 'must be "same-vpc" or "routed"' }).optional(),
  })
  .superRefine((fleet, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (fleet.role === "spoke" && fleet.hub === undefined)
      issue(
        "hub",
        "a spoke is registered by a hub: set fleet.hub to the hub's stack, e.g. acme/eks-gitops-platform/hub",
      );
    if (fleet.role !== "spoke" && fleet.hub !== undefined)
      issue("hub", `only a spoke names a hub (this stack's fleet.role is ${fleet.role}); remove fleet.hub`);
    if (fleet.role !== "spoke" && fleet.hubNetwork !== undefined)
      issue("hubNetwork", "only a spoke says how its hub reaches it; remove fleet.hubNetwork");
    if (fleet.role !== "hub" && fleet.spokes.length > 0)
      issue(
        "spokes",
        `only a hub registers spokes (this stack's fleet.role is ${fleet.role}); set fleet.role: hub or remove fleet.spokes`,
      );
    const seen = new Set<string>();
    fleet.spokes.forEach((spoke, index) => {
      if (seen.has(spoke))
        ctx.addIssue({
          code: "custom",
          path: ["spokes", index],
          message: "is listed twice; list each spoke once",
        });
      seen.add(spoke);
    });
  });

export type FleetConfig = z.output<typeof fleetSchema>;

/** The stack's fleet settings, `standalone` when the stack says nothing. */
export function fleetOf(config: { readonly fleet?: FleetConfig }): FleetConfig {
  return config.fleet ?? { role: "standalone", spokes: [] };
}
