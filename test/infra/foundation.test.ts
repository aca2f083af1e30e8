import { strict as assert } from "node:assert";
import { ConfigError } from "../../infra/config";
import {
  clusterDeployPolicy,
  githubOidcHost,
  iamPolicyQuota,
  policyWithinQuota,
  runnerRolePolicy,
} from "../../infra/foundation/ci-policies";
import { resolveFoundationConfig } from "../../infra/foundation/config";
import { foundationStackReference } from "../../infra/foundation/contract";
import { estimateMonthlyCost } from "../../ops/cost";
import { loadPackConfig, runPolicyPack } from "../../policies/harness";
import { synthesize, SynthResource, SynthResult } from "../../synth";
import { ofType, single, synthesizedStack } from "../support/stacks";

/**
 * The foundation layer (foundation/Pulumi.eu-west-1.yaml under the offline synth) and the contract the cluster stacks
 * read through pulumi.StackReference: OIDC trust by exact claims, runners in private subnets, the destroy guard, and
 * the user-facing errors when a cluster stack's foundation does not fit.
 */

const foundationName = "foundation-eu-west-1";
const reference = foundationStackReference("organization", "eu-west-1");
const repository = "acme/eks-gitops-platform";

interface Trust {
  Statement: {
    Effect: string;
    Principal: { Federated?: string };
    Action: string;
    Condition: Record<string, Record<string, string>>;
  }[];
}
const trustOf = (role: SynthResource) => JSON.parse(String(role.inputs.assumeRolePolicy)) as Trust;
const roleNamed = (result: SynthResult, name: string) =>
  ofType(result, "aws:iam/role:Role").find((role) => role.inputs.name === name) as SynthResource;

