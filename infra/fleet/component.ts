import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { opsScript } from "../ops-script";

export interface SpokeRegistrationArgs {
  /** The hub's kubeconfig (`aws eks get-token` with the deploy role running this stack; no static credentials). */
  readonly hubKubeconfig: pulumi.Input<string>;
  /** The Secret to apply (./registration.ts registrationManifest), as JSON. */
  readonly manifest: pulumi.Input<string>;
  /** The `server` of the Secret: the destination of this spoke's Applications on the hub. */
  readonly server: pulumi.Input<string>;
  /** Created before the registration and deleted after it: the hub's access, the spoke's ordered teardown. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * On a spoke: its cluster Secret on the hub (ops/fleet/registration.ts). Create/update = a server-side apply (the
 * registrar may write but not read Secrets, so no provider that reads live state); delete = drain this spoke's
 * Applications from the hub wave by wave, then delete the Secret — before the hub's access and the cluster go,
 * because Pulumi deletes dependents first. A changed manifest re-runs the apply (an update); never give it
 * `triggers`: they replace the command, and a replacement runs the delete step, draining a live spoke.
 */
export class SpokeRegistration extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: SpokeRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:SpokeRegistration", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-secret`,
      {
        create: opsScript("ops/fleet/registration.ts", "apply"),
        delete: opsScript("ops/fleet/registration.ts", "release"),
        environment: {
          FLEET_HUB_KUBECONFIG: args.hubKubeconfig,
          FLEET_REGISTRATION: args.manifest,
          FLEET_REGISTRATION_SERVER: args.server,
        },
        logging: command.types.enums.local.Logging.StdoutAndStderr,
      },
      { parent: this, dependsOn: args.dependsOn, customTimeouts: { delete: "30m" } },
    );
    this.registerOutputs({});
  }
}

export interface FleetHubGuardArgs {
  readonly kubeconfig: pulumi.Input<string>;
  readonly namespace: string;
  /** Deleted after the guard: Argo CD, its ordered teardown and the cluster (Pulumi deletes dependents first). */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * On a hub, the first thing `pulumi destroy` deletes: a delete-only command (ops/fleet/hub-guard.ts) that refuses
 * while spokes are registered, before Argo CD or the cluster are touched.
 */
export class FleetHubGuard extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: FleetHubGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:FleetHubGuard", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-check`,
      {
        delete: opsScript("ops/fleet/hub-guard.ts"),
        environment: {
          FLEET_HUB_KUBECONFIG: pulumi.secret(args.kubeconfig),
          FLEET_HUB_NAMESPACE: args.namespace,
        },
        logging: command.types.enums.local.Logging.StdoutAndStderr,
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.registerOutputs({});
  }
}
