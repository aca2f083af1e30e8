import { strict as assert } from "assert";
import * as path from "path";
import { loadPackConfig, type PolicyReport, runPolicyPack } from "../../policies/harness";
import { policies } from "../../policies/pack";
import { foundationSynthNames } from "../../synth";
import { stackNames } from "../../synth/stacks";
import type { SynthResource, SynthResult } from "../../synth/types";
import { synthesizedStack } from "../support/stacks";

/** Every Pulumi.<stack>.yaml at the root, so a new sample stack is covered without editing this list. */
const sampleStacks = [...foundationSynthNames(), ...stackNames(path.join(__dirname, "..", ".."))];

/** A deep copy of a synthesized stack with one resource's inputs changed, to prove the policies see the real shape. */
function withInputs(
  result: SynthResult,
  type: string,
  change: (inputs: Record<string, unknown>) => void,
): SynthResult {
  const copy = JSON.parse(JSON.stringify(result)) as SynthResult;
  const target = copy.resources.find((resource) => resource.type === type);
  if (!target) throw new Error(`no ${type} in ${result.stack}`);
  change(target.inputs);
  return copy;
}

type Mutable = { -readonly [K in keyof SynthResource]: SynthResource[K] } & {
  inputs: Record<string, unknown>;
  propertyDependencies: Record<string, string[]>;
  dependencies: string[];
};
type Stack = { stack: string; resources: Mutable[] };

const copy = (result: SynthResult): Stack => JSON.parse(JSON.stringify(result)) as Stack;
const all = (stack: Stack, type: string) => stack.resources.filter((resource) => resource.type === type);
function first(stack: Stack, type: string, where: (resource: Mutable) => boolean = () => true): Mutable {
  const found = all(stack, type).find(where);
  if (!found) throw new Error(`no ${type} in ${stack.stack}`);
  return found;
}
function add(
  stack: Stack,
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  deps: Record<string, string[]> = {},
): Mutable {
  const resource = {
    urn: `urn:pulumi:${stack.stack}::eks-gitops-platform::${type}::${name}`,
    type,
    name,
    parent: stack.resources[0].urn,
    custom: true,
    inputs,
    dependencies: Object.values(deps).flat(),
    propertyDependencies: deps,
    protect: false,
    retainOnDelete: false,
    provider: "",
  } as unknown as Mutable;
  stack.resources.push(resource);
  return resource;
}
const remove = (stack: Stack, doomed: (resource: Mutable) => boolean) => {
  stack.resources = stack.resources.filter((resource) => !doomed(resource));
};
const document = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...statement }] });

const clusterType = "aws:eks/cluster:Cluster";
const adminPolicy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const isAdminAssociation = (resource: Mutable) => resource.inputs.policyArn === adminPolicy;
const association = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";
const argoRelease = (stack: Stack) =>
  first(stack, "kubernetes:helm.sh/v3:Release", (resource) => resource.inputs.chart === "argo-cd");
const argoValues = (stack: Stack) => {
  const release = argoRelease(stack);
  release.inputs.values = (release.inputs.values ?? {}) as Record<string, unknown>;
  return release.inputs.values as Record<string, Record<string, Record<string, unknown>>>;
};

/**
 * One reviewer's mistake each, as the issue lists them, applied to a synthesized stack. `stacks` says where the
 * mistake is one: environment-specific rules (prod retention, prod NAT) are mistakes only on prod.
 */
