import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resolvePlatformConfig } from "../../infra/config";
import type { ClusterFacts } from "../../infra/facts";

/**
 * The GitOps component on its own, under Pulumi mocks, with fabricated ClusterFacts: what it creates for each
 * install mode, with the raw inputs (the synth output redacts Secret data).
 */

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const accountId = "444455556666";
const clusterArn = `arn:aws:eks:eu-central-1:${accountId}:cluster/demo`;

function config(overrides: Record<string, unknown>) {
  return resolvePlatformConfig(
    {
      environment: "staging",
      cluster: { name: "demo" },
      access: { admins: [`arn:aws:iam::${accountId}:role/admins`] },
      ...overrides,
    },
    { project: "eks-gitops-platform", stack: "unit", region: "eu-central-1" },
  );
}

async function runComponent(platformConfig: ReturnType<typeof config>): Promise<Registered[]> {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "aws:iam/role:Role")
          state.arn = `arn:aws:iam::${accountId}:role/${String(args.inputs.name)}`;
        if (args.type === "aws:sqs/queue:Queue")
          state.arn = `arn:aws:sqs:eu-central-1:${accountId}:${String(args.inputs.name)}`;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "eks-gitops-platform",
    "unit",
    false,
  );
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { GitOps } = require("../../infra/gitops") as typeof import("../../infra/gitops");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const cluster = new aws.eks.Cluster("demo", {
    roleArn: `arn:aws:iam::${accountId}:role/cluster`,
    vpcConfig: { subnetIds: [] },
  });
  const facts: ClusterFacts = {
    config: platformConfig,
    accountId: pulumi.output(accountId),
    partition: pulumi.output("aws"),
    clusterName: pulumi.output("demo"),
    clusterArn: pulumi.output(clusterArn),
    endpoint: pulumi.output("https://ABCDEF0123456789.gr7.eu-central-1.eks.amazonaws.com"),
    certificateAuthorityData: pulumi.output("Q0E="),
    kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
    vpcId: pulumi.output("vpc-0123"),
    privateSubnetIds: [pulumi.output("subnet-a"), pulumi.output("subnet-b"), pulumi.output("subnet-c")],
    clusterSecurityGroupId: pulumi.output("sg-0123"),
    nodeRoleName: pulumi.output("demo-node"),
    nodeRoleArn: pulumi.output(`arn:aws:iam::${accountId}:role/demo-node`),
    cluster,
    apiAccess: [],
    readiness: [],
  };
  const gitops = new GitOps("gitops", { cluster: facts });
  await new Promise((resolve) =>
    pulumi.all([gitops.urn, gitops.rootApplication?.id, gitops.clusterSecret?.id]).apply(resolve),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
  if (settings.waitForRPCs) await settings.waitForRPCs();
  return registered;
}

/** Mocks hand secret inputs over in Pulumi's wire form ({<signature>: …, value}); Secret data always is one. */
function unsecret(value: unknown): unknown {
  const wire = value as { value?: unknown } & Record<string, unknown>;
  assert.equal(
    wire["4dabf18193072939515e22adb298388d"],
    "1b47061264138c4ac30d75fd1eb44270",
    "Secret data is a secret",
  );
  return wire.value;
}

