import { strict as assert } from "node:assert";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateFlowLogsCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import {
  CreateLoadBalancerCommand as CreateClassicLoadBalancerCommand,
  ElasticLoadBalancingClient,
} from "@aws-sdk/client-elastic-load-balancing";
import {
  CreateLoadBalancerCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateKeyCommand, EnableKeyRotationCommand, KMSClient } from "@aws-sdk/client-kms";
import { resolvePlatformConfig } from "../../infra/config";
import { platformRoleNames, roleTrustServices } from "../../infra/config/roles";
import { roleBoundaryTagKey } from "../../infra/foundation/contract";
import { platformRoles } from "../../ops/verify/roles";
import { serviceTrustPolicy } from "../../infra/identity/trust-policy";
import {
  AccessEntryReader,
  adminGrants,
  checkRole,
  checkStack,
  describeLeftovers,
  exitCodeFor,
  foreignKeyPrincipals,
  formatFindings,
  ObservedAccessEntry,
  readStackConfig,
  unexpectedTrustedPrincipals,
  SdkInventory,
  verifyStack,
} from "../../ops/verify";
import { Moto, startMoto, useFakeCredentials } from "./moto";
import { requireTool } from "../support/tools";
import { ofType, synthesizedStack } from "../support/stacks";

const region = "us-east-1";
/** The configs below pin 1.35: judge its support window on a fixed day, so the tests do not expire with it. */
const today = "2026-11-28";
const deployRole = "arn:aws:iam::123456789012:role/github-deploy";
const viewer = "arn:aws:iam::123456789012:role/auditors";

function configFor(clusterName: string, extra: Record<string, unknown> = {}) {
  return resolvePlatformConfig(
    {
      environment: "dev",
      expiresOn: "2026-12-31",
      cluster: { name: clusterName, kubernetesVersion: "1.35" },
      access: { deployRoleArn: deployRole, viewers: [viewer] },
      ...extra,
    },
    { project: "eks-gitops-platform", stack: "dev", region, today },
  );
}

/** EKS access entries as a fake: moto answers the access-entry API with a 404 page. */
class FakeAccessEntries implements AccessEntryReader {
  constructor(private readonly entries: ObservedAccessEntry[]) {}
  async listAccessEntries(): Promise<ObservedAccessEntry[]> {
    return this.entries;
  }
}

const declaredEntries: ObservedAccessEntry[] = [
  { principalArn: deployRole, type: "STANDARD", policies: ["AmazonEKSClusterAdminPolicy"] },
  { principalArn: viewer, type: "STANDARD", policies: ["AmazonEKSViewPolicy"] },
  {
    principalArn: "arn:aws:iam::123456789012:role/gitops-dev-node",
    type: "EC2",
    policies: ["AmazonEKSAutoNodePolicy"],
  },
];

interface Seed {
  readonly name: string;
  readonly subnetPrefix?: number;
  readonly publicCidrs?: string[];
  readonly logTypes?: string[];
  readonly rotation?: boolean;
  readonly retentionDays?: number;
  /** A key policy instead of KMS's default (the account root only). */
  readonly keyPolicy?: string;
  /** Leave out the subnet tags and the VPC flow log that the network layer creates. */
  readonly bareNetwork?: boolean;
  /** Create the roles without the foundation's role boundary. */
  readonly unbounded?: boolean;
}

/** A scoped inline policy like the program's Pod Identity policies: not an administrator grant. */
const scopedPolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" }],
});

