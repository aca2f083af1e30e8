import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";

/**
 * What the cluster layer tells the layers above it (add-on AWS resources, Argo CD bootstrap). Everything an add-on
 * needs from infrastructure comes from here, so nothing is copied by hand into addons/.
 */
export interface ClusterFacts {
  readonly config: PlatformConfig;
  readonly accountId: pulumi.Output<string>;
  readonly partition: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly clusterArn: pulumi.Output<string>;
  /** https://… API server URL. */
  readonly endpoint: pulumi.Output<string>;
  /** Base64 cluster CA bundle. */
  readonly certificateAuthorityData: pulumi.Output<string>;
  /** Kubeconfig using `aws eks get-token` (no static credentials); marked secret. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** The EKS-created cluster security group, attached to every node. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** Node IAM role used by Auto Mode's built-in pools or by the system node group (karpenter mode). */
  readonly nodeRoleName: pulumi.Output<string>;
  readonly nodeRoleArn: pulumi.Output<string>;
  /** The cluster resource itself, for dependsOn. */
  readonly cluster: pulumi.Resource;
  /** Access entries and their policy associations: what lets Pulumi (and Argo CD's bootstrap) reach the API. */
  readonly apiAccess: pulumi.Resource[];
  /**
   * Resources that must exist before workloads are scheduled (access entries, node groups, EKS add-ons);
   * things that talk to the Kubernetes API depend on these.
   */
  readonly readiness: pulumi.Resource[];
}
