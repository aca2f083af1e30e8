/** Names of the IAM roles the program creates per cluster; the live check (ops/verify) reads the same names. */
export const platformRoleNames = {
  cluster: (clusterName: string) => `${clusterName}-cluster`,
  node: (clusterName: string) => `${clusterName}-node`,
  karpenterNode: (clusterName: string) => `${clusterName}-karpenter-node`,
  karpenterController: (clusterName: string) => `${clusterName}-karpenter-controller`,
  ciliumOperator: (clusterName: string) => `${clusterName}-cilium-operator`,
  ebsCsi: (clusterName: string) => `${clusterName}-ebs-csi`,
  vpcCni: (clusterName: string) => `${clusterName}-vpc-cni`,
  fargatePods: (clusterName: string) => `${clusterName}-fargate-pods`,
  awsLoadBalancerController: (clusterName: string) => `${clusterName}-aws-load-balancer-controller`,
  externalDns: (clusterName: string) => `${clusterName}-external-dns`,
  externalSecrets: (clusterName: string) => `${clusterName}-external-secrets`,
} as const;

/** The service principals those roles trust (infra/identity/trust-policy.ts, infra/cluster/fargate.ts). */
export const roleTrustServices = {
  cluster: "eks.amazonaws.com",
  node: "ec2.amazonaws.com",
  podIdentity: "pods.eks.amazonaws.com",
  fargatePods: "eks-fargate-pods.amazonaws.com",
} as const;