const identityCenter = { instanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef", region: "eu-west-1" };

const ofType = (resources: Registered[], type: string) =>
  resources.filter((resource) => resource.type === type);

describe("GitOps component (mocks, fabricated ClusterFacts)", () => {
  it("helm install on auto mode: Argo CD chart, in-cluster cluster Secret, root Application at addons/", async () => {
    const resources = await runComponent(config({ compute: { mode: "auto" } }));
    const releases = ofType(resources, "kubernetes:helm.sh/v3:Release");
    assert.deepEqual(
      releases.map((release) => release.inputs.chart),
      ["argo-cd"],
    );
    assert.equal(releases[0].inputs.namespace, "argocd");
    assert.equal(releases[0].inputs.createNamespace, true);
    const [secret] = ofType(resources, "kubernetes:core/v1:Secret");
    const data = unsecret(secret.inputs.stringData) as Record<string, string>;
    assert.equal(data.name, "demo");
    assert.equal(data.server, "https://kubernetes.default.svc");
    assert.deepEqual(
      JSON.parse(data.config),
      { tlsClientConfig: { insecure: false } },
      "no credentials in the Secret",
    );
    const labels = (secret.inputs.metadata as { labels: Record<string, string> }).labels;
    assert.equal(labels.enable_argocd, "true", "Argo CD manages its own chart");
    assert.equal(labels.enable_cilium, "false");
    assert.equal(ofType(resources, "aws:eks/capability:Capability").length, 0);
    const [root] = ofType(resources, "kubernetes:argoproj.io/v1alpha1:Application");
    const spec = root.inputs.spec as { source: Record<string, unknown>; destination: Record<string, string> };
    assert.equal(spec.source.path, "addons");
    assert.equal(spec.destination.server, "https://kubernetes.default.svc");
    assert.ok(ofType(resources, "pulumi:providers:kubernetes").length === 1);
  });

  it("capability install: EKS managed Argo CD with Identity Center; Secret and root Application use the cluster ARN", async () => {
    const resources = await runComponent(
      config({
        compute: { mode: "auto" },
        gitops: {
          argocd: {
            install: "capability",
            identityCenter: { ...identityCenter, adminGroupIds: ["group-admins"] },
          },
        },
      }),
    );
    assert.equal(ofType(resources, "kubernetes:helm.sh/v3:Release").length, 0, "no argo-cd chart");
    const [capability] = ofType(resources, "aws:eks/capability:Capability");
    assert.equal(capability.inputs.type, "ARGOCD");
    assert.equal(capability.inputs.deletePropagationPolicy, "RETAIN");
    const argoCd = (capability.inputs.configuration as { argoCd: Record<string, unknown> }).argoCd;
    assert.deepEqual(argoCd.awsIdc, {
      idcInstanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
      idcRegion: "eu-west-1",
    });
    assert.deepEqual(argoCd.rbacRoleMappings, [
      { role: "ADMIN", identities: [{ id: "group-admins", type: "SSO_GROUP" }] },
    ]);
    const role = ofType(resources, "aws:iam/role:Role").find(
      (candidate) => candidate.inputs.name === "demo-argocd-capability",
    );
    assert.ok(role);
    assert.match(String(role.inputs.assumeRolePolicy), /capabilities\.eks\.amazonaws\.com/);
    const access = ofType(resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter(
      (association) => String(association.inputs.principalArn).includes("demo-argocd-capability"),
    );
    assert.equal(access.length, 1, "the capability role needs Kubernetes permissions on its own cluster");
    assert.match(String(access[0].inputs.policyArn), /cluster-access-policy\/AmazonEKSClusterAdminPolicy$/);
    assert.deepEqual(access[0].inputs.accessScope, { type: "cluster" });
    const [secret] = ofType(resources, "kubernetes:core/v1:Secret");
    assert.equal((unsecret(secret.inputs.stringData) as Record<string, string>).server, clusterArn);
    const labels = (secret.inputs.metadata as { labels: Record<string, string> }).labels;
    assert.equal(labels.enable_argocd, "false", "AWS runs Argo CD; no self-managed chart");
    const [root] = ofType(resources, "kubernetes:argoproj.io/v1alpha1:Application");
    assert.equal((root.inputs.spec as { destination: { server: string } }).destination.server, clusterArn);
  });

  describe("capability install: the Argo CD UI/API stays private", () => {
    const capabilityConfig = (extra: Record<string, unknown> = {}, argocd: Record<string, unknown> = {}) =>
      config({
        compute: { mode: "auto" },
        network: { vpcCidr: "10.40.0.0/16" },
        cluster: { name: "demo", privateAccessCidrs: ["10.100.0.0/16"] },
        gitops: {
          argocd: {
            install: "capability",
            identityCenter,
            ...argocd,
          },
        },
        ...extra,
      });

    it("puts an eks-capabilities interface endpoint in the private subnets and its id in networkAccess.vpceIds", async () => {
      const resources = await runComponent(capabilityConfig());
      const endpoints = ofType(resources, "aws:ec2/vpcEndpoint:VpcEndpoint");
      assert.equal(endpoints.length, 1);
      const [endpoint] = endpoints;
      assert.equal(endpoint.inputs.serviceName, "com.amazonaws.eu-central-1.eks-capabilities");
      assert.equal(endpoint.inputs.vpcEndpointType, "Interface");
      assert.equal(endpoint.inputs.vpcId, "vpc-0123");
      assert.deepEqual(endpoint.inputs.subnetIds, ["subnet-a", "subnet-b", "subnet-c"]);
      assert.equal(endpoint.inputs.policy, undefined, "eks-capabilities supports no endpoint policy");

      const [group] = ofType(resources, "aws:ec2/securityGroup:SecurityGroup");
      assert.equal(group.inputs.vpcId, "vpc-0123");
      assert.deepEqual(endpoint.inputs.securityGroupIds, [`${group.name}-id`], "its own security group");
      const rules = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
      assert.deepEqual(
        rules.map((rule) => [
          rule.inputs.securityGroupId,
          rule.inputs.cidrIpv4,
          rule.inputs.ipProtocol,
          rule.inputs.fromPort,
          rule.inputs.toPort,
        ]),
        [
          [`${group.name}-id`, "10.40.0.0/16", "tcp", 443, 443],
          [`${group.name}-id`, "10.100.0.0/16", "tcp", 443, 443],
        ],
        "HTTPS from the VPC and the configured private networks, nothing else",
      );

      const [capability] = ofType(resources, "aws:eks/capability:Capability");
      const argoCd = (capability.inputs.configuration as { argoCd: Record<string, unknown> }).argoCd;
      assert.deepEqual(argoCd.networkAccess, { vpceIds: [`${endpoint.name}-id`] });
    });

    it("leaves the access entry of the capability role to EKS: the program only associates a policy", async () => {
      const resources = await runComponent(capabilityConfig());
      const entries = ofType(resources, "aws:eks/accessEntry:AccessEntry").filter((entry) =>
        String(entry.inputs.principalArn).includes("argocd-capability"),
      );
      assert.deepEqual(entries, [], "EKS creates this entry; a second one would fail with ResourceInUse");
    });

    it("a dev stack's written opt-out keeps the endpoint public: no VPC endpoint, no networkAccess", async () => {
      const resources = await runComponent(
        capabilityConfig(
          { environment: "dev", expiresOn: "2026-12-31" },
          { publicEndpoint: { reason: "no VPN into the dev VPC yet" } },
        ),
      );
      assert.equal(ofType(resources, "aws:ec2/vpcEndpoint:VpcEndpoint").length, 0);
      assert.equal(ofType(resources, "aws:ec2/securityGroup:SecurityGroup").length, 0);
      const [capability] = ofType(resources, "aws:eks/capability:Capability");
      const argoCd = (capability.inputs.configuration as { argoCd: Record<string, unknown> }).argoCd;
      assert.equal(argoCd.networkAccess, undefined);
    });

    it("helm install creates no endpoint and no security group", async () => {
      const resources = await runComponent(config({ compute: { mode: "auto" } }));
      assert.equal(ofType(resources, "aws:ec2/vpcEndpoint:VpcEndpoint").length, 0);
      assert.equal(ofType(resources, "aws:ec2/securityGroup:SecurityGroup").length, 0);
      assert.equal(ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").length, 0);
    });
  });

  it("karpenter mode without Cilium: Karpenter AWS side, no Cilium release, no CoreDNS add-on here", async () => {
    const resources = await runComponent(
      config({ compute: { mode: "karpenter" }, addons: { cilium: false } }),
    );
    assert.deepEqual(
      ofType(resources, "kubernetes:helm.sh/v3:Release").map((release) => release.inputs.chart),
      ["argo-cd"],
    );
    assert.equal(
      ofType(resources, "aws:eks/addon:Addon").length,
      0,
      "CoreDNS comes from the cluster layer then",
    );
    const [secret] = ofType(resources, "kubernetes:core/v1:Secret");
    const annotations = (secret.inputs.metadata as { annotations: Record<string, string> }).annotations;
    assert.equal(annotations.karpenter_startup_taints, "[]");
    assert.equal(annotations.karpenter_interruption_queue, "demo-karpenter");
    assert.equal(annotations.cilium_operator_role_arn, undefined);
    const rolePolicy = ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((candidate) =>
      String(candidate.inputs.policy).includes("AllowPassingInstanceRole"),
    ) as (typeof resources)[number];
    const policy = JSON.parse(String(rolePolicy.inputs.policy)) as {
      Statement: { Sid: string; Resource: unknown }[];
    };
    const passRole = policy.Statement.find((statement) => statement.Sid === "AllowPassingInstanceRole");
    assert.equal(
      passRole?.Resource,
      `arn:aws:iam::${accountId}:role/demo-karpenter-node`,
      "passes only its node role",
    );
  });

  it("karpenter off: no node role or access entry, no Karpenter annotations", async () => {
    const resources = await runComponent(config({ compute: { mode: "auto" }, addons: { karpenter: false } }));
    assert.equal(ofType(resources, "aws:eks/accessEntry:AccessEntry").length, 0);
    const [secret] = ofType(resources, "kubernetes:core/v1:Secret");
    const metadata = secret.inputs.metadata as {
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    assert.equal(metadata.labels.enable_karpenter, "false");
    assert.ok(!Object.keys(metadata.annotations).some((key) => key.startsWith("karpenter_")));
  });
});