/** Creates in moto what `pulumi up` would have: VPC, subnets in 3 AZs, key, log group, cluster, IAM roles. */
async function seedStack(endpoint: string, seed: Seed) {
  const client = { region, endpoint };
  const ec2 = new EC2Client(client);
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc;
  const prefix = seed.subnetPrefix ?? 19;
  const step = 2 ** (32 - prefix) / 256;
  const subnetIds: string[] = [];
  for (const [index, zone] of ["a", "b", "c"].entries()) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpc?.VpcId,
        CidrBlock: `10.0.${index * step}.0/${prefix}`,
        AvailabilityZone: `${region}${zone}`,
        ...(seed.bareNetwork
          ? {}
          : {
              TagSpecifications: [
                {
                  ResourceType: "subnet",
                  Tags: [
                    { Key: "kubernetes.io/role/internal-elb", Value: "1" },
                    { Key: "karpenter.sh/discovery", Value: seed.name },
                  ],
                },
              ],
            }),
      }),
    );
    subnetIds.push(subnet.Subnet?.SubnetId ?? "");
  }
  const kms = new KMSClient(client);
  const key = (await kms.send(new CreateKeyCommand(seed.keyPolicy ? { Policy: seed.keyPolicy } : {})))
    .KeyMetadata;
  if (seed.rotation ?? true) await kms.send(new EnableKeyRotationCommand({ KeyId: key?.KeyId }));
  if (!seed.bareNetwork)
    await ec2.send(
      new CreateFlowLogsCommand({
        ResourceIds: [vpc?.VpcId ?? ""],
        ResourceType: "VPC",
        TrafficType: "ALL",
        LogDestinationType: "cloud-watch-logs",
        LogGroupName: `/aws/vpc/${seed.name}/flow-logs`,
        DeliverLogsPermissionArn: "arn:aws:iam::123456789012:role/flow-logs",
      }),
    );
  const logs = new CloudWatchLogsClient(client);
  const logGroupName = `/aws/eks/${seed.name}/cluster`;
  await logs.send(new CreateLogGroupCommand({ logGroupName, kmsKeyId: key?.Arn }));
  await logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: seed.retentionDays ?? 7 }));
  const iam = new IAMClient(client);
  for (const role of platformRoles(configFor(seed.name))) {
    // As infra/identity/role-boundary.ts creates every role of a cluster stack: bounded, and tagged with it.
    const boundary = "arn:aws:iam::123456789012:policy/platform-eu-west-1-dev-role-boundary";
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        AssumeRolePolicyDocument: serviceTrustPolicy(role.trustedService, false),
        PermissionsBoundary: seed.unbounded ? undefined : boundary,
        Tags: seed.unbounded ? undefined : [{ Key: roleBoundaryTagKey, Value: boundary }],
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({ RoleName: role.name, PolicyName: "scoped", PolicyDocument: scopedPolicy }),
    );
  }
  const publicCidrs = seed.publicCidrs ?? [];
  await new EKSClient(client).send(
    new CreateClusterCommand({
      name: seed.name,
      version: "1.35",
      roleArn: "arn:aws:iam::123456789012:role/cluster",
      resourcesVpcConfig: {
        subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicCidrs.length > 0,
        ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
      },
      logging: {
        clusterLogging: [
          {
            types: (seed.logTypes ?? [
              "api",
              "audit",
              "authenticator",
              "controllerManager",
              "scheduler",
            ]) as never,
            enabled: true,
          },
        ],
      },
      encryptionConfig: [{ resources: ["secrets"], provider: { keyArn: key?.Arn } }],
    }),
  );
  return { vpcId: vpc?.VpcId ?? "", subnetIds };
}

