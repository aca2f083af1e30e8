import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeFlowLogsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  Filter,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  paginateDescribeVolumes,
} from "@aws-sdk/client-ec2";
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  paginateListAccessEntries,
  ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import {
  DescribeTagsCommand as DescribeClassicTagsCommand,
  ElasticLoadBalancingClient,
  LoadBalancerDescription,
  paginateDescribeLoadBalancers as paginateDescribeClassicLoadBalancers,
} from "@aws-sdk/client-elastic-load-balancing";
import {
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancer,
  paginateDescribeLoadBalancers,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
} from "@aws-sdk/client-iam";
import { cidrContains } from "../../infra/config/cidr";
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from "@aws-sdk/client-kms";

/** What describe-cluster tells about the promises the stack makes. */
export interface ObservedCluster {
  readonly name: string;
  readonly status: string;
  readonly version: string;
  readonly endpointPrivateAccess: boolean;
  readonly endpointPublicAccess: boolean;
  readonly publicAccessCidrs: readonly string[];
  readonly enabledLogTypes: readonly string[];
  /** KMS key ARNs used for envelope encryption, and what they encrypt. */
  readonly encryption: readonly { readonly keyArn: string; readonly resources: readonly string[] }[];
  readonly authenticationMode?: string;
  readonly supportType?: string;
  /** undefined when the API (or an emulator) does not report it. */
  readonly deletionProtection?: boolean;
  /** "" when not reported (moto); observeStack then takes it from the cluster's subnets. */
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly endpoint?: string;
  readonly certificateAuthorityData?: string;
  /** The cluster IAM role; Auto Mode creates an access entry for it itself. */
  readonly roleArn?: string;
  /** The security group EKS creates for the cluster (undefined when not reported, e.g. moto). */
  readonly clusterSecurityGroupId?: string;
}

/** An ingress rule of a security group, as far as the checks need it. */
export interface ObservedIngressRule {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** IPv4 CIDR, when the rule admits one (not a security-group reference). */
  readonly cidrIpv4?: string;
}

export interface ObservedAccessEntry {
  readonly principalArn: string;
  readonly type: string;
  /** Access policy names (the last part of the ARN), e.g. AmazonEKSClusterAdminPolicy. */
  readonly policies: readonly string[];
}

export interface ObservedKey {
  readonly keyId: string;
  readonly state: string;
  readonly rotationEnabled: boolean;
  /** The key's ARN and its key policy (JSON); the policy is undefined when it could not be read. */
  readonly arn?: string;
  readonly policy?: string;
}

export interface ObservedLogGroup {
  readonly name: string;
  readonly retentionInDays?: number;
  readonly kmsKeyId?: string;
}

