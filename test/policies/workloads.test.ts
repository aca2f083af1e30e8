import { strict as assert } from "assert";
import { argocdSourcePinned, eksFargateNamespaces, helmReleasePinned } from "../../policies/workloads";
import { UNKNOWN_VALUE, validateResource } from "./support";

const fargate = "aws:eks/fargateProfile:FargateProfile";
const release = "kubernetes:helm.sh/v3:Release";
const application = "kubernetes:argoproj.io/v1alpha1:Application";
const applicationSet = "kubernetes:argoproj.io/v1alpha1:ApplicationSet";

describe("policies: workloads", () => {
  describe("eks-fargate-namespaces", () => {
    it("rejects profiles selecting DaemonSet/EBS namespaces, directly or by wildcard", () => {
      assert.deepEqual(
        validateResource(eksFargateNamespaces, fargate, { selectors: [{ namespace: "falco" }] }),
        [
          'Selector namespace "falco" puts falco on Fargate, where DaemonSets never run, EBS volumes and privileged pods are refused and pods get no Pod Identity; leave those namespaces to EC2/Auto Mode nodes.',
        ],
      );
      assert.deepEqual(validateResource(eksFargateNamespaces, fargate, { selectors: [{ namespace: "*" }] }), [
        'Selector namespace "*" puts kube-system, argocd, karpenter, falco, cilium, kubecost, monitoring, external-dns, external-secrets on Fargate, where DaemonSets never run, EBS volumes and privileged pods are refused and pods get no Pod Identity; leave those namespaces to EC2/Auto Mode nodes.',
      ]);
    });

    it("passes other namespaces and uses the configured list", () => {
      assert.deepEqual(
        validateResource(eksFargateNamespaces, fargate, {
          selectors: [{ namespace: "batch" }, { namespace: "team-?" }],
        }),
        [],
      );
      assert.equal(
        validateResource(
          eksFargateNamespaces,
          fargate,
          { selectors: [{ namespace: "batch" }] },
          { forbiddenNamespaces: ["batch"] },
        ).length,
        1,
      );
      assert.deepEqual(validateResource(eksFargateNamespaces, fargate, { selectors: UNKNOWN_VALUE }), []);
    });
  });

  describe("helm-release-pinned", () => {
    it("passes exact versions and local charts", () => {
      assert.deepEqual(
        validateResource(helmReleasePinned, release, { chart: "argo-cd", version: "9.1.4" }),
        [],
      );
      assert.deepEqual(
        validateResource(helmReleasePinned, release, {
          chart: "oci://public.ecr.aws/karpenter/karpenter",
          version: "1.8.1",
        }),
        [],
      );
      assert.deepEqual(validateResource(helmReleasePinned, release, { chart: "./charts/platform" }), []);
    });

    it("rejects a missing version and ranges", () => {
      assert.deepEqual(validateResource(helmReleasePinned, release, { chart: "argo-cd" }), [
        'Chart argo-cd has version unset (the newest is installed on every deploy); pin an exact version such as "1.2.3" in the chart versions file Renovate reads.',
      ]);
      assert.deepEqual(validateResource(helmReleasePinned, release, { chart: "falco", version: "^9.0.0" }), [
        'Chart falco has version "^9.0.0" (not an exact version); pin an exact version such as "1.2.3" in the chart versions file Renovate reads.',
      ]);
      for (const version of ["9.x", "~9.1", ">=9.0.0", "latest", "9.1"]) {
        assert.equal(
          validateResource(helmReleasePinned, release, { chart: "falco", version }).length,
          1,
          version,
        );
      }
      assert.deepEqual(
        validateResource(helmReleasePinned, release, { chart: "falco", version: UNKNOWN_VALUE }),
        [],
      );
    });
  });

  describe("argocd-source-pinned", () => {
    const app = (spec: Record<string, unknown>) => ({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      metadata: { name: "x" },
      spec,
    });

    it("passes pinned chart sources and git sources on a named branch or tag", () => {
      const props = app({
        sources: [
          { repoURL: "public.ecr.aws/kubecost", chart: "cost-analyzer", targetRevision: "2.8.2" },
          {
            repoURL: "https://github.com/acme/eks-gitops-platform.git",
            targetRevision: "main",
            ref: "values",
          },
        ],
      });
      assert.deepEqual(validateResource(argocdSourcePinned, application, props), []);
    });

    it("rejects a chart source with a range and a git source on HEAD", () => {
      const props = app({
        sources: [
          { repoURL: "https://falcosecurity.github.io/charts", chart: "falco", targetRevision: "9.*" },
          {
            repoURL: "https://github.com/acme/eks-gitops-platform.git",
            targetRevision: "HEAD",
            path: "addons",
          },
        ],
      });
      assert.deepEqual(validateResource(argocdSourcePinned, application, props), [
        'spec.sources[0]: Helm chart falco has targetRevision "9.*" (a range); pin an exact chart version such as "1.2.3".',
        'spec.sources[1]: git source https://github.com/acme/eks-gitops-platform.git has targetRevision "HEAD", which follows whatever the default branch points to; set a branch, tag or commit explicitly.',
      ]);
    });

    it("rejects unset revisions and checks ApplicationSet templates, skipping per-cluster template values", () => {
      assert.deepEqual(
        validateResource(
          argocdSourcePinned,
          application,
          app({ source: { repoURL: "https://github.com/acme/x.git", path: "." } }),
        ),
        [
          "spec.source: git source https://github.com/acme/x.git has targetRevision unset (HEAD), which follows whatever the default branch points to; set a branch, tag or commit explicitly.",
        ],
      );
      const set = {
        spec: { template: { spec: { source: { repoURL: "https://charts.example", chart: "x" } } } },
      };
      assert.deepEqual(validateResource(argocdSourcePinned, applicationSet, set), [
        'spec.template.spec.source: Helm chart x has targetRevision unset (newest chart on every sync); pin an exact chart version such as "1.2.3".',
      ]);
      const templated = {
        spec: {
          template: {
            spec: {
              source: {
                repoURL: "https://charts.example",
                chart: "x",
                targetRevision: "{{.metadata.annotations.version}}",
              },
            },
          },
        },
      };
      assert.deepEqual(validateResource(argocdSourcePinned, applicationSet, templated), []);
    });
  });
});
