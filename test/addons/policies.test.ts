import { strict as assert } from "node:assert";
import { addonAwsPlan } from "../../infra/addons";
import {
  ciliumOperatorPolicy,
  eventPattern,
  interruptionEvents,
  interruptionQueuePolicy,
  karpenterControllerPolicy,
} from "../../infra/addons/policies";
import { resolvePlatformConfig } from "../../infra/config";

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const statements = (document: string) =>
  (JSON.parse(document) as { Version: string; Statement: Statement[] }).Statement;
const actions = (statement: Statement) => ([] as string[]).concat(statement.Action);

const karpenterArgs = {
  partition: "aws",
  region: "eu-west-1",
  accountId: "111122223333",
  clusterName: "demo",
  clusterArn: "arn:aws:eks:eu-west-1:111122223333:cluster/demo",
  nodeRoleArn: "arn:aws:iam::111122223333:role/demo-karpenter-node",
  interruptionQueueArn: "arn:aws:sqs:eu-west-1:111122223333:demo-karpenter",
};

describe("add-ons' AWS side", () => {
  it("Karpenter may pass only its node role, to EC2 only", () => {
    const passRole = statements(karpenterControllerPolicy(karpenterArgs)).filter((statement) =>
      actions(statement).includes("iam:PassRole"),
    );
    assert.equal(passRole.length, 1);
    assert.equal(passRole[0].Resource, karpenterArgs.nodeRoleArn);
    assert.deepEqual(passRole[0].Condition, {
      StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com"] },
    });
  });

  it("Karpenter terminates and tags only instances owned by this cluster, and reads only its own queue", () => {
    const all = statements(karpenterControllerPolicy(karpenterArgs));
    const ownedTag = "kubernetes.io/cluster/demo";
    const mutating = all.filter((candidate) =>
      actions(candidate).some((action) =>
        ["ec2:CreateTags", "ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"].includes(action),
      ),
    );
    assert.deepEqual(
      mutating.map((statement) => statement.Sid),
      ["AllowScopedResourceCreationTagging", "AllowScopedResourceTagging", "AllowScopedDeletion"],
    );
    const [creationTagging, ...onExisting] = mutating;
    // Tags on resources being created: only with the owned tag in the request, and only as part of a launch.
    assert.equal(creationTagging.Condition?.StringEquals?.[`aws:RequestTag/${ownedTag}`], "owned");
    assert.deepEqual(creationTagging.Condition?.StringEquals?.["ec2:CreateAction"], [
      "RunInstances",
      "CreateFleet",
      "CreateLaunchTemplate",
    ]);
    // Tagging and deleting existing resources: only those already owned by this cluster.
    for (const statement of onExisting) {
      assert.equal(statement.Effect, "Allow", statement.Sid);
      assert.equal(
        statement.Condition?.StringEquals?.[`aws:ResourceTag/${ownedTag}`],
        "owned",
        statement.Sid,
      );
    }
    const sqs = all.filter((statement) => actions(statement).some((action) => action.startsWith("sqs:")));
    assert.deepEqual(
      sqs.map((statement) => statement.Resource),
      [karpenterArgs.interruptionQueueArn],
    );
    for (const statement of all)
      assert.ok(!actions(statement).some((action) => action.endsWith(":*")), statement.Sid);
  });

  it("the interruption queue takes EventBridge messages and refuses non-TLS access", () => {
    const [allow, deny] = statements(interruptionQueuePolicy(karpenterArgs.interruptionQueueArn));
    assert.deepEqual(actions(allow), ["sqs:SendMessage"]);
    assert.equal(deny.Effect, "Deny");
    assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": false } });
  });

  it("routes the four interruption events Karpenter handles", () => {
    const patterns = interruptionEvents.map(
      (event) => JSON.parse(eventPattern(event)) as Record<string, string[]>,
    );
    assert.deepEqual(patterns.map((pattern) => pattern["detail-type"][0]).sort(), [
      "AWS Health Event",
      "EC2 Instance Rebalance Recommendation",
      "EC2 Instance State-change Notification",
      "EC2 Spot Instance Interruption Warning",
    ]);
  });

  it("Cilium's operator gets the ENI IPAM permissions, limited to the cluster's region", () => {
    const [statement] = statements(ciliumOperatorPolicy("eu-west-1"));
    for (const action of [
      "ec2:CreateNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:AttachNetworkInterface",
    ]) {
      assert.ok(actions(statement).includes(action), action);
    }
    assert.deepEqual(statement.Condition, { StringEquals: { "aws:RequestedRegion": "eu-west-1" } });
  });

  it("plans the AWS pieces per compute mode", () => {
    const context = { project: "eks-gitops-platform", stack: "unit", region: "eu-west-1" };
    const access = { admins: ["arn:aws:iam::111122223333:role/admins"] };
    const auto = addonAwsPlan(resolvePlatformConfig({ environment: "prod", access }, context));
    assert.deepEqual(auto, {
      karpenterNodeRole: true,
      nodeAccessEntryType: "EC2",
      karpenterController: false,
      ciliumOperator: false,
    });
    const karpenter = addonAwsPlan(
      resolvePlatformConfig(
        { environment: "staging", access, compute: { mode: "karpenter" }, addons: { cilium: true } },
        context,
      ),
    );
    assert.deepEqual(karpenter, {
      karpenterNodeRole: true,
      nodeAccessEntryType: "EC2_LINUX",
      karpenterController: true,
      ciliumOperator: true,
    });
  });
});
