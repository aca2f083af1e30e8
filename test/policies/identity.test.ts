import { strict as assert } from "assert";
import {
  eksNoAwsAuthConfigMap,
  eksNoIrsaAnnotations,
  eksNoIrsaOidcProvider,
  isEksOidcIssuer,
} from "../../policies/identity";
import { goodCluster, UNKNOWN_VALUE, validateResource, validateStack } from "./support";

const configMap = "kubernetes:core/v1:ConfigMap";
const serviceAccount = "kubernetes:core/v1:ServiceAccount";
const oidc = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
const clusterType = "aws:eks/cluster:Cluster";

describe("policies: identity", () => {
  describe("eks-no-aws-auth-configmap", () => {
    it("rejects kube-system/aws-auth, as a ConfigMap or a patch", () => {
      const props = { metadata: { name: "aws-auth", namespace: "kube-system" }, data: { mapRoles: "[]" } };
      const expected = [
        "This manages kube-system/aws-auth, the deprecated IAM-to-RBAC mapping that one bad edit turns into a cluster lock-out; delete it and declare aws.eks.AccessEntry resources instead.",
      ];
      assert.deepEqual(validateResource(eksNoAwsAuthConfigMap, configMap, props), expected);
      assert.deepEqual(
        validateResource(eksNoAwsAuthConfigMap, "kubernetes:core/v1:ConfigMapPatch", props),
        expected,
      );
    });

    it("passes other ConfigMaps", () => {
      const props = { metadata: { name: "amazon-vpc-cni", namespace: "kube-system" }, data: {} };
      assert.deepEqual(validateResource(eksNoAwsAuthConfigMap, configMap, props), []);
    });
  });

  describe("eks-no-irsa-oidc-provider", () => {
    it("recognises EKS issuer URLs", () => {
      assert.equal(
        isEksOidcIssuer("https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"),
        true,
      );
      assert.equal(isEksOidcIssuer("https://token.actions.githubusercontent.com"), false);
    });

    it("rejects an OIDC provider for the cluster's issuer, known or unknown-but-derived-from-the-cluster", () => {
      const known = validateStack(eksNoIrsaOidcProvider, [
        {
          type: oidc,
          name: "irsa",
          props: {
            url: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
            clientIdLists: ["sts.amazonaws.com"],
          },
        },
      ]);
      const expected = {
        message:
          "This IAM OIDC provider trusts the EKS cluster's issuer, which only IRSA needs; Pod Identity needs no OIDC provider and no per-cluster trust policy: delete it and use aws.eks.PodIdentityAssociation.",
        urn: "urn:pulumi:test::eks-gitops-platform::aws:iam/openIdConnectProvider:OpenIdConnectProvider::irsa",
      };
      assert.deepEqual(known, [expected]);
      const derived = validateStack(eksNoIrsaOidcProvider, [
        { type: clusterType, name: "cluster", props: goodCluster() },
        {
          type: oidc,
          name: "irsa",
          props: { url: UNKNOWN_VALUE, clientIdLists: ["sts.amazonaws.com"] },
          propertyDependencies: { url: ["cluster"] },
        },
      ]);
      assert.deepEqual(derived, [expected]);
      const dropped = validateStack(eksNoIrsaOidcProvider, [
        { type: clusterType, name: "cluster", props: goodCluster() },
        {
          type: oidc,
          name: "irsa",
          props: { clientIdLists: ["sts.amazonaws.com"] },
          propertyDependencies: { url: ["cluster"] },
        },
      ]);
      assert.deepEqual(dropped, [expected]);
    });

    it("passes the GitHub Actions OIDC provider and an unknown URL not derived from a cluster", () => {
      const violations = validateStack(eksNoIrsaOidcProvider, [
        {
          type: oidc,
          name: "github",
          props: { url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] },
        },
        { type: oidc, name: "other", props: { url: UNKNOWN_VALUE, clientIdLists: ["x"] } },
      ]);
      assert.deepEqual(violations, []);
    });
  });

  describe("eks-no-irsa-annotations", () => {
    it("rejects the role-arn annotation on a ServiceAccount, unless allow-listed", () => {
      const props = {
        metadata: {
          name: "external-dns",
          namespace: "external-dns",
          annotations: { "eks.amazonaws.com/role-arn": UNKNOWN_VALUE },
        },
      };
      assert.deepEqual(validateResource(eksNoIrsaAnnotations, serviceAccount, props), [
        "ServiceAccount external-dns/external-dns is annotated eks.amazonaws.com/role-arn (IRSA); remove the annotation and create an aws.eks.PodIdentityAssociation for it.",
      ]);
      assert.deepEqual(
        validateResource(eksNoIrsaAnnotations, serviceAccount, props, {
          allowedServiceAccounts: ["external-dns/external-dns"],
        }),
        [],
      );
    });

    it("finds the annotation in Helm release values and in Argo CD values text", () => {
      const release = {
        chart: "external-dns",
        version: "1.15.0",
        values: {
          serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x" } },
        },
      };
      assert.deepEqual(validateResource(eksNoIrsaAnnotations, "kubernetes:helm.sh/v3:Release", release), [
        "Values set the IRSA annotation eks.amazonaws.com/role-arn at values.serviceAccount.annotations.eks.amazonaws.com/role-arn; drop it and bind the chart's service account with an aws.eks.PodIdentityAssociation.",
      ]);
      const application = {
        spec: {
          source: {
            chart: "x",
            targetRevision: "1.0.0",
            helm: { values: "serviceAccount:\n  annotations:\n    eks.amazonaws.com/role-arn: arn\n" },
          },
        },
      };
      assert.equal(
        validateResource(eksNoIrsaAnnotations, "kubernetes:argoproj.io/v1alpha1:Application", application)
          .length,
        1,
      );
    });

    it("passes service accounts and values without it", () => {
      assert.deepEqual(
        validateResource(eksNoIrsaAnnotations, serviceAccount, {
          metadata: { name: "a", namespace: "b", annotations: { team: "x" } },
        }),
        [],
      );
      assert.deepEqual(
        validateResource(eksNoIrsaAnnotations, "kubernetes:helm.sh/v3:Release", {
          chart: "argo-cd",
          values: { a: UNKNOWN_VALUE },
        }),
        [],
      );
    });
  });
});
