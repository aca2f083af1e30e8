import { strict as assert } from "node:assert";
import * as path from "node:path";
import { addonAwsPlan } from "../../infra/addons";
import {
  ciliumOperatorPolicy,
  eventPattern,
  interruptionEvents,
  interruptionQueuePolicy,
  karpenterControllerPolicy,
} from "../../infra/addons/policies";
import { resolvePlatformConfig } from "../../infra/config";
import { upstreamFact } from "../upstream";
import { addonsDir, applicationSets, chartPin, listFiles, parseDocuments, Tree } from "./support";

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

interface KarpenterUpstream {
  controllerPolicies: Record<string, Statement[]>;
  optIn: Record<string, string>;
  interruptionQueue: { messageRetentionPeriod: number; sqsManagedSseEnabled: boolean };
  interruptionRules: { name: string; source: string[]; detailType: string[] }[];
}
const karpenterUpstream = upstreamFact<KarpenterUpstream>("karpenter-1.14.1.controller-policy.json");
const karpenterValuesKeys = upstreamFact<{ keys: Record<string, string> }>(
  "karpenter-1.14.1.values-keys.json",
);

/** One statement in a comparable form: list-valued fields sorted, a single string and a one-element list alike. */
function normalize(statement: Statement): unknown {
  const list = (value: unknown) =>
    Array.isArray(value) ? [...(value as string[])].sort() : typeof value === "string" ? [value] : value;
  const condition = Object.fromEntries(
    Object.entries(statement.Condition ?? {}).map(([operator, keys]) => [
      operator,
      Object.fromEntries(Object.entries(keys).map(([key, value]) => [key, list(value)])),
    ]),
  );
  return {
    Sid: statement.Sid,
    Effect: statement.Effect,
    Action: list(statement.Action),
    Resource: list(statement.Resource),
    Condition: condition,
  };
}

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
  it("the Karpenter controller policy is upstream's, statement for statement, at the pinned version", () => {
    const placeholders: Record<string, string> = {
      Partition: karpenterArgs.partition,
      Region: karpenterArgs.region,
      AccountId: karpenterArgs.accountId,
      ClusterName: karpenterArgs.clusterName,
      NodeRoleArn: karpenterArgs.nodeRoleArn,
      InterruptionQueueArn: karpenterArgs.interruptionQueueArn,
    };
    const substituted = JSON.stringify(
      Object.entries(karpenterUpstream.facts.controllerPolicies)
        .filter(([policy]) => !(policy in karpenterUpstream.facts.optIn))
        .flatMap(([, policyStatements]) => policyStatements),
    ).replace(/\$\{(\w+)\}/g, (_, name: string) => {
      assert.ok(name in placeholders, `unknown placeholder \${${name}} in the fact file`);
      return placeholders[name];
    });
    const expected = (JSON.parse(substituted) as Statement[]).map(normalize);
    const actual = statements(karpenterControllerPolicy(karpenterArgs)).map(normalize);
    const bySid = (list: unknown[]) =>
      new Map(list.map((statement) => [(statement as Statement).Sid, statement]));
    const want = bySid(expected);
    const got = bySid(actual);
    assert.equal(got.size, actual.length, "Sids are unique");
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [sid, statement] of want) assert.deepEqual(got.get(sid), statement, sid);
  });

  it("no Karpenter values file switches on an opt-in feature whose upstream policy the controller role lacks", () => {
    const at = (tree: unknown, keyPath: string): unknown =>
      keyPath.split(".").reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], tree);
    const valuesDir = path.join(addonsDir, "karpenter", "values");
    const layers = [
      ...listFiles(valuesDir)
        .filter((file) => /\.ya?ml$/.test(file))
        .flatMap((file) => parseDocuments(file).map((values) => ({ where: file, values }))),
      ...applicationSets()
        .filter(({ folder }) => folder === "karpenter")
        .flatMap(({ name, set }) => {
          const template = (set.spec as Tree).template as Tree;
          const sources = ((template.spec as Tree).sources ?? [(template.spec as Tree).source]) as Tree[];
          return sources.map((source) => ({
            where: `ApplicationSet ${name} valuesObject`,
            values: (source?.helm as Tree | undefined)?.valuesObject,
          }));
        }),
    ];
    assert.ok(layers.some(({ where }) => where.endsWith("defaults.yaml")) && layers.length > 2);
    for (const [policy, valuesKey] of Object.entries(karpenterUpstream.facts.optIn)) {
      assert.equal(
        karpenterValuesKeys.facts.keys[valuesKey],
        "scalar",
        `optIn.${policy} names a chart values key`,
      );
      const granted = statements(karpenterControllerPolicy(karpenterArgs)).some((statement) =>
        karpenterUpstream.facts.controllerPolicies[policy].some((upstream) => upstream.Sid === statement.Sid),
      );
      for (const { where, values } of layers)
        assert.ok(
          granted || !at(values, valuesKey),
          `${where} sets ${valuesKey}, but the controller role lacks upstream's ${policy}`,
        );
    }
  });

  it("the Karpenter chart pin and the vendored policy's ref agree (a Renovate bump must re-read the policy)", () => {
    assert.equal(`v${chartPin("karpenter").version}`, karpenterUpstream.source.ref);
  });

  it("the controller policy fits the 10,240-character limit of a role's inline policies", () => {
    // Upstream uses five managed policies; one inline policy must stay under IAM's aggregate inline quota.
    assert.ok(karpenterControllerPolicy(karpenterArgs).length < 10240);
  });

  it("Karpenter may pass only its node role, to EC2 only", () => {
    const passRole = statements(karpenterControllerPolicy(karpenterArgs)).filter((statement) =>
      actions(statement).includes("iam:PassRole"),
    );
    assert.equal(passRole.length, 1);
    assert.equal(passRole[0].Resource, karpenterArgs.nodeRoleArn);
    assert.deepEqual(passRole[0].Condition, {
      StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] },
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

  it("routes every interruption event upstream's template routes (five since 1.14)", () => {
    const patterns = interruptionEvents.map((event) => JSON.parse(eventPattern(event)) as unknown);
    const upstream = karpenterUpstream.facts.interruptionRules.map((rule) => ({
      source: rule.source,
      "detail-type": rule.detailType,
    }));
    assert.equal(upstream.length, 5);
    const key = (pattern: unknown) => JSON.stringify(pattern);
    assert.deepEqual(patterns.map(key).sort(), upstream.map(key).sort());
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
