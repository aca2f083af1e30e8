import { strict as assert } from "node:assert";
import {
  ciRunnerLogsEncrypted,
  ciRunnerPrivateSubnets,
  ciRunnerRoleNotAdmin,
} from "../../policies/ci-runner";
import { runPolicyPack, loadPackConfig } from "../../policies/harness";
import type { SynthResult } from "../../synth/types";
import { synthesizedStack } from "../support/stacks";
import { StackResourceSpec, validateStack } from "./support";

/** The in-VPC runner rules: one compliant runner, then one mistake at a time, each with its exact message. */

const runner = (changes: Record<string, unknown> = {}): StackResourceSpec => ({
  type: "aws:codebuild/project:Project",
  name: "runner-dev",
  props: {
    name: "platform-dev-runner",
    serviceRole: "arn:aws:iam::111122223333:role/platform-dev-runner",
    vpcConfig: { vpcId: "vpc-1", subnets: ["subnet-1"], securityGroupIds: ["sg-1"] },
    encryptionKey: "arn:aws:kms:eu-west-1:111122223333:key/k",
    logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: "/aws/codebuild/platform-dev-runner" } },
    ...changes,
  },
  propertyDependencies: { serviceRole: ["runner-role"], vpcConfig: ["runner-a"] },
});
const role: StackResourceSpec = { type: "aws:iam/role:Role", name: "runner-role", props: {} };
const subnet = (props: Record<string, unknown> = {}): StackResourceSpec => ({
  type: "aws:ec2/subnet:Subnet",
  name: "runner-a",
  props: { mapPublicIpOnLaunch: false, tags: { tier: "runner" }, ...props },
});
const logGroup = (props: Record<string, unknown> = {}): StackResourceSpec => ({
  type: "aws:cloudwatch/logGroup:LogGroup",
  name: "runner-logs",
  props: {
    name: "/aws/codebuild/platform-dev-runner",
    kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/k",
    ...props,
  },
});
const inline = (actions: string[]): StackResourceSpec => ({
  type: "aws:iam/rolePolicy:RolePolicy",
  name: "runner-inline",
  props: {
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: actions, Resource: "*" }],
    }),
  },
  propertyDependencies: { role: ["runner-role"] },
});
const compliant = [
  runner(),
  role,
  subnet(),
  logGroup(),
  inline(["logs:PutLogEvents", "ec2:CreateNetworkInterface"]),
];
const messages = (policy: Parameters<typeof validateStack>[0], specs: StackResourceSpec[]) =>
  validateStack(policy, specs).map((violation) => violation.message);

describe("policies/ci-runner", () => {
  it("passes a runner as the foundation declares it", () => {
    for (const policy of [ciRunnerRoleNotAdmin, ciRunnerPrivateSubnets, ciRunnerLogsEncrypted])
      assert.deepEqual(messages(policy, compliant), [], policy.name);
  });

  it("ci-runner-role-not-admin: admin managed policies and escalating inline actions", () => {
    const attachment: StackResourceSpec = {
      type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
      name: "runner-admin",
      props: { policyArn: "arn:aws:iam::aws:policy/PowerUserAccess" },
      propertyDependencies: { role: ["runner-role"] },
    };
    assert.deepEqual(messages(ciRunnerRoleNotAdmin, [...compliant, attachment]), [
      "The runner role of runner-dev has arn:aws:iam::aws:policy/PowerUserAccess attached: any pull request could act with it; detach it (jobs assume their environment's role by OIDC).",
    ]);
    assert.deepEqual(
      messages(ciRunnerRoleNotAdmin, [
        runner(),
        role,
        subnet(),
        logGroup(),
        inline(["logs:PutLogEvents", "iam:PassRole", "sts:AssumeRole"]),
      ]),
      [
        "The runner role of runner-dev allows iam:PassRole, sts:AssumeRole: a pull request could escalate through it; keep logs, network-interface, connection and key actions only.",
      ],
    );
  });

  it("ci-runner-private-subnets: outside the VPC, public IPs, an internet gateway route", () => {
    assert.deepEqual(messages(ciRunnerPrivateSubnets, [runner({ vpcConfig: undefined }), role]), [
      "CodeBuild project runner-dev has no vpcConfig: its builds run outside the VPC, cannot reach the private API endpoint and leave from AWS-owned addresses; set vpcConfig with the private runner subnets and a security group.",
    ]);
    assert.deepEqual(
      messages(ciRunnerPrivateSubnets, [runner(), role, subnet({ mapPublicIpOnLaunch: true })]),
      [
        "CodeBuild project runner-dev runs in subnet runner-a, which maps public IPs on launch; use private subnets (egress through NAT, no public IPs).",
      ],
    );
    const viaIgw: StackResourceSpec[] = [
      runner(),
      role,
      subnet(),
      { type: "aws:ec2/internetGateway:InternetGateway", name: "igw", props: {} },
      { type: "aws:ec2/routeTable:RouteTable", name: "rt", props: {} },
      {
        type: "aws:ec2/route:Route",
        name: "rt-internet",
        props: { destinationCidrBlock: "0.0.0.0/0" },
        propertyDependencies: { routeTableId: ["rt"], gatewayId: ["igw"] },
      },
      {
        type: "aws:ec2/routeTableAssociation:RouteTableAssociation",
        name: "rt-a",
        props: {},
        propertyDependencies: { routeTableId: ["rt"], subnetId: ["runner-a"] },
      },
    ];
    assert.deepEqual(messages(ciRunnerPrivateSubnets, viaIgw), [
      "CodeBuild project runner-dev runs in subnet runner-a, which routes to an internet gateway; use private subnets (egress through NAT, no public IPs).",
    ]);
  });

  it("ci-runner-logs-encrypted: no customer key, an unencrypted or missing log group", () => {
    assert.deepEqual(
      messages(ciRunnerLogsEncrypted, [runner({ encryptionKey: undefined }), role, subnet(), logGroup()]),
      [
        "CodeBuild project runner-dev has no customer encryptionKey (undefined); set it to the foundation's KMS key.",
      ],
    );
    assert.deepEqual(
      messages(ciRunnerLogsEncrypted, [runner(), role, subnet(), logGroup({ kmsKeyId: undefined })]),
      [
        "CodeBuild project runner-dev logs to log group runner-logs without kmsKeyId; create the log group with kmsKeyId and name it in logsConfig.cloudwatchLogs.groupName.",
      ],
    );
    assert.equal(messages(ciRunnerLogsEncrypted, [runner(), role, subnet()]).length, 1);
  });

  it("catches an admin runner role in the synthesized foundation, which otherwise passes", async () => {
    const foundation = JSON.parse(
      JSON.stringify(await synthesizedStack("foundation-eu-west-1")),
    ) as SynthResult;
    const config = loadPackConfig("foundation-eu-west-1");
    assert.equal(runPolicyPack(foundation, config).mandatoryCount, 0);
    const runnerPolicy = foundation.resources.find(
      (resource) => resource.type === "aws:iam/rolePolicy:RolePolicy" && resource.name === "runner-dev",
    );
    assert.ok(runnerPolicy);
    (runnerPolicy.inputs as Record<string, unknown>).policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "iam:*", Resource: "*" }],
    });
    const report = runPolicyPack(foundation, config);
    assert.deepEqual(
      [...new Set(report.violations.map((violation) => violation.policy))],
      // iam:* on every resource is admin in two steps for any role, a runner's included.
      ["iam-no-admin-access", "ci-runner-role-not-admin"],
    );
  });
});
