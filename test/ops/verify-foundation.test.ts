import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  BatchGetProjectsCommand,
  CodeBuildClient,
  CreateProjectCommand,
  DeleteProjectCommand,
} from "@aws-sdk/client-codebuild";
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AssociateVpcCidrBlockCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteTagsCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ReplaceRouteCommand,
  RevokeSecurityGroupEgressCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  IAMClient,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  environmentSubject,
  githubOidcUrl,
  githubTrustPolicy,
  pullRequestSubject,
  roleBoundaryPolicy,
  stsAudience,
} from "../../infra/foundation/ci-policies";
import {
  ciNames,
  foundationContractVersion,
  FoundationEnvironmentOutputs,
  foundationGitHubEnvironment,
  FoundationOutputs,
} from "../../infra/foundation/contract";
import { serviceTrustPolicy } from "../../infra/identity/trust-policy";
import { PlannedSubnet, planSubnets } from "../../infra/network/plan";
import {
  checkFoundationStack,
  FoundationObservation,
  githubTrustDrift,
  oidcProviderArn,
} from "../../ops/verify/foundation";
import { FoundationSdkInventory } from "../../ops/verify/foundation-inventory";
import {
  readFoundationOutputs,
  readFoundationStackConfig,
  verifyFoundation,
} from "../../ops/verify/foundation-stack";
import { requireTool } from "../support/tools";
import { Moto, runVerify, startMoto, useFakeCredentials } from "./moto";

/**
 * `npm run verify -- --foundation <stack> --outputs <file>` against moto_server, driven by the shipped foundation
 * stack file (foundation/Pulumi.eu-west-1.yaml) and the outputs of what a `pulumi up` of it creates, seeded here with
 * the program's own layout (planSubnets, ciNames, githubTrustPolicy). moto runs as the file's account.
 *
 * What moto cannot do, and how the report says so: it has no CodeBuild webhook API (no CreateWebhook), so its runner
 * projects truly have no webhook and the check reports that drift (the pass path is tested below on the shape
 * BatchGetProjects returns); it ignores a project's encryptionKey (always alias/aws/s3), an advisory warning.
 */

const stack = "eu-west-1";
const config = readFoundationStackConfig(stack);
const region = config.region;
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

