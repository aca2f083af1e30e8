import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { opsScript } from "../ops-script";

export interface FoundationDestroyGuardArgs {
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  /** Every subnet the foundation itself declares; any other subnet in the VPC belongs to a cluster stack. */
  readonly ownSubnetIds: pulumi.Input<string>[];
  /** Everything the foundation declares: the guard is deleted first, before any of it. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Destroy order in code: a delete-only local command, created last so `pulumi destroy` deletes it first, that fails
 * (and so stops the destroy before anything is deleted) while cluster stacks still have subnets in the VPC. It runs
 * the tested ops/foundation/guard.ts with the project's node_modules, from the repository root.
 *
 * Never give the command `triggers`: a replacement would run the check on a live foundation and fail the update.
 */
export class FoundationDestroyGuard extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: FoundationDestroyGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:ops:FoundationDestroyGuard", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-check`,
      {
        // Nothing to do on create: the resource exists to order the delete.
        delete: opsScript("ops/foundation/cli.ts"),
        // The foundation program runs in foundation/; the check lives at the repository root.
        dir: "..",
        environment: {
          FOUNDATION_GUARD_REGION: args.region,
          FOUNDATION_GUARD_VPC_ID: args.vpcId,
          FOUNDATION_GUARD_OWN_SUBNETS: pulumi.all(args.ownSubnetIds).apply((ids) => ids.join(",")),
        },
        logging: command.types.enums.local.Logging.StdoutAndStderr,
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.registerOutputs({});
  }
}
