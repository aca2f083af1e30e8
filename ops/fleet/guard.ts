import { execFile } from "node:child_process";

/**
 * The spoke side of removing a spoke: `pulumi destroy` of a spoke refuses while its hub still lists it, because the
 * hub's Argo CD would keep syncing (and, once the cluster is gone, fail to delete) its Applications. Removing a spoke
 * is: drop it from the hub's fleet.spokes and `pulumi up` the hub (which drains its Applications in order,
 * ops/fleet/drain.ts), then destroy the spoke.
 *
 *   ts-node ops/fleet/guard.ts --from-env      what FleetSpokeGuard's delete step runs (FLEET_GUARD_* variables)
 */

/** Result of `pulumi stack output --json --stack <hub>`, or why it could not be read. */
export type HubLookup =
  | { readonly kind: "outputs"; readonly outputs: Record<string, unknown> }
  | { readonly kind: "missing" }
  | { readonly kind: "error"; readonly message: string };

/** Environment escape hatch, for a hub whose state is lost for good (documented in docs/gitops.md). */
export const guardOverride = "FLEET_GUARD_IGNORE_HUB";

/** Throws with what to do when the hub still targets the spoke (or cannot be checked); returns a log line otherwise. */
export function checkSpokeRemovable(
  spoke: string,
  hub: string,
  lookup: HubLookup,
  override: boolean,
): string {
  if (override) return `${guardOverride} is set: not checking whether ${hub} still registers ${spoke}`;
  if (lookup.kind === "missing") return `hub ${hub} does not exist (any more): nothing targets ${spoke}`;
  if (lookup.kind === "error")
    throw new Error(
      [
        `Cannot destroy spoke ${spoke}: could not read its hub ${hub} to check that the hub no longer targets it (${lookup.message}).`,
        `Fix the access to the hub's state and retry; if the hub is gone for good, set ${guardOverride}=true for this destroy.`,
      ].join("\n"),
    );
  const spokes = lookup.outputs.fleetSpokes;
  if (Array.isArray(spokes) && spokes.includes(spoke))
    throw new Error(
      [
        `Cannot destroy spoke ${spoke}: the hub ${hub} still registers it (its fleet.spokes lists ${spoke}), so its Argo CD still deploys to this cluster. Nothing was deleted.`,
        "Remove it from the hub first, which drains its Applications in order:",
        `  pulumi config edit --stack ${hub}    # delete ${spoke} from fleet.spokes`,
        `  pulumi up --stack ${hub}`,
        `  pulumi destroy                     # this spoke, again`,
      ].join("\n"),
    );
  return `hub ${hub} no longer registers ${spoke}`;
}

/** Reads the hub's outputs with the Pulumi CLI that runs this destroy (same backend login). */
export function lookUpHub(hub: string, pulumiBinary = "pulumi"): Promise<HubLookup> {
  return new Promise((resolve) => {
    execFile(pulumiBinary, ["stack", "output", "--json", "--stack", hub], (error, stdout, stderr) => {
      if (!error) {
        try {
          resolve({ kind: "outputs", outputs: JSON.parse(stdout) as Record<string, unknown> });
        } catch {
          resolve({ kind: "error", message: "`pulumi stack output --json` did not print JSON" });
        }
      } else if (/no stack named|not found/i.test(stderr)) resolve({ kind: "missing" });
      else resolve({ kind: "error", message: stderr.trim() || error.message });
    });
  });
}

export async function main(env: NodeJS.ProcessEnv): Promise<string> {
  const spoke = env.FLEET_GUARD_SPOKE;
  const hub = env.FLEET_GUARD_HUB;
  if (!spoke || !hub)
    throw new Error("FLEET_GUARD_SPOKE and FLEET_GUARD_HUB must be set (FleetSpokeGuard passes them)");
  const override = env[guardOverride] === "true";
  return checkSpokeRemovable(
    spoke,
    hub,
    override ? { kind: "missing" } : await lookUpHub(hub, env.FLEET_GUARD_PULUMI),
    override,
  );
}

if (require.main === module) {
  main(process.env).then(
    (line) => process.stderr.write(`fleet guard: ${line}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