export interface ObservedSubnet {
  readonly id: string;
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly availabilityZone: string;
  readonly mapPublicIpOnLaunch: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface ObservedFlowLog {
  readonly id: string;
  readonly trafficType: string;
  readonly destinationType: string;
  readonly status: string;
}

/** One IAM role as the live check reads it; policy documents are JSON (decoded from IAM's URL encoding). */
export interface ObservedRole {
  readonly name: string;
  readonly arn: string;
  readonly trustPolicy: string;
  readonly attachedPolicyArns: readonly string[];
  readonly inlinePolicies: readonly { readonly name: string; readonly document: string }[];
  /** The role's permissions boundary (a managed policy ARN), if any. */
  readonly permissionsBoundaryArn?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface LeftoverLoadBalancer {
  /** Absent for Classic load balancers: their API names them only by name. */
  readonly arn?: string;
  readonly name: string;
  /** ELBv2: "application", "network" or "gateway"; "classic" for a Classic ELB. */
  readonly type: string;
}
export interface LeftoverVolume {
  readonly id: string;
  readonly state: string;
  readonly sizeGiB: number;
}
export interface LeftoverInstance {
  readonly id: string;
  readonly state: string;
  readonly nodePool: string;
}
export interface LeftoverInterface {
  readonly id: string;
  readonly status: string;
  readonly description: string;
  readonly subnetId?: string;
  /** What makes it the cluster's (see interfaceOwner). */
  readonly owner?: string;
}

/** AWS resources created from inside the cluster that would block deleting the VPC or keep costing money. */
export interface Leftovers {
  readonly loadBalancers: readonly LeftoverLoadBalancer[];
  readonly volumes: readonly LeftoverVolume[];
  readonly instances: readonly LeftoverInstance[];
  /** Detached ENIs of the cluster: they block deleting its subnets and security group, and nothing removes them. */
  readonly interfaces: readonly LeftoverInterface[];
}

/**
 * The cluster's own share of a VPC that several cluster stacks share (one foundation VPC): only what lies in it, or
 * carries its security group or its tags, is the cluster's. Never the whole VPC: another cluster's ENIs are not ours
 * to wait for.
 */
export interface ClusterNetworkScope {
  readonly clusterName: string;
  readonly vpcId: string;
  /** The cluster's subnets (describe-cluster); empty when the cluster is gone. */
  readonly subnetIds?: readonly string[];
  /** The cluster's block of the foundation VPC (its network.vpcCidr): its subnets, nodes and pods live there. */
  readonly cidrBlock?: string;
  /** The security group EKS created for the cluster. */
  readonly clusterSecurityGroupId?: string;
}

export interface LeftoverQuery extends ClusterNetworkScope {
  /**
   * Node pools whose nodes may stay: Auto Mode's built-in pools run Argo CD itself and EKS terminates them with
   * the cluster ("Delete a cluster", EKS User Guide). Nodes of every other pool must be gone first.
   */
  readonly retainedNodePools: readonly string[];
}

/**
 * An AWS call the endpoint does not implement (an emulator such as moto answers an unknown route with a non-JSON
 * 404). The live check reports what depends on it as "not checked" instead of crashing.
 */
export class UnsupportedCall extends Error {
  constructor(
    readonly call: string,
    cause: unknown,
  ) {
    super(`${call} is not supported by this endpoint (${(cause as Error).message.split("\n")[0]})`);
    this.name = "UnsupportedCall";
  }
}

/** True for an answer that says "no such API here" rather than "no such resource" or "access denied". */
export function isUnsupportedCall(error: unknown): boolean {
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (["UnknownOperationException", "NotImplemented", "InvalidAction"].includes(candidate.name ?? ""))
    return true;
  // A body that is not the service's JSON/XML (HTML 404 page) fails to deserialize.
  return (
    candidate.name === "SyntaxError" || (error as Error).message?.includes("Deserialization error") === true
  );
}

/** Runs one AWS read, turning "this endpoint has no such API" into UnsupportedCall. */
export async function supported<T>(call: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isUnsupportedCall(error)) throw new UnsupportedCall(call, error);
    throw error;
  }
}

/** Reads access entries; an endpoint without the access-entry API (moto) throws UnsupportedCall. */
export interface AccessEntryReader {
  listAccessEntries(clusterName: string): Promise<ObservedAccessEntry[]>;
}

/** Every AWS read the live check and the teardown make. */
export interface AwsInventory extends AccessEntryReader {
  describeCluster(name: string): Promise<ObservedCluster | undefined>;
  describeKey(keyArn: string): Promise<ObservedKey>;
  describeLogGroup(name: string): Promise<ObservedLogGroup | undefined>;
  describeSubnets(ids: readonly string[]): Promise<ObservedSubnet[]>;
  /** Ingress rules of a security group; optional like describeFlowLogs. */
  describeIngressRules?(groupId: string): Promise<ObservedIngressRule[]>;
  /** Flow logs of a VPC; optional so inventories that cannot read them report "not checked". */
  describeFlowLogs?(vpcId: string): Promise<ObservedFlowLog[]>;
  /** An IAM role with its trust policy and policies, undefined when there is none; optional like describeFlowLogs. */
  describeRole?(name: string): Promise<ObservedRole | undefined>;
  findLeftovers(query: LeftoverQuery): Promise<Leftovers>;
}

