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

export interface SpokeDrainArgs {
  /** The hub's kubeconfig (`aws eks get-token`, no static credentials); kept secret. */
  readonly kubeconfig: pulumi.Input<string>;
  readonly secretName: pulumi.Input<string>;
  /** The `server` of the spoke's cluster Secret: its Applications' destination. */
  readonly server: pulumi.Input<string>;
  readonly namespace: string;
  /** The spoke's cluster Secret: created before, so deleted after the drain. */
  readonly secret: pulumi.Resource;
}

/**
 * On a hub, one per spoke: a delete-only command (ops/fleet/drain.ts) that removes the spoke's Applications wave by
 * wave when the spoke leaves fleet.spokes (or the hub is destroyed), while its cluster Secret still exists.
 * Never give it `triggers`: a replacement would run the delete step and drain a live spoke.
 */
export class SpokeDrain extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: SpokeDrainArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:SpokeDrain", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-drain`,
      {
        delete: "npx --no-install ts-node --transpile-only ops/fleet/drain.ts",
        environment: {
          FLEET_DRAIN_KUBECONFIG: pulumi.secret(args.kubeconfig),
          FLEET_DRAIN_SECRET: args.secretName,
          FLEET_DRAIN_SERVER: args.server,
          FLEET_DRAIN_NAMESPACE: args.namespace,
        },
        logging: command.types.enums.local.Logging.StdoutAndStderr,
      },
      { parent: this, dependsOn: [args.secret], customTimeouts: { delete: "30m" } },
    );
    this.registerOutputs({});
  }
}
