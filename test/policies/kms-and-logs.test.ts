import { strict as assert } from "assert";
import {
  eksClusterLogGroup,
  kmsDeletionWindow,
  kmsKeyRotation,
  logGroupKms,
  logGroupRetention,
} from "../../policies/kms-and-logs";
import { goodCluster, UNKNOWN_VALUE, validateResource, validateStack, withSettings } from "./support";

const key = "aws:kms/key:Key";
const logGroup = "aws:cloudwatch/logGroup:LogGroup";
const clusterType = "aws:eks/cluster:Cluster";

describe("policies: KMS and logs", () => {
  describe("kms-key-rotation", () => {
    it("passes a rotating key", () => {
      assert.deepEqual(validateResource(kmsKeyRotation, key, { enableKeyRotation: true }), []);
    });

    it("rejects a symmetric key without rotation", () => {
      assert.deepEqual(validateResource(kmsKeyRotation, key, { description: "eks" }), [
        "enableKeyRotation is unset (defaults to false): the key material never changes; set enableKeyRotation: true.",
      ]);
      assert.deepEqual(validateResource(kmsKeyRotation, key, { enableKeyRotation: false }), [
        "enableKeyRotation is false: the key material never changes; set enableKeyRotation: true.",
      ]);
    });

    it("leaves asymmetric keys (which cannot rotate) and unknown settings alone", () => {
      assert.deepEqual(
        validateResource(kmsKeyRotation, key, { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }),
        [],
      );
      assert.deepEqual(validateResource(kmsKeyRotation, key, { enableKeyRotation: UNKNOWN_VALUE }), []);
    });
  });

  describe("kms-deletion-window", () => {
    it("passes the AWS default (unset = 30 days) and 30", () => {
      assert.deepEqual(validateResource(kmsDeletionWindow, key, {}), []);
      assert.deepEqual(validateResource(kmsDeletionWindow, key, { deletionWindowInDays: 30 }), []);
    });

    it("rejects the 7-day minimum, with the minimum from config", () => {
      assert.deepEqual(validateResource(kmsDeletionWindow, key, { deletionWindowInDays: 7 }), [
        "deletionWindowInDays is 7: once the window passes, everything encrypted with the key (the cluster's Secrets) is unrecoverable; use at least 14 (30 recommended).",
      ]);
      assert.deepEqual(
        validateResource(kmsDeletionWindow, key, { deletionWindowInDays: 7 }, { minDeletionWindowDays: 7 }),
        [],
      );
      assert.equal(
        validateResource(kmsDeletionWindow, key, { deletionWindowInDays: 20 }, { minDeletionWindowDays: 30 })
          .length,
        1,
      );
    });
  });

  describe("log-group-retention", () => {
    it("passes a group with retention and rejects one without", () => {
      assert.deepEqual(
        withSettings({ environment: "dev" }, () =>
          validateResource(logGroupRetention, logGroup, { name: "/aws/eks/x/cluster", retentionInDays: 7 }),
        ),
        [],
      );
      assert.deepEqual(validateResource(logGroupRetention, logGroup, { name: "/aws/eks/x/cluster" }), [
        "Log group subject has retentionInDays unset, so logs are kept (and billed) forever; set a retention period.",
      ]);
      // CloudWatch reads 0 as "never expire".
      assert.deepEqual(
        validateResource(logGroupRetention, logGroup, { name: "/aws/eks/x/cluster", retentionInDays: 0 }),
        [
          "Log group subject has retentionInDays 0, so logs are kept (and billed) forever; set a retention period.",
        ],
      );
      assert.deepEqual(validateResource(logGroupRetention, logGroup, { retentionInDays: UNKNOWN_VALUE }), []);
    });

    it("holds each environment to its minimum from the pack settings (prod 365 by default), not to tags", () => {
      const week = { name: "/aws/eks/x/cluster", retentionInDays: 7, tags: { environment: "dev" } };
      assert.deepEqual(
        withSettings({ environment: "prod" }, () => validateResource(logGroupRetention, logGroup, week)),
        [
          "Log group subject keeps logs 7 days, below the prod minimum of 365: an incident or audit needs them longer; set retentionInDays to at least 365 (cluster.logRetentionDays / network.flowLogRetentionDays).",
        ],
      );
      assert.equal(
        withSettings({ environment: "staging" }, () => validateResource(logGroupRetention, logGroup, week))
          .length,
        1,
      );
      assert.deepEqual(
        withSettings({ environment: "prod" }, () =>
          validateResource(logGroupRetention, logGroup, week, {
            minimumRetentionDays: { dev: 1, staging: 7, prod: 7 },
          }),
        ),
        [],
      );
    });
  });

  describe("log-group-kms", () => {
    const key = { type: "aws:kms/key:Key", name: "platform", props: { enableKeyRotation: true } };
    it("rejects a group without kmsKeyId or with a key that is not the stack's, naming the platform key", () => {
      assert.deepEqual(
        validateStack(logGroupKms, [key, { type: logGroup, name: "flow", props: { retentionInDays: 7 } }]),
        [
          {
            message:
              "Log group flow has no kmsKeyId, so its logs (audit trail, flow logs) are encrypted only with a CloudWatch-owned key that no key policy controls; set kmsKeyId to the platform key (platform).",
            urn: "urn:pulumi:test::eks-gitops-platform::aws:cloudwatch/logGroup:LogGroup::flow",
          },
        ],
      );
      const foreign = "arn:aws:kms:eu-west-1:999988887777:key/abc";
      assert.match(
        validateStack(logGroupKms, [key, { type: logGroup, name: "flow", props: { kmsKeyId: foreign } }])[0]
          .message,
        /is encrypted with arn:aws:kms:eu-west-1:999988887777:key\/abc that is neither a key of this stack nor in allowedKeyArns/,
      );
      assert.deepEqual(
        validateStack(logGroupKms, [{ type: logGroup, name: "flow", props: { kmsKeyId: foreign } }], {
          allowedKeyArns: [foreign],
        }),
        [],
      );
    });

    it("passes a group whose kmsKeyId comes from the stack's key, known or still unknown", () => {
      assert.deepEqual(
        validateStack(logGroupKms, [
          key,
          {
            type: logGroup,
            name: "a",
            props: { kmsKeyId: UNKNOWN_VALUE },
            propertyDependencies: { kmsKeyId: ["platform"] },
          },
          {
            type: logGroup,
            name: "b",
            props: { kmsKeyId: "arn:aws:kms:eu-west-1:1:key/x" },
            propertyDependencies: { kmsKeyId: ["platform"] },
          },
        ]),
        [],
      );
    });
  });

  describe("eks-cluster-log-group", () => {
    const groupSpec = (name: unknown) => ({
      type: logGroup,
      name: "control-plane",
      props: { name, retentionInDays: 7 },
    });

    it("passes when the program declares /aws/eks/<name>/cluster and the cluster depends on it", () => {
      const violations = validateStack(eksClusterLogGroup, [
        groupSpec("/aws/eks/platform-prod/cluster"),
        { type: clusterType, name: "cluster", props: goodCluster(), dependsOn: ["control-plane"] },
      ]);
      assert.deepEqual(violations, []);
    });

    it("reports a missing log group on the cluster", () => {
      const violations = validateStack(eksClusterLogGroup, [
        groupSpec("/aws/eks/another/cluster"),
        { type: clusterType, name: "cluster", props: goodCluster() },
      ]);
      assert.deepEqual(violations, [
        {
          message:
            "No aws.cloudwatch.LogGroup named /aws/eks/platform-prod/cluster: EKS will create it without retention, and it survives a destroy and blocks the next create; declare it with retentionInDays.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/cluster:Cluster::cluster",
        },
      ]);
    });

    it("reports a log group the cluster does not wait for", () => {
      const violations = validateStack(eksClusterLogGroup, [
        groupSpec("/aws/eks/platform-prod/cluster"),
        { type: clusterType, name: "cluster", props: goodCluster() },
      ]);
      assert.deepEqual(
        violations.map((violation) => violation.message),
        [
          "The cluster does not depend on its log group /aws/eks/platform-prod/cluster: EKS may create the group first and the program's create then fails; add dependsOn: [logGroup] to the cluster.",
        ],
      );
    });

    it("does not guess while a log group name is unknown", () => {
      const violations = validateStack(eksClusterLogGroup, [
        groupSpec(UNKNOWN_VALUE),
        { type: clusterType, name: "cluster", props: goodCluster() },
      ]);
      assert.deepEqual(violations, []);
    });
  });
});
