import { strict as assert } from "assert";
import {
  eksClusterLogGroup,
  kmsDeletionWindow,
  kmsKeyRotation,
  logGroupRetention,
} from "../../policies/kms-and-logs";
import { goodCluster, UNKNOWN_VALUE, validateResource, validateStack } from "./support";

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
        validateResource(logGroupRetention, logGroup, { name: "/aws/eks/x/cluster", retentionInDays: 7 }),
        [],
      );
      assert.deepEqual(validateResource(logGroupRetention, logGroup, { name: "/aws/eks/x/cluster" }), [
        "retentionInDays is unset, so logs are kept (and billed) forever; set a retention period.",
      ]);
      // CloudWatch reads 0 as "never expire".
      assert.deepEqual(
        validateResource(logGroupRetention, logGroup, { name: "/aws/eks/x/cluster", retentionInDays: 0 }),
        ["retentionInDays is 0, so logs are kept (and billed) forever; set a retention period."],
      );
      assert.deepEqual(validateResource(logGroupRetention, logGroup, { retentionInDays: UNKNOWN_VALUE }), []);
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