export interface SdkInventoryOptions {
  readonly region: string;
  /** For emulators (moto) and VPC endpoints; the SDK also reads AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
}

const liveInstanceStates = ["pending", "running", "stopping", "stopped", "shutting-down"];

/** AwsInventory over the AWS SDK for JavaScript v3. */
export class SdkInventory implements AwsInventory {
  private readonly eks: EKSClient;
  private readonly ec2: EC2Client;
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly classicElb: ElasticLoadBalancingClient;
  private readonly kms: KMSClient;
  private readonly logs: CloudWatchLogsClient;
  private readonly iam: IAMClient;

  constructor(options: SdkInventoryOptions) {
    const config = {
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      maxAttempts: 5,
    };
    this.eks = new EKSClient(config);
    this.ec2 = new EC2Client(config);
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.classicElb = new ElasticLoadBalancingClient(config);
    this.kms = new KMSClient(config);
    this.logs = new CloudWatchLogsClient(config);
    this.iam = new IAMClient(config);
  }

  async describeCluster(name: string): Promise<ObservedCluster | undefined> {
    let cluster;
    try {
      cluster = (await this.eks.send(new DescribeClusterCommand({ name }))).cluster;
    } catch (error) {
      if (
        error instanceof ResourceNotFoundException ||
        (error as { name?: string }).name === "ResourceNotFoundException"
      )
        return undefined;
      throw error;
    }
    if (!cluster) return undefined;
    const vpc = cluster.resourcesVpcConfig ?? {};
    return {
      name: cluster.name ?? name,
      status: cluster.status ?? "UNKNOWN",
      version: cluster.version ?? "",
      endpointPrivateAccess: vpc.endpointPrivateAccess ?? false,
      endpointPublicAccess: vpc.endpointPublicAccess ?? false,
      publicAccessCidrs: vpc.endpointPublicAccess ? (vpc.publicAccessCidrs ?? []) : [],
      enabledLogTypes: (cluster.logging?.clusterLogging ?? [])
        .filter((setup) => setup.enabled)
        .flatMap((setup) => setup.types ?? []),
      encryption: (cluster.encryptionConfig ?? []).map((entry) => ({
        keyArn: entry.provider?.keyArn ?? "",
        resources: entry.resources ?? [],
      })),
      authenticationMode: cluster.accessConfig?.authenticationMode,
      supportType: cluster.upgradePolicy?.supportType,
      deletionProtection: (cluster as { deletionProtection?: boolean }).deletionProtection,
      vpcId: vpc.vpcId ?? "",
      subnetIds: vpc.subnetIds ?? [],
      endpoint: cluster.endpoint,
      certificateAuthorityData: cluster.certificateAuthority?.data,
      roleArn: cluster.roleArn,
      clusterSecurityGroupId: vpc.clusterSecurityGroupId,
    };
  }

