import * as pulumi from "@pulumi/pulumi";
import { roleBoundaryTagKey } from "../foundation/contract";

const roleType = "aws:iam/role:Role";

/**
 * Gives every `aws.iam.Role` the stack declares from now on the foundation's permissions boundary of its environment,
 * and the tag that names it. The environment's deploy role may create a role only with both (docs/pipeline.md,
 * "CI identity: trust and permissions"), so a role added anywhere in the program later is covered without another
 * edit; a role that sets another boundary is a programming error.
 */
export function boundEveryRole(boundaryArn: string): void {
  pulumi.runtime.registerStackTransformation((args) => {
    if (args.type !== roleType) return undefined;
    const props = args.props as {
      permissionsBoundary?: unknown;
      tags?: pulumi.Input<Record<string, string>>;
    };
    if (props.permissionsBoundary !== undefined && props.permissionsBoundary !== boundaryArn)
      throw new Error(
        `role ${args.name} sets permissionsBoundary itself; every role of a cluster stack carries the foundation's (${boundaryArn})`,
      );
    return {
      props: {
        ...args.props,
        permissionsBoundary: boundaryArn,
        tags: pulumi.output(props.tags).apply((tags) => ({ ...tags, [roleBoundaryTagKey]: boundaryArn })),
      },
      opts: args.opts,
    };
  });
}
