import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterFacts } from "../facts";
import { associateClusterPolicy } from "../identity";
import { attachManagedPolicies, nodeRolePolicyNames } from "../identity/managed-policies";
import { PodIdentityRole } from "../identity/pod-identity";
import { everydayAddonRoles } from "./everyday";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { addonAwsPlan } from "./enabled";
import {
  ciliumOperatorPolicy,
  eventPattern,
  interruptionEvents,
  interruptionQueuePolicy,
  karpenterControllerPolicy,
} from "./policies";
import { platformRoleNames, roleTrustServices } from "../config/roles";

export { addonAwsPlan } from "./enabled";

export interface AddonsAwsArgs {
  readonly cluster: ClusterFacts;
}

/**
 * The AWS side of the add-ons that Argo CD installs: IAM roles bound with EKS Pod Identity (never IRSA), Karpenter's
 * node role + access entry, its interruption queue and EventBridge rules. Their names and ARNs reach the add-ons
 * through the cluster Secret's annotations.
 */
export class AddonsAws extends pulumi.ComponentResource {
  readonly karpenterNodeRoleName?: pulumi.Output<string>;
  readonly karpenterControllerRoleArn?: pulumi.Output<string>;
  readonly karpenterInterruptionQueueName?: pulumi.Output<string>;
  readonly ciliumOperatorRoleArn?: pulumi.Output<string>;
  readonly awsLoadBalancerControllerRoleArn?: pulumi.Output<string>;
  readonly externalDnsRoleArn?: pulumi.Output<string>;
  readonly externalSecretsRoleArn?: pulumi.Output<string>;
  /** Access entries and associations: nodes launched from the add-ons' pools can join once these exist. */
  readonly readiness: pulumi.Resource[] = [];

  constructor(name: string, args: AddonsAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:AddonsAws", name, {}, opts);
    const facts = args.cluster;
    const config = facts.config;
    const plan = addonAwsPlan(config);
    const parent = { parent: this };
    const tags = config.tags;
    const clusterName = config.cluster.name;

    let nodeRole: aws.iam.Role | undefined;
    if (plan.karpenterNodeRole) {
      nodeRole = new aws.iam.Role(
        `${name}-karpenter-node`,
        {
          name: platformRoleNames.karpenterNode(clusterName),
          assumeRolePolicy: serviceTrustPolicy(roleTrustServices.node, false),
          tags,
        },
        parent,
      );
      attachManagedPolicies(
        this,
        `${name}-karpenter-node`,
        nodeRole,
        nodeRolePolicyNames(config.compute.mode),
        facts.partition,
      );
      const entry = new aws.eks.AccessEntry(
        `${name}-karpenter-node`,
        { clusterName: facts.clusterName, principalArn: nodeRole.arn, type: plan.nodeAccessEntryType, tags },
        { ...parent, dependsOn: [facts.cluster] },
      );
      this.readiness.push(entry);
      if (plan.nodeAccessEntryType === "EC2") {
        // A custom Auto Mode NodeClass role is only admitted with this access policy (EKS User Guide, create-node-class).
        this.readiness.push(
          associateClusterPolicy(
            this,
            `${name}-karpenter-node`,
            {
              clusterName: facts.clusterName,
              principalArn: nodeRole.arn,
              partition: facts.partition,
              policy: "AmazonEKSAutoNodePolicy",
            },
            [entry],
          ),
        );
      }
      this.karpenterNodeRoleName = nodeRole.name;
    }

    if (plan.karpenterController && nodeRole) {
      const queue = new aws.sqs.Queue(
        `${name}-karpenter-interruption`,
        { name: `${clusterName}-karpenter`, messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags },
        parent,
      );
      new aws.sqs.QueuePolicy(
        `${name}-karpenter-interruption`,
        { queueUrl: queue.url, policy: queue.arn.apply(interruptionQueuePolicy) },
        parent,
      );
      for (const event of interruptionEvents) {
        const rule = new aws.cloudwatch.EventRule(
          `${name}-karpenter-${event.name}`,
          { name: `${clusterName}-karpenter-${event.name}`, eventPattern: eventPattern(event), tags },
          parent,
        );
        new aws.cloudwatch.EventTarget(
          `${name}-karpenter-${event.name}`,
          { rule: rule.name, targetId: "KarpenterInterruptionQueue", arn: queue.arn },
          parent,
        );
      }
      const controller = new PodIdentityRole(
        `${name}-karpenter-controller`,
        {
          roleName: platformRoleNames.karpenterController(clusterName),
          partition: facts.partition,
          inlinePolicy: pulumi
            .all([facts.partition, facts.accountId, facts.clusterArn, nodeRole.arn, queue.arn])
            .apply(([partition, accountId, clusterArn, nodeRoleArn, interruptionQueueArn]) =>
              karpenterControllerPolicy({
                partition,
                region: config.region,
                accountId,
                clusterName,
                clusterArn,
                nodeRoleArn,
                interruptionQueueArn,
              }),
            ),
          // The chart's service account (serviceAccount.name in addons/karpenter/values/defaults.yaml).
          association: {
            clusterName: facts.clusterName,
            namespace: "kube-system",
            serviceAccount: "karpenter",
          },
          tags,
        },
        { ...parent, dependsOn: [facts.cluster] },
      );
      this.karpenterControllerRoleArn = controller.roleArn;
      this.karpenterInterruptionQueueName = queue.name;
    }

    if (plan.ciliumOperator) {
      const operator = new PodIdentityRole(
        `${name}-cilium-operator`,
        {
          roleName: platformRoleNames.ciliumOperator(clusterName),
          partition: facts.partition,
          inlinePolicy: ciliumOperatorPolicy(config.region),
          association: {
            clusterName: facts.clusterName,
            namespace: "kube-system",
            serviceAccount: "cilium-operator",
          },
          tags,
        },
        // No dependency on facts.readiness: Cilium is installed before the add-ons that need pod networking.
        { ...parent, dependsOn: [facts.cluster] },
      );
      this.ciliumOperatorRoleArn = operator.roleArn;
    }

    ({
      awsLoadBalancerControllerRoleArn: this.awsLoadBalancerControllerRoleArn,
      externalDnsRoleArn: this.externalDnsRoleArn,
      externalSecretsRoleArn: this.externalSecretsRoleArn,
    } = everydayAddonRoles(this, name, facts));

    this.registerOutputs({
      karpenterNodeRoleName: this.karpenterNodeRoleName,
      karpenterControllerRoleArn: this.karpenterControllerRoleArn,
      karpenterInterruptionQueueName: this.karpenterInterruptionQueueName,
      ciliumOperatorRoleArn: this.ciliumOperatorRoleArn,
      awsLoadBalancerControllerRoleArn: this.awsLoadBalancerControllerRoleArn,
      externalDnsRoleArn: this.externalDnsRoleArn,
      externalSecretsRoleArn: this.externalSecretsRoleArn,
    });
  }
}
