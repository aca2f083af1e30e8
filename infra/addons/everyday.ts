import * as pulumi from "@pulumi/pulumi";
import { everydayAddons } from "../config/addons";
import type { ClusterFacts } from "../facts";
import { PodIdentityRole } from "../identity/pod-identity";
import { platformRoleNames } from "../config/roles";
import { externalDnsPolicy } from "./external-dns";
import { externalSecretsPolicy } from "./external-secrets";
import { loadBalancerControllerPolicy } from "./load-balancer-controller";

/**
 * Service accounts the everyday add-ons' charts run as (serviceAccount.name in their values/defaults.yaml): each gets
 * its IAM role through an EKS Pod Identity association, never IRSA. metrics-server needs no AWS access.
 */
export const everydayServiceAccounts = {
  awsLoadBalancerController: { namespace: "kube-system", serviceAccount: "aws-load-balancer-controller" },
  externalDns: { namespace: "external-dns", serviceAccount: "external-dns" },
  externalSecrets: { namespace: "external-secrets", serviceAccount: "external-secrets" },
} as const;

export interface EverydayAddonRoles {
  readonly awsLoadBalancerControllerRoleArn?: pulumi.Output<string>;
  readonly externalDnsRoleArn?: pulumi.Output<string>;
  readonly externalSecretsRoleArn?: pulumi.Output<string>;
}

/** The Pod Identity roles of the everyday add-ons that are on in this stack. */
export function everydayAddonRoles(
  parent: pulumi.Resource,
  name: string,
  facts: ClusterFacts,
): EverydayAddonRoles {
  const config = facts.config;
  const addons = everydayAddons(config);
  const clusterName = config.cluster.name;
  const role = (addon: keyof typeof everydayServiceAccounts, suffix: string, policy: pulumi.Input<string>) =>
    new PodIdentityRole(
      `${name}-${suffix}`,
      {
        roleName: platformRoleNames[addon](clusterName),
        partition: facts.partition,
        inlinePolicy: policy,
        association: { clusterName: facts.clusterName, ...everydayServiceAccounts[addon] },
        tags: config.tags,
      },
      { parent, dependsOn: [facts.cluster] },
    ).roleArn;
  return {
    awsLoadBalancerControllerRoleArn: addons.awsLoadBalancerController
      ? role(
          "awsLoadBalancerController",
          "aws-load-balancer-controller",
          facts.partition.apply(loadBalancerControllerPolicy),
        )
      : undefined,
    externalDnsRoleArn: addons.externalDns.enabled
      ? role(
          "externalDns",
          "external-dns",
          facts.partition.apply((partition) =>
            externalDnsPolicy(partition, addons.externalDns.hostedZoneIds),
          ),
        )
      : undefined,
    externalSecretsRoleArn: addons.externalSecrets.enabled
      ? role(
          "externalSecrets",
          "external-secrets",
          pulumi.all([facts.partition, facts.accountId]).apply(([partition, accountId]) =>
            externalSecretsPolicy({
              partition,
              region: config.region,
              accountId,
              namePrefix: addons.externalSecrets.namePrefix,
            }),
          ),
        )
      : undefined,
  };
}