const mistakes: {
  mistake: string;
  policy: string;
  stacks: string[];
  apply: (stack: Stack) => void;
  /** Other rules the same change rightly trips on dev (a resource without tags there has no expires-on either). */
  alsoOnDev?: string[];
}[] = [
  {
    mistake: "an access entry granting cluster admin to *",
    policy: "eks-access-admin-scoped",
    stacks: ["dev", "prod"],
    apply: (stack) => void (first(stack, association, isAdminAssociation).inputs.principalArn = "*"),
  },
  {
    mistake: "an access entry granting cluster admin to a foreign account's root",
    policy: "eks-access-admin-scoped",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void (first(stack, association, isAdminAssociation).inputs.principalArn =
        "arn:aws:iam::999988887777:root"),
  },
  {
    mistake: "an access entry granting cluster admin to a viewer group",
    policy: "eks-access-admin-scoped",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const viewer = "arn:aws:iam::111122223333:role/readonly-auditors";
      add(stack, association, "auditors-view", {
        policyArn: adminPolicy.replace("ClusterAdmin", "View"),
        principalArn: viewer,
        accessScope: { type: "cluster" },
      });
      first(stack, association, isAdminAssociation).inputs.principalArn = viewer;
    },
  },
  {
    mistake: "an access entry in system:masters",
    policy: "eks-access-admin-scoped",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void (first(stack, "aws:eks/accessEntry:AccessEntry").inputs.kubernetesGroups = ["system:masters"]),
  },
  {
    mistake: "an IAM role with AdministratorAccess attached",
    policy: "iam-no-admin-access",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void (first(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs.policyArn =
        "arn:aws:iam::aws:policy/AdministratorAccess"),
  },
  {
    mistake: "an IAM role with an inline * on *",
    policy: "iam-no-admin-access",
    // The cluster stacks' roles carry managed policies only; the foundation's (CI, runners) carry inline ones.
    stacks: ["foundation-eu-west-1"],
    apply: (stack) =>
      void (first(stack, "aws:iam/rolePolicy:RolePolicy").inputs.policy = document({
        Action: "*",
        Resource: "*",
      })),
  },
  {
    mistake: "a trust policy trusting *",
    policy: "iam-trust-policy-scoped",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void (first(stack, "aws:iam/role:Role").inputs.assumeRolePolicy = document({
        Principal: { AWS: "*" },
        Action: "sts:AssumeRole",
      })),
  },
  {
    mistake: "a trust policy trusting a whole AWS account",
    policy: "iam-trust-policy-scoped",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void (first(stack, "aws:iam/role:Role").inputs.assumeRolePolicy = document({
        Principal: { AWS: "arn:aws:iam::999988887777:root" },
        Action: "sts:AssumeRole",
      })),
  },
  {
    mistake: "a cluster role without the foundation's permissions boundary",
    policy: "iam-role-permissions-boundary",
    stacks: ["dev", "prod"],
    apply: (stack) => void delete first(stack, "aws:iam/role:Role").inputs.permissionsBoundary,
  },
  {
    mistake: "a KMS key policy granting kms:* to *",
    policy: "kms-key-policy-no-wildcard",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const key = first(stack, "aws:kms/key:Key");
      const policy = JSON.parse(key.inputs.policy as string) as { Statement: { Principal: unknown }[] };
      policy.Statement[0].Principal = "*";
      key.inputs.policy = JSON.stringify(policy);
    },
  },
  {
    mistake: "a log group without the platform KMS key",
    policy: "log-group-kms",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const group = first(stack, "aws:cloudwatch/logGroup:LogGroup");
      delete group.inputs.kmsKeyId;
      delete group.propertyDependencies.kmsKeyId;
    },
  },
  {
    mistake: "log retention below the prod minimum",
    policy: "log-group-retention",
    stacks: ["prod"],
    apply: (stack) => void (first(stack, "aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays = 30),
  },
  {
    mistake: "a VPC without flow logs",
    policy: "vpc-flow-logs",
    // The VPC (and its NAT gateways) belong to the foundation; cluster stacks declare none.
    stacks: ["foundation-eu-west-1"],
    apply: (stack) => remove(stack, (resource) => resource.type === "aws:ec2/flowLog:FlowLog"),
  },
  {
    mistake: "a single NAT gateway on prod",
    policy: "prod-nat-per-az",
    // The foundation serves prod and is judged as prod (policies/config/foundation-eu-west-1.json).
    stacks: ["foundation-eu-west-1"],
    apply: (stack) => {
      const [, ...others] = all(stack, "aws:ec2/natGateway:NatGateway");
      remove(stack, (resource) => others.includes(resource));
    },
  },
  {
    mistake: "a Kubernetes Secret with a credential in the program",
    policy: "k8s-no-plaintext-secret",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void (first(stack, "kubernetes:core/v1:Secret").inputs.stringData = {
        name: "platform",
        server: "https://kubernetes.default.svc",
        config: JSON.stringify({
          bearerToken: "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0",
          tlsClientConfig: { insecure: false },
        }),
      }),
  },
  {
    mistake: "a StorageClass without encryption",
    policy: "k8s-storageclass-encrypted",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void add(stack, "kubernetes:storage.k8s.io/v1:StorageClass", "gp3", {
        metadata: { name: "gp3" },
        provisioner: "ebs.csi.eks.amazonaws.com",
        parameters: { type: "gp3" },
      }),
  },
  {
    mistake: "Argo CD's server exposed through a LoadBalancer",
    policy: "argocd-server-private",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const values = argoValues(stack);
      values.server = { ...values.server, service: { type: "LoadBalancer" } };
    },
  },
  {
    mistake: "Argo CD's server with TLS off",
    policy: "argocd-server-private",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const values = argoValues(stack);
      values.configs = { ...values.configs, params: { ...values.configs?.params, "server.insecure": true } };
    },
  },
  {
    mistake: "a node group with SSH access",
    policy: "eks-node-no-ssh",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void add(stack, "aws:eks/nodeGroup:NodeGroup", "system", {
        clusterName: "platform",
        tags: first(stack, clusterType).inputs.tags,
        remoteAccess: { ec2SshKey: "ops-key" },
        scalingConfig: { minSize: 2, maxSize: 3, desiredSize: 2 },
      }),
  },
  {
    mistake: "a launch template allowing IMDSv1",
    policy: "ec2-imdsv2-required",
    stacks: ["dev", "prod"],
    apply: (stack) =>
      void add(stack, "aws:ec2/launchTemplate:LaunchTemplate", "system", {
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "optional" },
      }),
  },
  {
    mistake: "two half-internet CIDRs on the cluster security group (0.0.0.0/1 + 128.0.0.0/1)",
    policy: "sg-no-public-ingress",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const cluster = first(stack, clusterType).urn;
      for (const [name, cidr] of [
        ["low", "0.0.0.0/1"],
        ["high", "128.0.0.0/1"],
      ]) {
        add(
          stack,
          "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          `api-${name}`,
          {
            securityGroupId: "sg-0123456789abcdef0",
            cidrIpv4: cidr,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
          },
          { securityGroupId: [cluster] },
        );
      }
    },
  },
  {
    mistake: "a Kubernetes version EKS does not offer",
    policy: "eks-version-supported",
    stacks: ["dev", "prod"],
    apply: (stack) => void (first(stack, clusterType).inputs.version = "1.99"),
  },
  {
    mistake: "a prod cluster without deletion protection, tagged environment=staging",
    policy: "prod-deletion-protection",
    stacks: ["prod"],
    apply: (stack) => {
      const cluster = first(stack, clusterType);
      cluster.inputs.deletionProtection = false;
      cluster.inputs.tags = { ...(cluster.inputs.tags as object), environment: "staging" };
    },
  },
  {
    mistake: "a subnet mapping public IPs, with its tags removed",
    policy: "vpc-private-subnet-no-public-ip",
    stacks: ["dev", "prod"],
    apply: (stack) => {
      const subnet = first(stack, "aws:ec2/subnet:Subnet");
      subnet.inputs.mapPublicIpOnLaunch = true;
      delete subnet.inputs.tags;
    },
    alsoOnDev: ["dev-expiry-tag"],
  },
  {
    mistake: "a dev stack whose cluster lost every tag (so no expires-on)",
    policy: "dev-expiry-tag",
    stacks: ["dev"],
    apply: (stack) => void delete first(stack, clusterType).inputs.tags,
  },
];