  async listAccessEntries(clusterName: string): Promise<ObservedAccessEntry[]> {
    const principals: string[] = [];
    await supported("eks:ListAccessEntries", async () => {
      for await (const page of paginateListAccessEntries({ client: this.eks }, { clusterName })) {
        principals.push(...(page.accessEntries ?? []));
      }
    });
    return Promise.all(
      principals.map(async (principalArn) => {
        const entry = await this.eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn }));
        const policies = await this.eks.send(
          new ListAssociatedAccessPoliciesCommand({ clusterName, principalArn }),
        );
        return {
          principalArn,
          type: entry.accessEntry?.type ?? "STANDARD",
          policies: (policies.associatedAccessPolicies ?? []).map(
            (policy) => (policy.policyArn ?? "").split("/").pop() ?? "",
          ),
        };
      }),
    );
  }

  async describeKey(keyArn: string): Promise<ObservedKey> {
    const key = await this.kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    const rotation = await this.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
    const policy = await supported("kms:GetKeyPolicy", () =>
      this.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: "default" })),
    ).catch((error: unknown) => {
      if (error instanceof UnsupportedCall) return undefined;
      throw error;
    });
    return {
      keyId: key.KeyMetadata?.KeyId ?? keyArn,
      state: key.KeyMetadata?.KeyState ?? "Unknown",
      rotationEnabled: rotation.KeyRotationEnabled === true,
      arn: key.KeyMetadata?.Arn ?? keyArn,
      policy: policy?.Policy,
    };
  }

  async describeRole(name: string): Promise<ObservedRole | undefined> {
    return supported("iam:GetRole", async () => {
      let role;
      try {
        role = (await this.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
      } catch (error) {
        if (error instanceof NoSuchEntityException) return undefined;
        throw error;
      }
      const attachedPolicyArns: string[] = [];
      for await (const page of paginateListAttachedRolePolicies({ client: this.iam }, { RoleName: name }))
        attachedPolicyArns.push(...(page.AttachedPolicies ?? []).map((policy) => policy.PolicyArn ?? ""));
      const inlineNames: string[] = [];
      for await (const page of paginateListRolePolicies({ client: this.iam }, { RoleName: name }))
        inlineNames.push(...(page.PolicyNames ?? []));
      const inlinePolicies = await Promise.all(
        inlineNames.map(async (policyName) => {
          const policy = await this.iam.send(
            new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }),
          );
          return { name: policyName, document: decodeURIComponent(policy.PolicyDocument ?? "{}") };
        }),
      );
      return {
        name,
        arn: role?.Arn ?? "",
        trustPolicy: decodeURIComponent(role?.AssumeRolePolicyDocument ?? "{}"),
        attachedPolicyArns,
        inlinePolicies,
        permissionsBoundaryArn: role?.PermissionsBoundary?.PermissionsBoundaryArn,
        tags: Object.fromEntries((role?.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
      };
    });
  }

  async describeLogGroup(name: string): Promise<ObservedLogGroup | undefined> {
    const page = await this.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
    const group = (page.logGroups ?? []).find((candidate) => candidate.logGroupName === name);
    return group && { name, retentionInDays: group.retentionInDays, kmsKeyId: group.kmsKeyId };
  }

  async describeSubnets(ids: readonly string[]): Promise<ObservedSubnet[]> {
    if (ids.length === 0) return [];
    const page = await this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...ids] }));
    return (page.Subnets ?? []).map((subnet) => ({
      id: subnet.SubnetId ?? "",
      vpcId: subnet.VpcId ?? "",
      cidrBlock: subnet.CidrBlock ?? "",
      availabilityZone: subnet.AvailabilityZone ?? "",
      mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch === true,
      tags: Object.fromEntries((subnet.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
    }));
  }

  async describeIngressRules(groupId: string): Promise<ObservedIngressRule[]> {
    const page = await supported("ec2:DescribeSecurityGroupRules", () =>
      this.ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
      ),
    );
    return (page.SecurityGroupRules ?? [])
      .filter((rule) => !rule.IsEgress)
      .map((rule) => ({
        protocol: rule.IpProtocol ?? "",
        fromPort: rule.FromPort ?? -1,
        toPort: rule.ToPort ?? -1,
        ...(rule.CidrIpv4 ? { cidrIpv4: rule.CidrIpv4 } : {}),
      }));
  }

  async describeFlowLogs(vpcId: string): Promise<ObservedFlowLog[]> {
    const page = await supported("ec2:DescribeFlowLogs", () =>
      this.ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: "resource-id", Values: [vpcId] }] })),
    );
    return (page.FlowLogs ?? []).map((log) => ({
      id: log.FlowLogId ?? "",
      trafficType: log.TrafficType ?? "",
      destinationType: log.LogDestinationType ?? "",
      status: log.FlowLogStatus ?? "",
    }));
  }

  async findLeftovers(query: LeftoverQuery): Promise<Leftovers> {
    const [loadBalancers, classicLoadBalancers, volumes, instances, interfaces] = await Promise.all([
      this.clusterLoadBalancers(query.clusterName, query.vpcId),
      this.clusterClassicLoadBalancers(query.clusterName, query.vpcId),
      this.clusterVolumes(query.clusterName),
      this.clusterInstances(query.clusterName, query.retainedNodePools),
      this.clusterDetachedInterfaces(query),
    ]);
    return { loadBalancers: [...loadBalancers, ...classicLoadBalancers], volumes, instances, interfaces };
  }

  /**
   * ENIs nothing uses any more (status "available") that belong to the cluster (interfaceOwner): they block
   * deleting its subnets and security group. The VPC's other detached ENIs (another cluster's, the foundation's
   * runners') are none of this cluster's business.
   */
  private async clusterDetachedInterfaces(scope: ClusterNetworkScope): Promise<LeftoverInterface[]> {
    if (!scope.vpcId) return [];
    const found: LeftoverInterface[] = [];
    const Filters = [
      { Name: "vpc-id", Values: [scope.vpcId] },
      { Name: "status", Values: ["available"] },
    ];
    for await (const page of paginateDescribeNetworkInterfaces({ client: this.ec2 }, { Filters })) {
      for (const eni of page.NetworkInterfaces ?? []) {
        const owner = interfaceOwner(
          {
            subnetId: eni.SubnetId,
            privateIps: (eni.PrivateIpAddresses ?? []).map((address) => address.PrivateIpAddress ?? ""),
            groupIds: (eni.Groups ?? []).map((group) => group.GroupId ?? ""),
            tags: eni.TagSet ?? [],
          },
          scope,
        );
        if (owner === undefined) continue;
        found.push({
          id: eni.NetworkInterfaceId ?? "",
          status: String(eni.Status ?? ""),
          description: eni.Description ?? "",
          subnetId: eni.SubnetId,
          owner,
        });
      }
    }
    return found;
  }

  /** ELBv2 load balancers in the VPC tagged by the AWS Load Balancer Controller or Auto Mode for this cluster. */
  private async clusterLoadBalancers(clusterName: string, vpcId: string): Promise<LeftoverLoadBalancer[]> {
    const inVpc: LoadBalancer[] = [];
    for await (const page of paginateDescribeLoadBalancers({ client: this.elb }, {})) {
      inVpc.push(...(page.LoadBalancers ?? []).filter((lb) => lb.VpcId === vpcId));
    }
    const owned = await clusterTaggedIds(
      inVpc.map((lb) => lb.LoadBalancerArn ?? ""),
      clusterName,
      async (ResourceArns) =>
        ((await this.elb.send(new DescribeTagsCommand({ ResourceArns }))).TagDescriptions ?? []).map(
          (description) => ({ id: description.ResourceArn, tags: description.Tags }),
        ),
    );
    return inVpc
      .filter((lb) => owned.has(lb.LoadBalancerArn ?? ""))
      .map((lb) => ({
        arn: lb.LoadBalancerArn ?? "",
        name: lb.LoadBalancerName ?? "",
        type: String(lb.Type ?? ""),
      }));
  }

  /**
   * Classic ELBs in the VPC tagged for this cluster: a `Service` of type LoadBalancer without a loadBalancerClass
   * can be served by the in-tree cloud provider, which creates a Classic ELB tagged `kubernetes.io/cluster/<name>`.
   */
  private async clusterClassicLoadBalancers(
    clusterName: string,
    vpcId: string,
  ): Promise<LeftoverLoadBalancer[]> {
    const inVpc: LoadBalancerDescription[] = [];
    for await (const page of paginateDescribeClassicLoadBalancers({ client: this.classicElb }, {})) {
      inVpc.push(...(page.LoadBalancerDescriptions ?? []).filter((lb) => lb.VPCId === vpcId));
    }
    const owned = await clusterTaggedIds(
      inVpc.map((lb) => lb.LoadBalancerName ?? ""),
      clusterName,
      async (LoadBalancerNames) =>
        (
          (await this.classicElb.send(new DescribeClassicTagsCommand({ LoadBalancerNames })))
            .TagDescriptions ?? []
        ).map((description) => ({ id: description.LoadBalancerName, tags: description.Tags })),
    );
    return inVpc
      .filter((lb) => owned.has(lb.LoadBalancerName ?? ""))
      .map((lb) => ({ name: lb.LoadBalancerName ?? "", type: "classic" }));
  }

  /**
   * EBS volumes provisioned for the cluster's PersistentVolumes (EBS CSI driver, Auto Mode or the in-tree
   * provisioner). Each query selects one of the cluster tags; a volume counts only with a PersistentVolume marker
   * (see isPersistentVolume), so the root volumes of live nodes, which carry the cluster tags too, never do.
   */
  private async clusterVolumes(clusterName: string): Promise<LeftoverVolume[]> {
    // One filter per query and the marker checked here: EC2 ANDs different filter names, but a repeated name is
    // not documented as AND, and moto matches a multi-value tag-key filter on volumes as a subset, not as OR.
    const queries: Filter[][] = [
      [{ Name: "tag:eks:cluster-name", Values: [clusterName] }],
      [{ Name: "tag:eks:eks-cluster-name", Values: [clusterName] }],
      [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${clusterName}`] }],
    ];
    const found = new Map<string, LeftoverVolume>();
    for (const Filters of queries) {
      for await (const page of paginateDescribeVolumes({ client: this.ec2 }, { Filters })) {
        for (const volume of page.Volumes ?? []) {
          if (!isPersistentVolume(volume.Tags ?? [])) continue;
          found.set(volume.VolumeId ?? "", {
            id: volume.VolumeId ?? "",
            state: String(volume.State ?? ""),
            sizeGiB: volume.Size ?? 0,
          });
        }
      }
    }
    return [...found.values()].filter((volume) => volume.state !== "deleted");
  }

  /**
   * Instances launched by Auto Mode or Karpenter for this cluster, outside the retained pools. Auto Mode tags its
   * instances `eks:eks-cluster-name` and `eks:kubernetes-node-pool-name`; Karpenter tags `karpenter.sh/nodepool` and
   * `kubernetes.io/cluster/<name>` (and, from v1, `eks:eks-cluster-name`).
   */
  private async clusterInstances(
    clusterName: string,
    retainedNodePools: readonly string[],
  ): Promise<LeftoverInstance[]> {
    const state: Filter = { Name: "instance-state-name", Values: liveInstanceStates };
    // One tag-key filter per query: a repeated filter name is not documented as AND (moto keeps only the last),
    // so the node pool tag is checked here rather than in the query.
    const queries: Filter[][] = [
      [{ Name: "tag:eks:eks-cluster-name", Values: [clusterName] }, state],
      [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${clusterName}`] }, state],
    ];
    const found = new Map<string, LeftoverInstance>();
    for (const Filters of queries) {
      for await (const page of paginateDescribeInstances({ client: this.ec2 }, { Filters })) {
        for (const instance of (page.Reservations ?? []).flatMap(
          (reservation) => reservation.Instances ?? [],
        )) {
          const nodePool = nodePoolOf(instance.Tags ?? []);
          // Managed node group instances (no node pool tag) belong to Pulumi and go with their node group.
          if (nodePool === undefined || retainedNodePools.includes(nodePool)) continue;
          found.set(instance.InstanceId ?? "", {
            id: instance.InstanceId ?? "",
            state: String(instance.State?.Name ?? ""),
            nodePool,
          });
        }
      }
    }
    return [...found.values()];
  }
}