describe("foundation stack (synthesized)", () => {
  let result: SynthResult;
  before(async () => {
    result = await synthesizedStack(foundationName);
  });

  it("keeps every CI role's inline policies and every boundary within IAM's size quotas (whitespace not counted)", () => {
    const size = (policy: unknown) =>
      (typeof policy === "string" ? policy : JSON.stringify(policy)).replace(/\s/g, "").length;
    const perRole = new Map<string, number>();
    for (const inline of ofType(result, "aws:iam/rolePolicy:RolePolicy")) {
      const role = String(inline.inputs.role);
      perRole.set(role, (perRole.get(role) ?? 0) + size(inline.inputs.policy));
    }
    assert.ok(perRole.size >= 4, "the deploy roles' inline policies were found");
    for (const [role, total] of perRole)
      assert.ok(total <= iamPolicyQuota.inlinePerRole, `${role}: ${total}`);
    const boundaries = ofType(result, "aws:iam/policy:Policy");
    assert.equal(boundaries.length, 3);
    for (const boundary of boundaries)
      assert.ok(
        size(boundary.inputs.policy) <= iamPolicyQuota.managed,
        `${boundary.name}: ${size(boundary.inputs.policy)}`,
      );
  });

  it("declares the GitHub OIDC provider once, for sts.amazonaws.com", () => {
    const provider = single(result, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    assert.equal(provider.inputs.url, `https://${githubOidcHost}`);
    assert.deepEqual(provider.inputs.clientIdLists, ["sts.amazonaws.com"]);
  });

  it("trusts each CI role to the exact aud and sub claims of this repository (pull_request or its GitHub environment)", () => {
    const expected: Record<string, string> = {
      "platform-eu-west-1-foundation-preview": `repo:${repository}:pull_request`,
      "platform-eu-west-1-foundation-deploy": `repo:${repository}:environment:foundation-eu-west-1`,
    };
    for (const env of ["dev", "staging", "prod"]) {
      expected[`platform-eu-west-1-${env}-preview`] = `repo:${repository}:pull_request`;
      expected[`platform-eu-west-1-${env}-deploy`] = `repo:${repository}:environment:${env}`;
    }
    const provider = single(result, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    const providerArn = `arn:aws:iam::111122223333:oidc-provider/${githubOidcHost}`;
    for (const [name, sub] of Object.entries(expected)) {
      const role = roleNamed(result, name);
      assert.ok(role, `no role ${name}`);
      assert.deepEqual(trustOf(role).Statement, [
        {
          Effect: "Allow",
          Principal: { Federated: providerArn },
          Action: "sts:AssumeRoleWithWebIdentity",
          // StringEquals only: no StringLike, no wildcard in either claim.
          Condition: {
            StringEquals: { [`${githubOidcHost}:aud`]: "sts.amazonaws.com", [`${githubOidcHost}:sub`]: sub },
          },
        },
      ]);
      assert.ok(role.dependencies.includes(provider.urn), `${name} trusts the declared provider`);
    }
  });

  it("never declares a second OIDC provider when the account's is given, and trusts that one", async () => {
    const existing = `arn:aws:iam::111122223333:oidc-provider/${githubOidcHost}`;
    const reused = await synthesize(foundationName, { overrides: { github: { oidcProviderArn: existing } } });
    assert.equal(ofType(reused, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 0);
    const deploy = roleNamed(reused, "platform-eu-west-1-prod-deploy");
    assert.equal(trustOf(deploy).Statement[0].Principal.Federated, existing);
  });

  it("runs one CodeBuild runner per environment in the private runner subnets, with its own security group", () => {
    const projects = ofType(result, "aws:codebuild/project:Project");
    assert.deepEqual(
      projects.map((project) => project.inputs.name),
      [
        "platform-eu-west-1-dev-runner",
        "platform-eu-west-1-staging-runner",
        "platform-eu-west-1-prod-runner",
      ],
    );
    const runnerSubnets = result.outputs.runnerSubnetIds as string[];
    const subnets = ofType(result, "aws:ec2/subnet:Subnet");
    const groups = new Set<string>();
    for (const project of projects) {
      const vpc = project.inputs.vpcConfig as {
        vpcId: string;
        subnets: string[];
        securityGroupIds: string[];
      };
      assert.equal(vpc.vpcId, result.outputs.vpcId);
      assert.deepEqual(vpc.subnets, runnerSubnets);
      assert.equal(vpc.securityGroupIds.length, 1);
      groups.add(vpc.securityGroupIds[0]);
      assert.deepEqual(project.inputs.source, {
        type: "GITHUB",
        location: `https://github.com/${repository}.git`,
        auth: {
          type: "CODECONNECTIONS",
          resource:
            "arn:aws:codeconnections:eu-west-1:111122223333:connection/00000000-0000-4000-8000-000000000000",
        },
      });
      assert.ok(project.inputs.encryptionKey, "artifacts and logs encrypted with the foundation key");
    }
    assert.equal(groups.size, 3, "each environment's runner has its own security group");
    // Runner subnets are private: no public IPs, default route through NAT, never the internet gateway.
    const runnerSubnetResources = subnets.filter(
      (subnet) => (subnet.inputs.tags as Record<string, string>).tier === "runner",
    );
    assert.equal(runnerSubnetResources.length, 3);
    for (const subnet of runnerSubnetResources) assert.equal(subnet.inputs.mapPublicIpOnLaunch, false);
    const runnerRoutes = ofType(result, "aws:ec2/route:Route").filter((route) =>
      route.name.includes("-runner-"),
    );
    assert.equal(runnerRoutes.length, 3);
    for (const route of runnerRoutes) {
      assert.match(String(route.inputs.natGatewayId), /^nat-/);
      assert.equal(route.inputs.gatewayId, undefined);
    }
    // The security groups admit nothing and send only HTTPS.
    assert.equal(ofType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").length, 0);
    for (const rule of ofType(result, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")) {
      assert.deepEqual([rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort], ["tcp", 443, 443]);
    }
  });

  it("starts a build for each queued workflow job of a trusted account (WORKFLOW_JOB_QUEUED + ACTOR_ACCOUNT_ID)", () => {
    const hooks = ofType(result, "aws:codebuild/webhook:Webhook");
    assert.equal(hooks.length, 3);
    for (const hook of hooks) {
      assert.equal(hook.inputs.buildType, "BUILD");
      // foundation-runner.test.ts: what each filter admits, and that CodeBuild applies it to workflow jobs.
      assert.deepEqual(hook.inputs.filterGroups, [
        {
          filters: [
            { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
            { type: "ACTOR_ACCOUNT_ID", pattern: "^(999999999999)$" },
          ],
        },
      ]);
    }
  });

  it("gives the runner role only its logs, its build's network interface, the connection and the key", () => {
    for (const env of ["dev", "staging", "prod"]) {
      const role = roleNamed(result, `platform-eu-west-1-${env}-runner`);
      assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Principal, {
        Service: "codebuild.amazonaws.com",
      });
      const attachments = ofType(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
        (attachment) => attachment.dependencies.includes(role.urn),
      );
      assert.deepEqual(attachments, [], "no managed policy on a runner role");
    }
    const policy = runnerRolePolicy({
      partition: "aws",
      accountId: "111122223333",
      region: "eu-west-1",
      logGroupArn: "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/codebuild/x",
      connectionArn: "arn:aws:codeconnections:eu-west-1:111122223333:connection/c",
      subnetArns: ["arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1"],
      keyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
    });
    const actions = policy.Statement.flatMap((statement) => [statement.Action].flat() as string[]);
    assert.ok(!actions.some((action) => action === "*" || action.endsWith(":*")), actions.join(", "));
    assert.ok(!actions.some((action) => /^(iam|sts|eks):/.test(action)), "no IAM, STS or EKS rights");
  });

  it("gives the runner role the connection's two actions of the CodeBuild user guide, in the ARN's own prefix", () => {
    // CodeBuild user guide, "GitHub App connections", step 2: GetConnectionToken and GetConnection on the
    // connection; Developer Tools console user guide: an action's service prefix must match the resource's.
    const connection = (connectionArn: string) =>
      runnerRolePolicy({
        partition: "aws",
        accountId: "111122223333",
        region: "eu-west-1",
        logGroupArn: "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/codebuild/x",
        connectionArn,
        subnetArns: ["arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1"],
        keyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
      }).Statement.find((statement) => statement.Sid === "GitHubConnection");
    for (const service of ["codeconnections", "codestar-connections"]) {
      const arn = `arn:aws:${service}:eu-west-1:111122223333:connection/00000000-0000-4000-8000-000000000000`;
      assert.deepEqual(connection(arn), {
        Sid: "GitHubConnection",
        Effect: "Allow",
        Action: [`${service}:GetConnection`, `${service}:GetConnectionToken`],
        Resource: arn,
      });
    }
    assert.throws(
      () => connection("arn:aws:secretsmanager:eu-west-1:111122223333:secret:x"),
      /not a CodeConnections/,
    );
    // The synthesized runners use the sample's codeconnections ARN.
    for (const env of ["dev", "staging", "prod"]) {
      const policy = ofType(result, "aws:iam/rolePolicy:RolePolicy").find((candidate) =>
        candidate.dependencies.includes(roleNamed(result, `platform-eu-west-1-${env}-runner`).urn),
      );
      const statement = (
        JSON.parse(String(policy?.inputs.policy)) as { Statement: Record<string, unknown>[] }
      ).Statement.find((candidate) => candidate.Sid === "GitHubConnection");
      assert.deepEqual(statement?.Action, [
        "codeconnections:GetConnection",
        "codeconnections:GetConnectionToken",
      ]);
    }
  });

  it("scopes deploy rights: IAM by the environment's permissions boundary, services by region, foundation read-only", () => {
    const policy = clusterDeployPolicy({
      partition: "aws",
      accountId: "111122223333",
      namePrefix: "platform-eu-west-1",
      environments: ["dev", "staging", "prod"],
      region: "eu-west-1",
      environment: "dev",
      clusters: ["platform-dev"],
      state: {},
    });
    const boundary = "arn:aws:iam::111122223333:policy/platform-eu-west-1-dev-role-boundary";
    const bySid = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, statement]));
    assert.deepEqual(bySid.CreateRolesWithBoundary.Condition, {
      StringEquals: { "iam:PermissionsBoundary": boundary },
    });
    assert.deepEqual(bySid.ChangeBoundedRolesOnly.Resource, [
      "arn:aws:iam::111122223333:role/platform-dev-*",
      // A fleet spoke's hub-access role lives under /argocd-fleet/<hub>/.
      "arn:aws:iam::111122223333:role/argocd-fleet/*/platform-dev-*",
    ]);
    // EKS only on its environment's clusters (and what EKS names under them).
    assert.deepEqual(bySid.OwnClustersOnly.Resource, [
      "arn:aws:eks:eu-west-1:111122223333:cluster/platform-dev",
      ...["nodegroup", "addon", "fargateprofile", "access-entry", "podidentityassociation", "capability"]
        .concat("identityproviderconfig")
        .map((type) => `arn:aws:eks:eu-west-1:111122223333:${type}/platform-dev/*`),
    ]);
    assert.deepEqual(bySid.ClusterServicesInRegion.Condition, {
      StringEquals: { "aws:RequestedRegion": "eu-west-1" },
    });
    assert.equal(bySid.FoundationIsReadOnly.Effect, "Deny");
    assert.equal(bySid.NoAdminPolicies.Effect, "Deny");
    // No tag of a foundation resource (a shared subnet's kubernetes.io/* included) is writable by a deploy.
    assert.ok(!(bySid.FoundationIsReadOnly.NotAction as string[]).some((action) => action.includes("Tags")));
    assert.equal(bySid.FoundationLayerTagIsKept, undefined);
    const allowed = policy.Statement.filter((statement) => statement.Effect === "Allow").flatMap(
      (statement) => [statement.Action].flat() as string[],
    );
    assert.ok(!allowed.includes("*") && !allowed.includes("iam:*"));
    for (const action of ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateOpenIDConnectProvider"])
      assert.ok(!allowed.includes(action), action);
    // The CI roles carry ci-environment, not environment, and no boundary: no deploy role can edit them.
    const deploy = roleNamed(result, "platform-eu-west-1-dev-deploy");
    assert.equal((deploy.inputs.tags as Record<string, string>).environment, undefined);
    assert.equal((deploy.inputs.tags as Record<string, string>).layer, "foundation");
  });

  it("encrypts every log group (flow logs, runner logs) with the foundation key", () => {
    const key = single(result, "aws:kms/key:Key");
    const groups = ofType(result, "aws:cloudwatch/logGroup:LogGroup");
    assert.equal(groups.length, 4);
    for (const group of groups)
      assert.ok(group.propertyDependencies.kmsKeyId?.includes(key.urn), String(group.inputs.name));
  });

  it("is guarded on destroy: the check is deleted first, before the VPC, roles and runners", () => {
    const guard = single(result, "command:local:Command");
    assert.match(String(guard.inputs.delete), /ops\/foundation\/cli\.ts$/);
    assert.equal(guard.inputs.dir, "..");
    assert.equal(guard.inputs.create, undefined);
    for (const type of [
      "aws:ec2/vpc:Vpc",
      "aws:ec2/subnet:Subnet",
      "aws:codebuild/project:Project",
      "aws:iam/role:Role",
      "aws:ec2/natGateway:NatGateway",
    ])
      for (const resource of ofType(result, type))
        assert.ok(guard.dependencies.includes(resource.urn), `the guard must depend on ${resource.name}`);
  });

  it("costs nothing for idle runners and passes its policy pack", () => {
    const estimate = estimateMonthlyCost(result, { date: "2026-11-28" });
    const runners = estimate.lines.find((line) => line.item === "CodeBuild runners (idle)");
    assert.equal(runners?.monthly, 0);
    assert.equal(runners?.resources.length, 3);
    assert.ok(!estimate.notEstimated.some((item) => item.item.includes("codebuild")));
    const report = runPolicyPack(result, loadPackConfig(foundationName));
    assert.equal(report.mandatoryCount, 0, JSON.stringify(report.violations, null, 2));
  });
});

describe("cluster stacks on the foundation: errors naming the key and the fix", () => {
  let outputs: Record<string, unknown>;
  before(async () => {
    outputs = (await synthesizedStack(foundationName)).outputs;
  });
  const refused = async (
    options: Parameters<typeof synthesize>[1],
    key: string,
    message: RegExp,
  ): Promise<void> => {
    await assert.rejects(synthesize("dev", options), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      const problem = error.problems.find((candidate) => candidate.key === key);
      assert.ok(problem, `no problem for ${key}: ${error.message}`);
      assert.match(problem.message, message);
      return true;
    });
  };

  it("a foundation stack that does not exist", () =>
    refused(
      { overrides: { foundation: { stack: "organization/eks-gitops-foundation/eu-west-9" } } },
      "eks-gitops-platform:foundation.stack",
      /cannot read that foundation stack \(.*unknown stack.*\): it does not exist.*deploy the foundation first/,
    ));

  it("a foundation stack that was never deployed (no outputs)", () =>
    refused(
      { foundationOutputs: { [reference]: {} } },
      "eks-gitops-platform:foundation.stack",
      /it has no outputs .*run `pulumi up` of that foundation stack/,
    ));

  it("a foundation of contract version 1 (no role boundaries yet)", () => {
    const environments = outputs.environments as Record<string, Record<string, unknown>>;
    const withoutBoundaries = Object.fromEntries(
      Object.entries(environments).map(([name, { roleBoundaryArn: _, ...rest }]) => [name, rest]),
    );
    return refused(
      {
        foundationOutputs: {
          [reference]: { ...outputs, contractVersion: 1, environments: withoutBoundaries },
        },
      },
      "eks-gitops-platform:foundation.stack",
      /its contractVersion is 1, this program reads version 2.*run `pulumi up` of that foundation stack/,
    );
  });

  it("a foundation in another region", () =>
    refused(
      { foundationOutputs: { [reference]: { ...outputs, region: "us-east-1" } } },
      "aws:region",
      /the foundation organization\/eks-gitops-foundation\/eu-west-1 is in us-east-1/,
    ));

  it("a foundation in another account", () =>
    refused(
      { foundationOutputs: { [reference]: { ...outputs, accountId: "444455556666" } } },
      "eks-gitops-platform:foundation.stack",
      /that foundation is in account 444455556666, but these credentials are for account 111122223333/,
    ));

  it("a cluster CIDR plan that does not fit the foundation's VPC", async () => {
    await refused(
      { overrides: { network: { vpcCidr: "10.80.0.0/16" } } },
      "eks-gitops-platform:network.vpcCidr",
      /is not one of the foundation's cluster blocks \(10\.40\.0\.0\/16, 10\.50\.0\.0\/16, 10\.60\.0\.0\/16, 10\.70\.0\.0\/16\).*add 10\.80\.0\.0\/16 to eks-gitops-foundation:network\.clusterCidrs in foundation\/Pulumi\.eu-west-1\.yaml/,
    );
    await refused(
      { overrides: { network: { vpcCidr: "10.0.0.0/16" } } },
      "eks-gitops-platform:network.vpcCidr",
      /and overlaps 10\.0\.0\.0\/20/,
    );
    await refused(
      { overrides: { network: { availabilityZoneCount: 4 } } },
      "eks-gitops-platform:network.availabilityZoneCount",
      /the foundation spans 3 AZs/,
    );
  });

  it("a cluster its environment's deploy role does not own (not in environments.<env>.clusters)", () => {
    const environments = outputs.environments as Record<string, Record<string, unknown>>;
    return refused(
      {
        foundationOutputs: {
          [reference]: {
            ...outputs,
            environments: { ...environments, dev: { ...environments.dev, clusters: [] } },
          },
        },
      },
      "eks-gitops-platform:cluster.name",
      /may create and pass only the IAM roles of the clusters listed in eks-gitops-foundation:environments\.dev\.clusters \(none\); add platform-dev there in foundation\/Pulumi\.eu-west-1\.yaml/,
    );
  });

  it("a foundation that gives one cluster's roles to two environments", () => {
    const raw = {
      accountId: "111122223333",
      github: {
        repository: "acme/eks-gitops-platform",
        connectionArn:
          "arn:aws:codeconnections:eu-west-1:111122223333:connection/00000000-0000-4000-8000-000000000000",
        runnerActorIds: [583231],
      },
      environments: { dev: { clusters: ["platform"] }, prod: { clusters: ["platform-prod"] } },
    };
    assert.throws(
      () =>
        resolveFoundationConfig(raw, {
          project: "eks-gitops-foundation",
          stack: "eu-west-1",
          region: "eu-west-1",
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.problems[0].key, "eks-gitops-foundation:environments.dev.clusters.0");
        assert.match(
          error.problems[0].message,
          /its roles \(platform-\*\) would include those of platform-prod in prod/,
        );
        return true;
      },
    );
  });

  it("a runner missing for the stack's environment", () =>
    refused(
      {
        foundationOutputs: {
          [reference]: {
            ...outputs,
            environments: { prod: (outputs.environments as Record<string, unknown>).prod },
          },
        },
      },
      "eks-gitops-platform:environment",
      /the foundation has no runner and no CI roles for dev \(it serves prod\); add `dev: \{\}` under eks-gitops-foundation:environments/,
    ));
});

describe("deploy policy size: an environment with too many clusters fails before AWS refuses it", () => {
  const policy = (clusters: string[]) =>
    clusterDeployPolicy({
      partition: "aws",
      accountId: "111122223333",
      namePrefix: "platform-eu-west-1",
      environments: ["dev", "staging", "prod"],
      region: "eu-west-1",
      environment: "dev",
      clusters,
      state: {},
    });
  const fix = "list fewer clusters under eks-gitops-foundation:environments.dev.clusters";

  it("passes a one-cluster environment through as its JSON", () => {
    const document = policy(["platform-dev"]);
    assert.equal(
      policyWithinQuota(document, iamPolicyQuota.inlinePerRole, "dev", fix),
      JSON.stringify(document),
    );
  });

  it("refuses the policy of an environment listing 12 clusters, naming the size, the quota and the key", () => {
    const many = Array.from({ length: 12 }, (_, index) => `platform-dev-${index}`);
    assert.throws(
      () => policyWithinQuota(policy(many), iamPolicyQuota.inlinePerRole, "the dev deploy policy", fix),
      /the dev deploy policy is \d+ characters, over IAM's limit of 10240 \(whitespace not counted\): list fewer clusters under eks-gitops-foundation:environments\.dev\.clusters/,
    );
  });
});