/**
 * Tags a resource might set to talk its way out of a rule: none of them may change a verdict. (`expires-on` is not
 * one: it is what dev-expiry-tag asks for, not a way around a rule.)
 */
const decoyTags = {
  environment: "staging",
  "public-load-balancer": "true",
  "kubernetes.io/role/elb": "1",
  "policy-exempt": "true",
};
const taggable = (resource: Mutable) =>
  resource.custom && !resource.type.startsWith("kubernetes:") && !resource.type.startsWith("pulumi:");
const distinctPolicies = (report: PolicyReport) => [
  ...new Set(report.violations.map((violation) => violation.policy)),
];

describe("policies: the sample stacks as synthesized from Pulumi.<stack>.yaml", function () {
  this.timeout(120_000);

  it("finds the sample stacks, the managed Argo CD one included", () => {
    for (const stack of ["dev", "prod", "staging", "managed-argocd"])
      assert.ok(sampleStacks.includes(stack), stack);
  });

  for (const stack of sampleStacks) {
    it(`${stack} passes with no mandatory (and no advisory) violations`, async () => {
      const report = runPolicyPack(await synthesizedStack(stack), loadPackConfig(stack));
      assert.deepEqual(report.violations, []);
      assert.equal(report.mandatoryCount, 0);
      assert.equal(report.passed.length, policies.length);
    });
  }

  it("would catch the managed Argo CD sample without its private endpoint", async () => {
    const sample = withInputs(
      await synthesizedStack("managed-argocd"),
      "aws:eks/capability:Capability",
      (inputs) => {
        const argoCd = (inputs.configuration as { argoCd: Record<string, unknown> }).argoCd;
        delete argoCd.networkAccess;
      },
    );
    const packConfig = loadPackConfig("managed-argocd");
    const report = runPolicyPack(sample, packConfig);
    assert.deepEqual(
      report.violations.map((violation) => [violation.policy, violation.enforcementLevel]),
      [["argocd-capability-private", "mandatory"]],
    );
    // A dev stack that opts out (gitops.argocd.publicEndpoint) records the exception, with reason and expiry, in
    // its pack config; the same stack then passes.
    const settings = packConfig["pack-settings"] as Record<string, unknown>;
    const exempted = runPolicyPack(sample, {
      ...packConfig,
      "pack-settings": {
        ...settings,
        exemptions: [
          {
            resource: "gitops-argocd",
            policy: "argocd-capability-private",
            reason: "no VPN into the dev VPC yet",
            expires: "2999-12-31",
          },
        ],
      },
    });
    assert.deepEqual(exempted.violations, []);
  });

  describe("each mistake, applied to the synthesized stack, is stopped by its rule alone", () => {
    for (const { mistake, policy, stacks, apply, alsoOnDev } of mistakes) {
      for (const stackName of stacks) {
        it(`${stackName}: ${mistake} → ${policy}`, async () => {
          const stack = copy(await synthesizedStack(stackName));
          apply(stack);
          const report = runPolicyPack(stack as unknown as SynthResult, loadPackConfig(stackName));
          const expected = [policy, ...(stackName === "dev" ? (alsoOnDev ?? []) : [])];
          assert.deepEqual(distinctPolicies(report), expected, JSON.stringify(report.violations, null, 1));
          const violation = report.violations.find((candidate) => candidate.policy === policy);
          assert.equal(violation?.enforcementLevel, "mandatory");

          // Adding tags never exempts: the same mistake with decoy tags on every resource is still stopped.
          const decorated = copy(stack as unknown as SynthResult);
          for (const resource of decorated.resources.filter(taggable)) {
            resource.inputs.tags = { ...((resource.inputs.tags as object) ?? {}), ...decoyTags };
          }
          const decoyReport = runPolicyPack(decorated as unknown as SynthResult, loadPackConfig(stackName));
          assert.ok(distinctPolicies(decoyReport).includes(policy), `decoy tags exempted ${mistake}`);

          // Removing tags never removes a check: with every tag gone the mistake is still stopped.
          const stripped = copy(stack as unknown as SynthResult);
          for (const resource of stripped.resources) delete resource.inputs.tags;
          const strippedReport = runPolicyPack(stripped as unknown as SynthResult, loadPackConfig(stackName));
          assert.ok(distinctPolicies(strippedReport).includes(policy), `removing tags hid ${mistake}`);
        });
      }
    }
  });

  it("judges retention and NAT gateways by the environment in the pack config: dev's 7 days pass, a single NAT passes for dev only", async () => {
    const dev = copy(await synthesizedStack("dev"));
    assert.deepEqual(runPolicyPack(dev as unknown as SynthResult, loadPackConfig("dev")).violations, []);
    // The same dev stack judged with a prod pack config fails on its 7-day logs.
    const asProd = runPolicyPack(dev as unknown as SynthResult, {
      ...loadPackConfig("dev"),
      "pack-settings": { environment: "prod" },
    });
    assert.ok(distinctPolicies(asProd).includes("log-group-retention"));
    // NAT gateways live in the foundation: one gateway passes when it is judged as dev, not as prod.
    const foundation = copy(await synthesizedStack("foundation-eu-west-1"));
    remove(
      foundation,
      (resource) => resource.type === "aws:ec2/natGateway:NatGateway" && !resource.name.endsWith("-a"),
    );
    const judged = (environment: string) =>
      distinctPolicies(
        runPolicyPack(foundation as unknown as SynthResult, {
          ...loadPackConfig("foundation-eu-west-1"),
          "pack-settings": { environment },
        }),
      );
    assert.ok(!judged("dev").includes("prod-nat-per-az"));
    assert.ok(judged("prod").includes("prod-nat-per-az"));
  });
});