interface Tag {
  readonly Key?: string;
  readonly Value?: string;
}

/**
 * The ids (ELBv2 ARNs, Classic names) among `ids` whose tags mark them as the cluster's (isClusterTagged).
 * `describeTags` reads one batch: the load balancer DescribeTags APIs take at most 20 per call.
 */
async function clusterTaggedIds(
  ids: readonly string[],
  clusterName: string,
  describeTags: (batch: string[]) => Promise<{ id?: string; tags?: readonly Tag[] }[]>,
): Promise<Set<string>> {
  const owned = new Set<string>();
  for (let index = 0; index < ids.length; index += 20) {
    for (const { id, tags } of await describeTags(ids.slice(index, index + 20))) {
      const map = new Map((tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
      if (isClusterTagged(map, clusterName)) owned.add(id ?? "");
    }
  }
  return owned;
}

/** Tag keys only a PersistentVolume's volume carries: the EBS CSI driver (and Auto Mode) and the in-tree provisioner. */
export const persistentVolumeTagKeys = ["CSIVolumeName", "kubernetes.io/created-for/pvc/name"] as const;

export function isPersistentVolume(tags: readonly Tag[]): boolean {
  return tags.some((tag) => (persistentVolumeTagKeys as readonly (string | undefined)[]).includes(tag.Key));
}

/** The node pool that launched an instance: Karpenter's tag, else Auto Mode's; undefined for neither. */
export function nodePoolOf(tags: readonly Tag[]): string | undefined {
  const value = (key: string) => tags.find((tag) => tag.Key === key)?.Value;
  return value("karpenter.sh/nodepool") ?? value("eks:kubernetes-node-pool-name");
}

/** Tags the AWS Load Balancer Controller, Auto Mode and the in-tree cloud provider put on what they create. */
export function isClusterTagged(tags: ReadonlyMap<string, string>, clusterName: string): boolean {
  return (
    tags.get("elbv2.k8s.aws/cluster") === clusterName ||
    tags.get("eks:eks-cluster-name") === clusterName ||
    tags.has(`kubernetes.io/cluster/${clusterName}`)
  );
}

/** What an ENI says about itself, as far as ownership goes. */
export interface InterfaceFacts {
  readonly subnetId?: string;
  readonly privateIps: readonly string[];
  readonly groupIds: readonly string[];
  readonly tags: readonly Tag[];
}

/**
 * Why an ENI is the cluster's, or undefined when it is not: it sits in one of the cluster's subnets or in its block
 * of the VPC (nodes, pods, the control plane's ENIs, internal load balancers), holds the cluster security group,
 * or carries one of the cluster tags (isClusterTagged, eks:cluster-name). An ENI elsewhere in a shared VPC belongs
 * to another cluster or to the foundation.
 */
export function interfaceOwner(eni: InterfaceFacts, scope: ClusterNetworkScope): string | undefined {
  if (eni.subnetId && scope.subnetIds?.includes(eni.subnetId)) return `in cluster subnet ${eni.subnetId}`;
  const block = scope.cidrBlock;
  const inBlock = block ? eni.privateIps.find((ip) => ip && cidrContains(block, `${ip}/32`)) : undefined;
  if (inBlock) return `address ${inBlock} in the cluster's block ${block}`;
  if (scope.clusterSecurityGroupId && eni.groupIds.includes(scope.clusterSecurityGroupId))
    return `holds the cluster security group ${scope.clusterSecurityGroupId}`;
  const tags = new Map(eni.tags.map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
  if (isClusterTagged(tags, scope.clusterName) || tags.get("eks:cluster-name") === scope.clusterName)
    return `tagged for cluster ${scope.clusterName}`;
  return undefined;
}

export function countLeftovers(leftovers: Leftovers): number {
  return (
    leftovers.loadBalancers.length +
    leftovers.volumes.length +
    leftovers.instances.length +
    leftovers.interfaces.length
  );
}

/** One line per leftover kind, naming each resource, for error messages. */
export function describeLeftovers(leftovers: Leftovers): string[] {
  const lines: string[] = [];
  if (leftovers.loadBalancers.length > 0)
    lines.push(
      `load balancers: ${leftovers.loadBalancers
        .map((lb) => `${lb.name} (${[lb.type, lb.arn].filter(Boolean).join(", ")})`)
        .join(", ")}`,
    );
  if (leftovers.volumes.length > 0)
    lines.push(
      `EBS volumes: ${leftovers.volumes.map((v) => `${v.id} (${v.state}, ${v.sizeGiB} GiB)`).join(", ")}`,
    );
  if (leftovers.instances.length > 0)
    lines.push(
      `nodes: ${leftovers.instances.map((i) => `${i.id} (node pool ${i.nodePool}, ${i.state})`).join(", ")}`,
    );
  if (leftovers.interfaces.length > 0)
    lines.push(
      `detached network interfaces: ${leftovers.interfaces
        .map((eni) => `${eni.id} (${[eni.description, eni.owner].filter(Boolean).join("; ")})`)
        .join(
          ", ",
        )} — once nothing will reattach them: aws ec2 delete-network-interface --network-interface-id <id>`,
    );
  return lines;
}