async function seedFoundation(endpoint: string): Promise<FoundationOutputs> {
  const client = { region, endpoint, credentials };
  const ec2 = new EC2Client(client);
  const iam = new IAMClient(client);
  const logs = new CloudWatchLogsClient(client);
  const codebuild = new CodeBuildClient(client);
  const key = (await new KMSClient(client).send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? "";
  const tags = (extra: Record<string, string> = {}) =>
    Object.entries({ ...config.tags, ...extra }).map(([Key, Value]) => ({ Key, Value }));
  const zones = ["a", "b", "c"].map((zone) => `${region}${zone}`);
  const plan = planSubnets({
    vpcCidr: config.network.vpcCidr,
    availabilityZones: zones,
    privatePrefix: config.network.runnerSubnetPrefix,
    publicPrefix: config.network.publicSubnetPrefix,
  });

  const vpcId =
    (
      await ec2.send(
        new CreateVpcCommand({
          CidrBlock: config.network.vpcCidr,
          TagSpecifications: [{ ResourceType: "vpc", Tags: tags({ Name: config.namePrefix }) }],
        }),
      )
    ).Vpc?.VpcId ?? "";
  for (const block of config.network.clusterCidrs)
    await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: block }));
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway?.InternetGatewayId ?? "";
  await ec2.send(new AttachInternetGatewayCommand({ VpcId: vpcId, InternetGatewayId: igw }));
  const publicTable = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable
    ?.RouteTableId;
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: publicTable, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }),
  );
  const subnet = async (planned: PlannedSubnet, extraTags: Record<string, string>) =>
    (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: planned.cidr,
          AvailabilityZone: planned.availabilityZone,
          TagSpecifications: [{ ResourceType: "subnet", Tags: tags(extraTags) }],
        }),
      )
    ).Subnet?.SubnetId ?? "";
  const publicSubnetIds: string[] = [];
  const natGatewayIds: string[] = [];
  for (const planned of plan.public) {
    const id = await subnet(planned, { "kubernetes.io/role/elb": "1" });
    publicSubnetIds.push(id);
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: publicTable, SubnetId: id }));
    const allocation = (await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }))).AllocationId;
    natGatewayIds.push(
      (await ec2.send(new CreateNatGatewayCommand({ SubnetId: id, AllocationId: allocation }))).NatGateway
        ?.NatGatewayId ?? "",
    );
  }
  const runnerSubnetIds: string[] = [];
  for (const [index, planned] of plan.private.entries()) {
    const id = await subnet(planned, { tier: "runner" });
    runnerSubnetIds.push(id);
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable?.RouteTableId;
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: table,
        DestinationCidrBlock: "0.0.0.0/0",
        NatGatewayId: natGatewayIds[index],
      }),
    );
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: id }));
  }
  await ec2.send(
    new CreateFlowLogsCommand({
      ResourceIds: [vpcId],
      ResourceType: "VPC",
      TrafficType: "ALL",
      LogDestinationType: "cloud-watch-logs",
      LogGroupName: `/aws/vpc/${config.namePrefix}/flow-logs`,
      DeliverLogsPermissionArn: `arn:aws:iam::${config.accountId}:role/flow-logs`,
    }),
  );

  const provider =
    (
      await iam.send(
        new CreateOpenIDConnectProviderCommand({
          Url: githubOidcUrl,
          ClientIDList: [stsAudience],
          ThumbprintList: ["6938fd4d98bab03faadb97b34396831e3780aea1"],
        }),
      )
    ).OpenIDConnectProviderArn ?? "";
  assert.equal(provider, oidcProviderArn(config));
  const role = async (name: string, trust: string) =>
    (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }))).Role?.Arn ??
    "";
  const github = (subject: string) => JSON.stringify(githubTrustPolicy(provider, subject));
  const own = ciNames(config.namePrefix, "foundation");
  await role(
    own.deployRole,
    github(environmentSubject(config.github.repository, foundationGitHubEnvironment(stack))),
  );
  await role(own.previewRole, github(pullRequestSubject(config.github.repository)));

  const environments: Record<string, FoundationEnvironmentOutputs> = {};
  for (const environment of config.environments) {
    const names = ciNames(config.namePrefix, environment.name);
    const group =
      (
        await ec2.send(
          new CreateSecurityGroupCommand({
            VpcId: vpcId,
            GroupName: names.runnerProject,
            Description: "runner: no ingress, HTTPS out",
          }),
        )
      ).GroupId ?? "";
    // As Pulumi does for aws.ec2.SecurityGroup: the default allow-all egress goes, the declared rule comes.
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: group,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        ],
      }),
    );
    const logGroupName = `/aws/codebuild/${names.runnerProject}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName, kmsKeyId: key }));
    await logs.send(
      new PutRetentionPolicyCommand({ logGroupName, retentionInDays: config.runner.logRetentionDays }),
    );
    const runnerRole = await role(names.runnerRole, serviceTrustPolicy("codebuild.amazonaws.com", false));
    await codebuild.send(
      new CreateProjectCommand({
        name: names.runnerProject,
        serviceRole: runnerRole,
        source: { type: "GITHUB", location: `https://github.com/${config.github.repository}.git` },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: config.runner.computeType,
          image: config.runner.image,
        },
        vpcConfig: { vpcId, subnets: runnerSubnetIds, securityGroupIds: [group] },
        logsConfig: { cloudWatchLogs: { status: "ENABLED", groupName: logGroupName } },
        encryptionKey: key,
      }),
    );
    const boundary = roleBoundaryPolicy({
      partition: "aws",
      accountId: config.accountId,
      namePrefix: config.namePrefix,
      environments: config.environments.map((entry) => entry.name),
      region,
      environment: environment.name,
      clusters: environment.clusters,
    });
    const roleBoundaryArn =
      (
        await iam.send(
          new CreatePolicyCommand({
            PolicyName: names.roleBoundary,
            PolicyDocument: JSON.stringify(boundary),
          }),
        )
      ).Policy?.Arn ?? "";
    environments[environment.name] = {
      roleBoundaryArn,
      runnerProject: names.runnerProject,
      runnerSecurityGroupId: group,
      deployRoleArn: await role(
        names.deployRole,
        github(environmentSubject(config.github.repository, environment.name)),
      ),
      previewRoleArn: await role(names.previewRole, github(pullRequestSubject(config.github.repository))),
      previewClusterAccess: environment.previewClusterAccess,
      clusters: environment.clusters,
    };
  }
  return {
    contractVersion: foundationContractVersion,
    accountId: config.accountId,
    region,
    vpcId,
    vpcCidr: config.network.vpcCidr,
    clusterCidrs: config.network.clusterCidrs,
    availabilityZones: zones,
    publicSubnetIds,
    runnerSubnetIds,
    natGatewayIds,
    s3EndpointId: "vpce-0123",
    environments,
  };
}

