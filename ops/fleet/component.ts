import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export interface FleetSpokeGuardArgs {
  /** Fully qualified names: this spoke, and the hub it is registered with. */
  readonly spoke: string;
  readonly hub: string;
  /** Deleted after the guard: the ordered teardown and the cluster (Pulumi deletes dependents first). */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * On a spoke, the first thing `pulumi destroy` deletes: a delete-only command (ops/fleet/guard.ts) that refuses
 * while the hub still lists this spoke, before the drain or the cluster are touched.
 */
export class FleetSpokeGuard extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: FleetSpokeGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:FleetSpokeGuard", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-check`,
      {
        delete: "npx --no-install ts-node --transpile-only ops/fleet/guard.ts",
        environment: { FLEET_GUARD_SPOKE: args.spoke, FLEET_GUARD_HUB: args.hub },
        logging: command.types.enums.local.Logging.StdoutAndStderr,
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.registerOutputs({});
  }
}