/** Launches one instance with the given tags, as a node would be. */
function node(ec2: EC2Client, subnetId: string) {
  return (...tags: [string, string][]) =>
    ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        TagSpecifications: [{ ResourceType: "instance", Tags: tags.map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
}

describe("ops/verify against moto_server", function () {
  this.timeout(60_000);
  let moto: Moto;
  let restoreEnv: () => void;
  let inventory: SdkInventory;

  before(async function () {
    requireTool(this, "moto_server");
    restoreEnv = useFakeCredentials();
    // AWS managed policies (AdministratorAccess) exist in moto's IAM only when it is asked to load them.
    const loadManaged = process.env.MOTO_IAM_LOAD_MANAGED_POLICIES;
    process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = "true";
    try {
      moto = await startMoto();
    } finally {
      if (loadManaged === undefined) delete process.env.MOTO_IAM_LOAD_MANAGED_POLICIES;
      else process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = loadManaged;
    }
    inventory = new SdkInventory({ region, endpoint: moto.endpoint });
  });
  after(async () => {
    await moto?.stop();
    restoreEnv?.();
  });

  it("finds no drift on a stack that matches its config", async () => {
    await seedStack(moto.endpoint, { name: "gitops-ok" });
    const { findings, exitCode } = await verifyStack(
      configFor("gitops-ok"),
      inventory,
      new FakeAccessEntries(declaredEntries),
    );
    const drifts = findings.filter((finding) => !finding.ok);
    assert.deepEqual(drifts, [], formatFindings("dev", findings));
    assert.equal(exitCode, 0);
    for (const check of [
      "control-plane logging",
      "secrets envelope encryption",
      "cluster subnet size",
      "cluster subnets span AZs",
      "cluster subnet tags",
      "VPC flow logs",
      `IAM role ${platformRoleNames.cluster("gitops-ok")} trust`,
      `IAM role ${platformRoleNames.node("gitops-ok")} permissions`,
    ]) {
      assert.ok(
        findings.some((finding) => finding.check === check && finding.ok),
        `${check} was checked`,
      );
    }
    assert.ok(findings.some((finding) => /KMS key .* rotation/.test(finding.check) && finding.ok));
  });

  it("reports every drift from the config and exits non-zero on a mandatory one", async () => {
    await seedStack(moto.endpoint, {
      name: "gitops-drift",
      subnetPrefix: 24,
      publicCidrs: ["0.0.0.0/0"],
      logTypes: ["api"],
      rotation: false,
      retentionDays: 30,
    });
    const intruder = "arn:aws:iam::123456789012:role/someone-else";
    const entries = new FakeAccessEntries([
      { principalArn: deployRole, type: "STANDARD", policies: ["AmazonEKSClusterAdminPolicy"] },
      { principalArn: intruder, type: "STANDARD", policies: ["AmazonEKSClusterAdminPolicy"] },
    ]);
    const { findings, exitCode } = await verifyStack(configFor("gitops-drift"), inventory, entries);
    const drifted = new Map(
      findings.filter((finding) => !finding.ok).map((finding) => [finding.check, finding]),
    );
    assert.equal(exitCode, 1);
    assert.match(drifted.get("public endpoint access")?.actual ?? "", /public, open to 0\.0\.0\.0\/0/);
    assert.match(
      drifted.get("control-plane logging")?.actual ?? "",
      /missing audit, authenticator, controllerManager, scheduler/,
    );
    assert.ok([...drifted.keys()].some((check) => /KMS key .* rotation/.test(check)));
    assert.match(drifted.get("cluster subnet size")?.actual ?? "", /too small: .*\/24/);
    assert.equal(drifted.get("log group /aws/eks/gitops-drift/cluster retention")?.actual, "30 days");
    assert.equal(drifted.get(`access entry ${viewer}`)?.actual, "no access entry");
    assert.match(drifted.get("undeclared access entries")?.actual ?? "", /someone-else/);
    assert.ok(
      [...drifted.values()].every((finding) => finding.fix),
      "every drift says how to fix it",
    );
  });

  it("reports untagged cluster subnets and a VPC without flow logs as mandatory drift", async () => {
    await seedStack(moto.endpoint, { name: "gitops-bare", bareNetwork: true });
    const { findings, exitCode } = await verifyStack(
      configFor("gitops-bare"),
      inventory,
      new FakeAccessEntries(declaredEntries),
    );
    const drifted = findings.filter((finding) => !finding.ok).map((finding) => finding.check);
    assert.deepEqual(drifted.sort(), ["VPC flow logs", "cluster subnet tags"]);
    assert.equal(exitCode, 1);
  });

  it("reports a key policy that grants use outside the account as mandatory drift", async () => {
    const policy = (principal: unknown) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "Root",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::123456789012:root" },
            Action: "kms:*",
            Resource: "*",
          },
          { Sid: "Other", Effect: "Allow", Principal: principal, Action: "kms:Decrypt", Resource: "*" },
        ],
      });
    await seedStack(moto.endpoint, {
      name: "gitops-open-key",
      keyPolicy: policy({ AWS: "arn:aws:iam::999999999999:root" }),
    });
    const { findings } = await verifyStack(
      configFor("gitops-open-key"),
      inventory,
      new FakeAccessEntries(declaredEntries),
    );
    const keyPolicy = findings.find((finding) => /^KMS key .* policy$/.test(finding.check));
    assert.ok(keyPolicy, formatFindings("dev", findings));
    assert.equal(keyPolicy.ok, false);
    assert.match(keyPolicy.actual, /999999999999/);
    assert.equal(
      foreignKeyPrincipals(
        policy({ Service: "logs.us-east-1.amazonaws.com" }),
        "arn:aws:kms:us-east-1:123456789012:key/k",
      ).length,
      0,
    );
    assert.deepEqual(foreignKeyPrincipals(policy("*"), "arn:aws:kms:us-east-1:123456789012:key/k"), ["*"]);
  });

  it("reports a platform role trusted by another account or holding administrator rights as mandatory drift", async () => {
    const name = "gitops-iam";
    await seedStack(moto.endpoint, { name });
    const iam = new IAMClient({ region, endpoint: moto.endpoint });
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: platformRoleNames.cluster(name),
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            ...JSON.parse(serviceTrustPolicy("eks.amazonaws.com", true)).Statement,
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::999999999999:root" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      }),
    );
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: platformRoleNames.node(name),
        PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: platformRoleNames.karpenterNode(name),
        PolicyName: "everything",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
        }),
      }),
    );
    const { findings, exitCode } = await verifyStack(
      configFor(name),
      inventory,
      new FakeAccessEntries(declaredEntries),
    );
    const drifted = findings.filter((finding) => !finding.ok);
    assert.deepEqual(
      drifted.map((finding) => [finding.check, finding.severity, finding.actual]),
      [
        [`IAM role ${name}-cluster trust`, "mandatory", "also trusts AWS:arn:aws:iam::999999999999:root"],
        [`IAM role ${name}-node permissions`, "mandatory", "arn:aws:iam::aws:policy/AdministratorAccess"],
        [`IAM role ${name}-karpenter-node permissions`, "mandatory", "inline everything (* on *)"],
      ],
      formatFindings("dev", findings),
    );
    assert.equal(exitCode, 1);
  });

  it("reports a platform role without its environment's role boundary as mandatory drift", async () => {
    const name = "gitops-unbounded";
    await seedStack(moto.endpoint, { name, unbounded: true });
    const { findings } = await verifyStack(
      configFor(name),
      inventory,
      new FakeAccessEntries(declaredEntries),
    );
    const boundary = findings.find(
      (finding) => finding.check === `IAM role ${name}-cluster permissions boundary`,
    );
    assert.equal(boundary?.ok, false);
    assert.equal(boundary?.actual, "none: the role is not bounded");
    // A prod stack's role bounded by the dev boundary is drift too.
    const bounded = "gitops-prod-bounded";
    await seedStack(moto.endpoint, { name: bounded });
    const prod = resolvePlatformConfig(
      {
        environment: "prod",
        cluster: { name: bounded, kubernetesVersion: "1.35" },
        access: { deployRoleArn: deployRole, viewers: [viewer] },
      },
      { project: "eks-gitops-platform", stack: "prod", region, today },
    );
    const wrong = (await verifyStack(prod, inventory, new FakeAccessEntries(declaredEntries))).findings.find(
      (finding) => finding.check === `IAM role ${bounded}-cluster permissions boundary`,
    );
    assert.equal(wrong?.ok, false);
    assert.match(wrong?.expected ?? "", /-prod-role-boundary/);
  });

  it("reports a missing cluster as a mandatory drift", async () => {
    const { findings, exitCode } = await verifyStack(
      configFor("gitops-absent"),
      inventory,
      new FakeAccessEntries([]),
    );
    assert.equal(exitCode, 1);
    assert.deepEqual(
      findings.map((finding) => [finding.check, finding.actual]),
      [["cluster exists", "no such cluster"]],
    );
  });

  it("finds what the cluster created in AWS: tagged load balancers, volumes, pool nodes, detached ENIs", async () => {
    const { vpcId, subnetIds } = await seedStack(moto.endpoint, { name: "gitops-left" });
    const client = { region, endpoint: moto.endpoint };
    const elb = new ElasticLoadBalancingV2Client(client);
    const ec2 = new EC2Client(client);
    await elb.send(
      new CreateLoadBalancerCommand({
        Name: "k8s-web",
        Subnets: subnetIds,
        Tags: [{ Key: "elbv2.k8s.aws/cluster", Value: "gitops-left" }],
      }),
    );
    await elb.send(
      new CreateLoadBalancerCommand({
        Name: "k8s-nlb",
        Type: "network",
        Subnets: subnetIds,
        Tags: [{ Key: "kubernetes.io/cluster/gitops-left", Value: "owned" }],
      }),
    );
    await elb.send(new CreateLoadBalancerCommand({ Name: "not-ours", Subnets: subnetIds }));
    // Persistent volumes count under any cluster tag; node root volumes (same tags, no PV marker) do not.
    const volume = (Size: number, Tags: { Key: string; Value: string }[]) =>
      ec2.send(
        new CreateVolumeCommand({
          AvailabilityZone: `${region}a`,
          Size,
          TagSpecifications: [{ ResourceType: "volume", Tags }],
        }),
      );
    await volume(20, [
      { Key: "eks:cluster-name", Value: "gitops-left" },
      { Key: "CSIVolumeName", Value: "pvc-20" },
    ]);
    await volume(21, [{ Key: "eks:cluster-name", Value: "gitops-left" }]);
    await volume(30, [
      { Key: "kubernetes.io/cluster/gitops-left", Value: "owned" },
      { Key: "kubernetes.io/created-for/pvc/name", Value: "data" },
    ]);
    await volume(31, [{ Key: "kubernetes.io/cluster/gitops-left", Value: "owned" }]);
    await volume(50, [
      { Key: "eks:eks-cluster-name", Value: "gitops-left" },
      { Key: "CSIVolumeName", Value: "pvc-1234" },
    ]);
    await volume(80, [{ Key: "eks:eks-cluster-name", Value: "gitops-left" }]);
    await volume(5, [
      { Key: "team", Value: "other" },
      { Key: "CSIVolumeName", Value: "pvc-other" },
    ]);
    const runNode = node(ec2, subnetIds[0]);
    await runNode(["eks:eks-cluster-name", "gitops-left"], ["karpenter.sh/nodepool", "workloads"]);
    await runNode(["eks:eks-cluster-name", "gitops-left"], ["karpenter.sh/nodepool", "general-purpose"]);
    await ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnetIds[1], Description: "leaked by a controller" }),
    );

    const leftovers = await inventory.findLeftovers({
      clusterName: "gitops-left",
      vpcId,
      retainedNodePools: ["system", "general-purpose"],
    });
    assert.deepEqual(leftovers.loadBalancers.map((lb) => lb.name).sort(), ["k8s-nlb", "k8s-web"]);
    assert.deepEqual(
      leftovers.volumes.map((volume) => volume.sizeGiB).sort((a, b) => a - b),
      [20, 30, 50],
    );
    assert.deepEqual(
      leftovers.instances.map((instance) => instance.nodePool),
      ["workloads"],
    );

    const { findings, exitCode } = await verifyStack(
      configFor("gitops-left"),
      inventory,
      new FakeAccessEntries(declaredEntries),
    );
    assert.equal(exitCode, 0, "leftovers are warnings, not broken promises");
    const warning = (check: string) => findings.find((finding) => finding.check === check);
    assert.equal(warning("unattached EBS volumes")?.ok, false);
    assert.match(warning("detached network interfaces")?.actual ?? "", /leaked by a controller/);
    assert.match(
      warning("load balancers created in-cluster")?.actual ?? "",
      /k8s-nlb \(network\), k8s-web \(application\)/,
    );
  });

  it("counts EKS Auto Mode nodes by their eks:kubernetes-node-pool-name, retaining the built-in pools", async () => {
    const { vpcId, subnetIds } = await seedStack(moto.endpoint, { name: "gitops-auto" });
    const runNode = node(new EC2Client({ region, endpoint: moto.endpoint }), subnetIds[0]);
    const autoNode = (pool: string) =>
      runNode(
        ["eks:eks-cluster-name", "gitops-auto"],
        ["eks:kubernetes-node-pool-name", pool],
        ["eks:kubernetes-node-class-name", "default"],
      );
    await autoNode("system");
    await autoNode("general-purpose");
    await autoNode("gpu");
    // A managed node group's node: cluster tags, no node pool tag.
    await runNode(["eks:eks-cluster-name", "gitops-auto"], ["kubernetes.io/cluster/gitops-auto", "owned"]);

    const leftovers = await inventory.findLeftovers({
      clusterName: "gitops-auto",
      vpcId,
      retainedNodePools: ["system", "general-purpose"],
    });
    assert.deepEqual(
      leftovers.instances.map((instance) => instance.nodePool),
      ["gpu"],
    );
  });

  it("finds Karpenter nodes by kubernetes.io/cluster/<name>, never another cluster's", async () => {
    const { vpcId, subnetIds } = await seedStack(moto.endpoint, { name: "gitops-karp" });
    const runNode = node(new EC2Client({ region, endpoint: moto.endpoint }), subnetIds[0]);
    // Karpenter before v1 tags only kubernetes.io/cluster/<name>, not eks:eks-cluster-name.
    await runNode(["kubernetes.io/cluster/gitops-karp", "owned"], ["karpenter.sh/nodepool", "batch"]);
    await runNode(["kubernetes.io/cluster/someone-else", "owned"], ["karpenter.sh/nodepool", "stranger"]);

    const leftovers = await inventory.findLeftovers({
      clusterName: "gitops-karp",
      vpcId,
      retainedNodePools: [],
    });
    assert.deepEqual(
      leftovers.instances.map((instance) => instance.nodePool),
      ["batch"],
    );
  });

  it("finds Classic ELBs the in-tree cloud provider created for the cluster", async () => {
    const { vpcId, subnetIds } = await seedStack(moto.endpoint, { name: "gitops-classic" });
    const other = await seedStack(moto.endpoint, { name: "gitops-classic-other" });
    const elb = new ElasticLoadBalancingClient({ region, endpoint: moto.endpoint });
    const listeners = [{ Protocol: "TCP", LoadBalancerPort: 80, InstancePort: 30080 }];
    const classic = (name: string, subnets: string[], tags: [string, string][]) =>
      elb.send(
        new CreateClassicLoadBalancerCommand({
          LoadBalancerName: name,
          Listeners: listeners,
          Subnets: [subnets[0]],
          Tags: tags.map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    // More than one DescribeTags batch (at most 20 names per call).
    for (let index = 0; index < 22; index += 1)
      await classic(`a${index}untagged`, subnetIds, [["team", "other"]]);
    await classic("a1b2c3owned", subnetIds, [
      ["kubernetes.io/cluster/gitops-classic", "owned"],
      ["kubernetes.io/service-name", "web/frontend"],
    ]);
    // Tagged for the cluster, but in another VPC.
    await classic("elsewhere", other.subnetIds, [["kubernetes.io/cluster/gitops-classic", "owned"]]);

    const leftovers = await inventory.findLeftovers({
      clusterName: "gitops-classic",
      vpcId,
      retainedNodePools: [],
    });
    assert.deepEqual(leftovers.loadBalancers, [{ name: "a1b2c3owned", type: "classic" }]);
    assert.deepEqual(describeLeftovers(leftovers), ["load balancers: a1b2c3owned (classic)"]);
  });
});

describe("ops/verify checks on what moto does not report", () => {
  const observed = {
    cluster: {
      name: "gitops-prod",
      status: "ACTIVE",
      version: "1.36",
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
      publicAccessCidrs: [],
      enabledLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
      encryption: [{ keyArn: "arn:aws:kms:us-east-1:123456789012:key/k", resources: ["secrets"] }],
      authenticationMode: "API_AND_CONFIG_MAP",
      supportType: "EXTENDED",
      deletionProtection: false,
      vpcId: "vpc-1",
      subnetIds: [],
    },
    accessEntries: declaredEntries,
    keys: [],
    controlPlaneLogGroup: { name: "/aws/eks/gitops-prod/cluster", retentionInDays: 365, kmsKeyId: "k" },
    subnets: ["a", "b", "c"].map((zone, index) => ({
      id: `subnet-${zone}`,
      vpcId: "vpc-1",
      cidrBlock: `10.0.${index * 32}.0/19`,
      availabilityZone: `${region}${zone}`,
      mapPublicIpOnLaunch: false,
    })),
    leftovers: { loadBalancers: [], volumes: [], instances: [], interfaces: [] },
  };
  const prod = () =>
    resolvePlatformConfig(
      {
        environment: "prod",
        cluster: { name: "gitops-prod", kubernetesVersion: "1.35" },
        access: { deployRoleArn: deployRole, viewers: [viewer] },
      },
      { project: "eks-gitops-platform", stack: "prod", region, today },
    );

  it("flags deletion protection off and a config-map auth mode on prod as mandatory, a version change as advisory", () => {
    const findings = checkStack(prod(), observed);
    const drift = (check: string) => findings.find((finding) => finding.check === check && !finding.ok);
    assert.equal(drift("deletion protection")?.severity, "mandatory");
    assert.equal(drift("authentication mode")?.actual, "API_AND_CONFIG_MAP");
    assert.equal(drift("Kubernetes version")?.severity, "advisory");
    assert.match(drift("Kubernetes version")?.fix ?? "", /can never go back/);
    assert.equal(drift("upgrade policy")?.actual, "EXTENDED");
    assert.equal(exitCodeFor(findings), 1);
    const fixed = checkStack(prod(), {
      ...observed,
      cluster: { ...observed.cluster, authenticationMode: "API", deletionProtection: true },
    });
    assert.equal(exitCodeFor(fixed), 0, formatFindings("prod", fixed));
  });

  it("compares a public endpoint's allowed CIDRs with the config: the same list passes, a wider one is mandatory drift", () => {
    const allowed = "203.0.113.10/32";
    const config = configFor("gitops-prod", {
      cluster: { name: "gitops-prod", kubernetesVersion: "1.35", publicAccessCidrs: [allowed] },
    });
    assert.deepEqual(config.cluster.publicAccessCidrs, [allowed]);
    const endpoint = (publicAccessCidrs: string[]) =>
      checkStack(config, {
        ...observed,
        cluster: { ...observed.cluster, endpointPublicAccess: true, publicAccessCidrs },
      }).find((finding) => finding.check === "public endpoint access");

    const same = endpoint([allowed]);
    assert.equal(same?.ok, true, JSON.stringify(same));
    assert.equal(same?.expected, `public, limited to ${allowed}`);
    assert.equal(same?.fix, undefined);

    const open = endpoint(["0.0.0.0/0"]);
    assert.equal(open?.ok, false, JSON.stringify(open));
    assert.equal(open?.severity, "mandatory");
    assert.equal(open?.actual, "public, open to 0.0.0.0/0");
    assert.ok(open?.fix);

    assert.equal(endpoint([allowed, "0.0.0.0/0"])?.ok, false, "an extra CIDR is drift too");
    assert.equal(endpoint([])?.ok, false, "public with no CIDR list is not what the config says");
  });

  it("requires a KMS key on an encryption entry that covers secrets", () => {
    const encryption = (entries: { keyArn: string; resources: string[] }[]) =>
      checkStack(prod(), { ...observed, cluster: { ...observed.cluster, encryption: entries } }).find(
        (finding) => finding.check === "secrets envelope encryption",
      );
    assert.equal(encryption(observed.cluster.encryption)?.ok, true);

    const notSecrets = encryption([{ keyArn: "k", resources: [] }]);
    assert.equal(notSecrets?.ok, false, "a key that encrypts nothing does not encrypt secrets");
    assert.equal(notSecrets?.severity, "mandatory");
    assert.equal(notSecrets?.actual, "not configured");
    assert.match(notSecrets?.fix ?? "", /re-created/);

    assert.equal(encryption([{ keyArn: "", resources: ["secrets"] }])?.ok, false, "secrets without a key");
    assert.equal(encryption([])?.ok, false);
  });
  it("does not report Auto Mode's entry for the cluster role as foreign, but does report a stranger", () => {
    const roleArn = "arn:aws:iam::123456789012:role/gitops-prod-cluster";
    const undeclared = (extra: ObservedAccessEntry[]) =>
      checkStack(prod(), {
        ...observed,
        cluster: { ...observed.cluster, roleArn },
        accessEntries: [...declaredEntries, ...extra],
      }).find((finding) => finding.check === "undeclared access entries");
    const clusterRoleEntry = {
      principalArn: roleArn,
      type: "STANDARD",
      policies: ["AmazonEKSClusterAdminPolicy"],
    };
    assert.equal(undeclared([clusterRoleEntry])?.ok, true);
    const stranger = {
      principalArn: "arn:aws:iam::123456789012:role/someone",
      type: "STANDARD",
      policies: [],
    };
    assert.equal(undeclared([clusterRoleEntry, stranger])?.ok, false);
    assert.match(String(undeclared([stranger])?.actual), /role\/someone/);
  });

  it("judges a platform role's trust policy and permissions: its one service only, no administrator grant", () => {
    const trust = (principal: unknown) =>
      JSON.stringify({ Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRole" }] });
    const service = "pods.eks.amazonaws.com";
    assert.deepEqual(unexpectedTrustedPrincipals(serviceTrustPolicy(service, true), service), []);
    assert.deepEqual(unexpectedTrustedPrincipals(trust("*"), service), ["*"]);
    assert.deepEqual(unexpectedTrustedPrincipals(trust({ AWS: "*" }), service), ["AWS:*"]);
    assert.deepEqual(
      unexpectedTrustedPrincipals(trust({ Service: [service, "ec2.amazonaws.com"] }), service),
      ["Service:ec2.amazonaws.com"],
    );
    assert.deepEqual(unexpectedTrustedPrincipals(trust({ AWS: "arn:aws:iam::999999999999:root" }), service), [
      "AWS:arn:aws:iam::999999999999:root",
    ]);
    const expected = { name: "gitops-a-external-dns", trustedService: service };
    const role = {
      name: expected.name,
      arn: `arn:aws:iam::123456789012:role/${expected.name}`,
      trustPolicy: serviceTrustPolicy(service, true),
      attachedPolicyArns: ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"],
      inlinePolicies: [{ name: "scoped", document: scopedPolicy }],
    };
    assert.ok(checkRole(expected, role).every((finding) => finding.ok));
    assert.deepEqual(adminGrants(role), []);
    // A customer policy that merely carries the name is not AWS's AdministratorAccess; `iam:*` on * is not `*`.
    assert.deepEqual(
      adminGrants({
        ...role,
        attachedPolicyArns: ["arn:aws:iam::123456789012:policy/AdministratorAccess"],
        inlinePolicies: [
          {
            name: "iam",
            document: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iam:*", Resource: "*" }] }),
          },
        ],
      }),
      [],
    );
    assert.deepEqual(
      adminGrants({
        ...role,
        inlinePolicies: [
          {
            name: "all",
            document: JSON.stringify({ Statement: { Effect: "Allow", Action: ["*"], Resource: ["*"] } }),
          },
        ],
      }),
      ["inline all (* on *)"],
    );
    const wrongService = checkRole(expected, {
      ...role,
      trustPolicy: serviceTrustPolicy("ec2.amazonaws.com", false),
    });
    assert.equal(wrongService[0].ok, false);
    assert.equal(wrongService[0].actual, "also trusts Service:ec2.amazonaws.com");
    const missing = checkRole(expected, undefined);
    assert.deepEqual(
      missing.map((finding) => [finding.check, finding.ok, finding.actual]),
      [[`IAM role ${expected.name}`, false, "missing"]],
    );
  });

  it("checks that the cluster security group admits 443 from exactly cluster.privateAccessCidrs", () => {
    const ingress = (cidrs: string[]) =>
      checkStack(prod(), {
        ...observed,
        clusterIngress: [
          { protocol: "-1", fromPort: -1, toPort: -1 },
          ...cidrs.map((cidrIpv4) => ({ protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4 })),
        ],
      }).find((finding) => finding.check === "cluster security group ingress");
    assert.equal(ingress([])?.ok, true, "prod declares no private access CIDRs: only EKS's own rules");
    assert.equal(ingress(["0.0.0.0/0"])?.ok, false);
  });

  it("treats the access entry EKS creates for the Argo CD capability role as AWS-owned, and checks its policy", () => {
    const capabilityRole = "arn:aws:iam::123456789012:role/gitops-prod-argocd-capability";
    const withCapability = (install: "helm" | "capability") =>
      resolvePlatformConfig(
        {
          environment: "prod",
          cluster: { name: "gitops-prod", kubernetesVersion: "1.35" },
          access: { deployRoleArn: deployRole, viewers: [viewer] },
          gitops: {
            argocd: {
              install,
              identityCenter: {
                instanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
                region: "eu-west-1",
              },
            },
          },
        },
        { project: "eks-gitops-platform", stack: "prod", region, today },
      );
    const accessFindings = (install: "helm" | "capability", policies: string[]) =>
      checkStack(withCapability(install), {
        ...observed,
        // The user guide does not say which type EKS gives this entry; STANDARD (like a person's) is the case that a
        // type-only rule would flag, so only its principal may tell it apart.
        accessEntries: [...declaredEntries, { principalArn: capabilityRole, type: "STANDARD", policies }],
      }).filter((finding) => /access entr/.test(finding.check));
    const byCheck = (findings: ReturnType<typeof accessFindings>) =>
      new Map(findings.map((finding) => [finding.check, finding]));

    const capability = byCheck(accessFindings("capability", ["AmazonEKSClusterAdminPolicy"]));
    assert.equal(capability.get("undeclared access entries")?.ok, true, "not foreign");
    assert.equal(capability.get("access entry of the Argo CD capability role (created by EKS)")?.ok, true);

    const noPolicy = byCheck(accessFindings("capability", []));
    assert.equal(noPolicy.get("undeclared access entries")?.ok, true);
    const missing = noPolicy.get("access entry of the Argo CD capability role (created by EKS)");
    assert.equal(missing?.ok, false, "without its policy every sync of the local cluster is Forbidden");
    assert.equal(missing?.severity, "mandatory");

    const helm = byCheck(accessFindings("helm", ["AmazonEKSClusterAdminPolicy"]));
    assert.match(helm.get("undeclared access entries")?.actual ?? "", /gitops-prod-argocd-capability/);
    assert.equal(helm.has("access entry of the Argo CD capability role (created by EKS)"), false);
  });
});

describe("ops/verify reads the IAM roles the program creates", function () {
  this.timeout(120_000);
  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack}: platformRoles() lists exactly the synthesized roles that trust a cluster service`, async () => {
      const services: string[] = Object.values(roleTrustServices);
      const synthesized = ofType(await synthesizedStack(stack), "aws:iam/role:Role").flatMap((role) => {
        const statements = [].concat(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement);
        const trusted = statements.flatMap((statement: { Principal?: { Service?: string | string[] } }) =>
          ([] as string[]).concat(statement.Principal?.Service ?? []),
        );
        return trusted.some((service) => services.includes(service))
          ? [{ name: String(role.inputs.name), trustedService: trusted.join(",") }]
          : [];
      });
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      assert.deepEqual([...platformRoles(readStackConfig(stack))].sort(byName), synthesized.sort(byName));
    });
  }
});
