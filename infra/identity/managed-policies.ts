import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn } from "../cluster/policies";

/**
 * Attaches AWS managed policies to a role, one `<prefix>-<PolicyName>` attachment each, as children of `parent`,
 * so a role's permissions read as a list of names in the resource tree.
 */
export function attachManagedPolicies(
  parent: pulumi.Resource,
  prefix: string,
  role: aws.iam.Role,
  policyNames: readonly string[],
  partition: pulumi.Input<string>,
): aws.iam.RolePolicyAttachment[] {
  return policyNames.map(
    (policyName) =>
      new aws.iam.RolePolicyAttachment(
        `${prefix}-${policyName}`,
        {
          role: role.name,
          policyArn: pulumi.output(partition).apply((value) => managedPolicyArn(value, policyName)),
        },
        { parent },
      ),
  );
}