describe("npm run verify -- --foundation against moto_server (the real CLI)", function () {
  this.timeout(240_000);
  let moto: Moto;
  let restoreEnv: () => void;
  let outputs: FoundationOutputs;
  let dir: string;
  let outputsFile: string;
  const dev = () => outputs.environments.dev as FoundationEnvironmentOutputs;
  const inProcess = () =>
    verifyFoundation(config, outputs, new FoundationSdkInventory({ region, endpoint: moto.endpoint }));
  const finding = async (check: string) => {
    const { findings } = await inProcess();
    const found = findings.find((candidate) => candidate.check === check);
    assert.ok(found, `no finding ${check} among ${findings.map((candidate) => candidate.check).join(", ")}`);
    return found;
  };

  before(async function () {
    requireTool(this, "moto_server");
    restoreEnv = useFakeCredentials();
    // moto answers as the account of the shipped foundation stack file.
    const account = process.env.MOTO_ACCOUNT_ID;
    process.env.MOTO_ACCOUNT_ID = config.accountId;
    try {
      moto = await startMoto();
    } finally {
      if (account === undefined) delete process.env.MOTO_ACCOUNT_ID;
      else process.env.MOTO_ACCOUNT_ID = account;
    }
    outputs = await seedFoundation(moto.endpoint);
    dir = mkdtempSync(join(tmpdir(), "verify-foundation-"));
    outputsFile = join(dir, "outputs.json");
    writeFileSync(outputsFile, JSON.stringify(outputs, null, 2));
  });
  after(async () => {
    await moto?.stop();
    restoreEnv?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("checks every promise the outputs name, and reports what moto cannot hold instead of passing it", () => {
    const { status, stdout, stderr } = runVerify(moto, ["--foundation", stack, "--outputs", outputsFile]);
    assert.doesNotMatch(stderr, /^verify:/m, `no error escaped the CLI\n${stderr}`);
    assert.match(stdout, /^Live check of stack foundation\/eu-west-1: \d+ checks/);
    for (const line of [
      "ok    stack outputs match the stack file",
      `ok    VPC ${outputs.vpcId}`,
      "ok    VPC blocks",
      "ok    VPC tags",
      "ok    runner subnets:",
      "ok    runner subnets route out through NAT only: no public path",
      "ok    public subnets",
      "ok    VPC flow logs",
      "ok    GitHub OIDC provider",
      `ok    runner ${dev().runnerProject} placement`,
      `ok    runner ${dev().runnerProject} source`,
      `ok    runner ${dev().runnerProject} service role`,
      `ok    runner ${dev().runnerProject} logs`,
      `ok    runner security group ${dev().runnerSecurityGroupId}`,
      `ok    role boundary ${config.namePrefix}-dev-role-boundary: the program's document`,
      `ok    role boundary ${config.namePrefix}-prod-role-boundary: the program's document`,
      `ok    IAM role ${config.namePrefix}-dev-runner trust`,
      `ok    IAM role ${config.namePrefix}-dev-deploy (dev deploy) trust: exactly that`,
      `ok    IAM role ${config.namePrefix}-prod-preview (prod preview) trust: exactly that`,
      `ok    IAM role ${config.namePrefix}-foundation-deploy (foundation deploy) trust: exactly that`,
    ])
      assert.ok(stdout.includes(line), `missing "${line}" in\n${stdout}`);
    // moto has no webhook API: its projects have none, and the report says so as drift, never as a pass.
    assert.match(
      stdout,
      new RegExp(`^DRIFT runner ${dev().runnerProject} webhook: .*no webhook: queued jobs never start`, "m"),
    );
    assert.match(
      stdout,
      new RegExp(`^warn  runner ${dev().runnerProject} encryption key: .*alias/aws/s3`, "m"),
    );
    assert.equal(status, 1, "a missing webhook is a mandatory drift");
  });

  it("reads the outputs from stdin too, and names a bad outputs file and the command that writes it", () => {
    const piped = runVerify(moto, ["--foundation", stack, "--outputs", "-"], JSON.stringify(outputs));
    assert.match(piped.stdout, /^ok {4}stack outputs match the stack file/m, piped.stderr);
    const missing = runVerify(moto, ["--foundation", stack]);
    assert.equal(missing.status, 2);
    assert.match(
      missing.stderr,
      /--outputs is required with --foundation: write them with `pulumi stack output --json/,
    );
    const unknown = runVerify(moto, ["--foundation", "mars-1", "--outputs", outputsFile]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no foundation\/Pulumi\.mars-1\.yaml: foundation stacks here are eu-west-1/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, "no stack trace");
    assert.throws(
      () => readFoundationOutputs(JSON.stringify({ vpcId: "vpc-1" }), "old.json", stack),
      /old\.json is not a foundation's outputs: it lacks the output\(s\) contractVersion.*pulumi stack output --json --stack <organization>\/eks-gitops-foundation\/eu-west-1/,
    );
    assert.throws(() => readFoundationOutputs("{", "-", stack), /standard input is not JSON/);
  });

  it("a runner security group opened to ingress, or to more than HTTPS out, is mandatory drift", async () => {
    const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials });
    const group = (outputs.environments.staging as FoundationEnvironmentOutputs).runnerSecurityGroupId;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const drift = await finding(`runner security group ${group}`);
    assert.equal(drift.ok, false);
    assert.match(drift.actual, /tcp 22-22 from 0\.0\.0\.0\/0/);
    assert.equal((await finding(`runner security group ${dev().runnerSecurityGroupId}`)).ok, true);
  });

  it("a runner subnet that lost its layer=foundation tag is mandatory drift", async () => {
    const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials });
    assert.equal((await finding("runner subnets")).ok, true);
    await ec2.send(
      new DeleteTagsCommand({ Resources: [outputs.runnerSubnetIds[0]], Tags: [{ Key: "layer" }] }),
    );
    const drift = await finding("runner subnets");
    assert.equal(drift.ok, false);
    assert.match(drift.actual, new RegExp(outputs.runnerSubnetIds[0]));
  });

  it("a role boundary widened by hand (a new default version) is mandatory drift", async () => {
    const iam = new IAMClient({ region, endpoint: moto.endpoint, credentials });
    const staging = outputs.environments.staging as FoundationEnvironmentOutputs;
    await iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: staging.roleBoundaryArn,
        SetAsDefault: true,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
        }),
      }),
    );
    const drift = await finding(`role boundary ${config.namePrefix}-staging-role-boundary`);
    assert.equal(drift.ok, false);
    assert.match(drift.actual, /a different document/);
    assert.equal((await finding(`role boundary ${config.namePrefix}-dev-role-boundary`)).ok, true);
  });

  it("a runner subnet routed to the internet gateway is a public path, even beside a NAT default route", async () => {
    const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials });
    const tableOf = async (subnetId: string) =>
      (
        await ec2.send(
          new DescribeRouteTablesCommand({
            Filters: [{ Name: "association.subnet-id", Values: [subnetId] }],
          }),
        )
      ).RouteTables?.[0]?.RouteTableId;
    const igw = (
      await ec2.send(
        new DescribeInternetGatewaysCommand({
          Filters: [{ Name: "attachment.vpc-id", Values: [outputs.vpcId] }],
        }),
      )
    ).InternetGateways?.[0]?.InternetGatewayId;
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: await tableOf(outputs.runnerSubnetIds[1]),
        DestinationCidrBlock: "203.0.113.0/24",
        GatewayId: igw,
      }),
    );
    await ec2.send(
      new ReplaceRouteCommand({
        RouteTableId: await tableOf(outputs.runnerSubnetIds[2]),
        DestinationCidrBlock: "0.0.0.0/0",
        GatewayId: igw,
      }),
    );
    const drift = await finding("runner subnets route out through NAT only");
    assert.equal(drift.ok, false);
    assert.match(drift.actual, new RegExp(`${outputs.runnerSubnetIds[1]}: 203\\.0\\.113\\.0/24 → igw-`));
    assert.match(drift.actual, new RegExp(`${outputs.runnerSubnetIds[2]}: 0\\.0\\.0\\.0/0 → igw-`));
  });

  it("a CI role trusting any branch (StringLike sub) or a runner moved to a public subnet is mandatory drift", async () => {
    const iam = new IAMClient({ region, endpoint: moto.endpoint, credentials });
    const loose = githubTrustPolicy(
      oidcProviderArn(config),
      "repo:acme/eks-gitops-platform:*",
    ) as unknown as {
      Statement: { Condition: Record<string, Record<string, string>> }[];
    };
    const condition = loose.Statement[0].Condition;
    condition.StringLike = {
      "token.actions.githubusercontent.com:sub":
        condition.StringEquals["token.actions.githubusercontent.com:sub"],
    };
    delete condition.StringEquals["token.actions.githubusercontent.com:sub"];
    const deployRole = `${config.namePrefix}-prod-deploy`;
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: deployRole, PolicyDocument: JSON.stringify(loose) }),
    );
    const trust = await finding(`IAM role ${deployRole} (prod deploy) trust`);
    assert.equal(trust.ok, false);
    assert.match(trust.actual, /StringLike/);

    // moto has no UpdateProject: the prod runner is re-created in a public subnet instead.
    const codebuild = new CodeBuildClient({ region, endpoint: moto.endpoint, credentials });
    const prod = outputs.environments.prod as FoundationEnvironmentOutputs;
    const [project] =
      (await codebuild.send(new BatchGetProjectsCommand({ names: [prod.runnerProject] }))).projects ?? [];
    await codebuild.send(new DeleteProjectCommand({ name: prod.runnerProject }));
    await codebuild.send(
      new CreateProjectCommand({
        name: prod.runnerProject,
        serviceRole: project.serviceRole,
        source: project.source,
        artifacts: project.artifacts,
        environment: project.environment,
        logsConfig: project.logsConfig,
        vpcConfig: {
          ...project.vpcConfig,
          subnets: [outputs.runnerSubnetIds[0], outputs.publicSubnetIds[0]],
        },
      }),
    );
    const placement = await finding(`runner ${prod.runnerProject} placement`);
    assert.equal(placement.ok, false);
    assert.match(placement.actual, new RegExp(`not runner subnets: ${outputs.publicSubnetIds[0]}`));
  });
});

describe("ops/verify foundation checks on what moto cannot hold", () => {
  const environmentOutputs: FoundationEnvironmentOutputs = {
    runnerProject: "platform-eu-west-1-dev-runner",
    runnerSecurityGroupId: "sg-runner",
    deployRoleArn: "arn:aws:iam::111122223333:role/platform-eu-west-1-dev-deploy",
    previewRoleArn: "arn:aws:iam::111122223333:role/platform-eu-west-1-dev-preview",
    roleBoundaryArn: "arn:aws:iam::111122223333:policy/platform-eu-west-1-dev-role-boundary",
    previewClusterAccess: "admin",
    clusters: ["platform-dev"],
  };
  const outputs: FoundationOutputs = {
    contractVersion: foundationContractVersion,
    accountId: config.accountId,
    region,
    vpcId: "vpc-1",
    vpcCidr: config.network.vpcCidr,
    clusterCidrs: config.network.clusterCidrs,
    availabilityZones: [],
    publicSubnetIds: [],
    runnerSubnetIds: ["subnet-r1"],
    natGatewayIds: [],
    s3EndpointId: "vpce-1",
    environments: { dev: environmentOutputs },
  };
  const observed = (webhook: { filterGroups: { type: string; pattern: string }[][] } | undefined) =>
    ({
      subnets: [],
      routeTables: [],
      environments: [
        {
          name: "dev",
          outputs: environmentOutputs,
          project: {
            name: environmentOutputs.runnerProject,
            serviceRole: "",
            sourceType: "GITHUB",
            sourceLocation: "",
            vpcId: "vpc-1",
            subnetIds: ["subnet-r1"],
            securityGroupIds: ["sg-runner"],
            webhook,
          },
        },
      ],
      foundationRoles: {},
      notChecked: [],
    }) satisfies FoundationObservation;
  const webhookFinding = (observation: FoundationObservation) =>
    checkFoundationStack(config, outputs, observation).find(
      (finding) => finding.check === `runner ${environmentOutputs.runnerProject} webhook`,
    );

  it("passes exactly the program's webhook filter groups (BatchGetProjects' shape): EVENT alone or none fails", () => {
    const actor = { type: "ACTOR_ACCOUNT_ID", pattern: `^(${config.github.runnerActorIds.join("|")})$` };
    const queued = { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" };
    assert.equal(webhookFinding(observed({ filterGroups: [[actor, queued]] }))?.ok, true);
    // Any account's queued job (a fork's pull request naming the label) would start a build in the VPC.
    const open = webhookFinding(observed({ filterGroups: [[queued]] }));
    assert.equal(open?.ok, false);
    assert.match(open?.expected ?? "", /ACTOR_ACCOUNT_ID/);
    assert.equal(
      webhookFinding(observed({ filterGroups: [[{ type: "EVENT", pattern: "PUSH" }, actor]] }))?.ok,
      false,
    );
    assert.equal(webhookFinding(observed(undefined))?.ok, false);
  });

  it("reports an endpoint without the CodeBuild API as not checked, not as a missing runner", () => {
    const findings = checkFoundationStack(config, outputs, {
      ...observed(undefined),
      notChecked: [
        { check: "runner CodeBuild projects", reason: "codebuild:BatchGetProjects is not supported" },
      ],
    });
    assert.ok(
      !findings.some((finding) => finding.check.startsWith(`runner ${environmentOutputs.runnerProject}`)),
    );
    assert.ok(findings.some((finding) => finding.notChecked && /BatchGetProjects/.test(finding.actual)));
  });

  it("accepts exactly the program's trust policy, whatever the key order or one-element arrays", () => {
    const provider = oidcProviderArn(config);
    const subject = pullRequestSubject(config.github.repository);
    const exact = githubTrustPolicy(provider, subject);
    assert.deepEqual(githubTrustDrift(JSON.stringify(exact), provider, subject), []);
    // Keys in another order, one-element arrays, a Sid: the same policy to IAM.
    const reordered = {
      Statement: [
        {
          Condition: exact.Statement[0].Condition,
          Action: ["sts:AssumeRoleWithWebIdentity"],
          Principal: { Federated: [provider] },
          Effect: "Allow",
          Sid: "GitHub",
        },
      ],
      Version: "2012-10-17",
    };
    assert.deepEqual(githubTrustDrift(JSON.stringify(reordered), provider, subject), []);
    const otherSubject = githubTrustDrift(
      JSON.stringify(exact),
      provider,
      environmentSubject("acme/x", "prod"),
    );
    assert.equal(otherSubject.length, 1);
    const extra = {
      ...exact,
      Statement: [...exact.Statement, { Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
    };
    assert.equal(githubTrustDrift(JSON.stringify(extra), provider, subject).length, 1);
  });
});
