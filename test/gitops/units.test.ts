import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, resolvePlatformConfig } from "../../infra/config";
import { enabledAddons } from "../../infra/addons/enabled";
import { mergeValues, renderHelmRelease } from "../../infra/gitops/addon-files";
import {
  clusterSecretAnnotations,
  clusterSecretLabels,
  endpointHost,
  InfrastructureValues,
} from "../../infra/gitops/cluster-secret";
import { clusterGeneratorParams, renderTemplate, TemplateError } from "../../infra/gitops/template";

const context = { project: "eks-gitops-platform", stack: "unit", region: "eu-west-1" };
const base = { cluster: { name: "demo" }, access: { admins: ["arn:aws:iam::111122223333:role/admins"] } };
const config = (raw: Record<string, unknown>) => resolvePlatformConfig({ ...base, ...raw }, context);

const infra: InfrastructureValues = {
  accountId: "111122223333",
  partition: "aws",
  clusterName: "demo",
  clusterArn: "arn:aws:eks:eu-west-1:111122223333:cluster/demo",
  endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
  vpcId: "vpc-1",
  privateSubnetIds: ["subnet-a", "subnet-b"],
  clusterSecurityGroupId: "sg-1",
  karpenterNodeRoleName: "demo-karpenter-node",
  karpenterControllerRoleArn: "arn:aws:iam::111122223333:role/demo-karpenter-controller",
  karpenterInterruptionQueueName: "demo-karpenter",
  ciliumOperatorRoleArn: "arn:aws:iam::111122223333:role/demo-cilium-operator",
  awsLoadBalancerControllerRoleArn: "arn:aws:iam::111122223333:role/demo-aws-load-balancer-controller",
  externalDnsRoleArn: "arn:aws:iam::111122223333:role/demo-external-dns",
  externalSecretsRoleArn: "arn:aws:iam::111122223333:role/demo-external-secrets",
};

const params = clusterGeneratorParams({
  name: "Demo_1",
  server: "https://kubernetes.default.svc",
  labels: { environment: "dev", "argocd.argoproj.io/secret-type": "cluster" },
  annotations: { aws_region: "eu-west-1" },
});

describe("go-template subset (missingkey=error)", () => {
  it("renders field paths, index lookups and the cluster generator's name fields", () => {
    assert.equal(renderTemplate("{{ .name }}/{{ .nameNormalized }}", params), "Demo_1/demo-1");
    assert.equal(renderTemplate("x-{{.metadata.labels.environment}}-y", params), "x-dev-y");
    assert.equal(
      renderTemplate('{{ index .metadata.labels "argocd.argoproj.io/secret-type" }}', params),
      "cluster",
    );
    assert.equal(renderTemplate("a  {{- .metadata.annotations.aws_region -}}  b", params), "aeu-west-1b");
    assert.equal(renderTemplate("no actions", params), "no actions");
  });

  it("fails on a key the cluster Secret does not carry, as Argo CD does with missingkey=error", () => {
    assert.throws(
      () => renderTemplate("{{ .metadata.annotations.karpenter_node_role_name }}", params),
      TemplateError,
    );
    assert.throws(
      () => renderTemplate('{{ index .metadata.labels "enable_x" }}', params),
      /no entry for key "enable_x"/,
    );
    assert.throws(() => renderTemplate("{{ .metadata.labels }}", params), /map or list/);
  });

  it("rejects actions outside the supported subset instead of guessing", () => {
    assert.throws(() => renderTemplate("{{ .name | upper }}", params), /unsupported/);
    assert.throws(() => renderTemplate('{{ if eq .name "x" }}y{{ end }}', params), /unsupported/);
  });
});

describe("Helm value layering", () => {
  it("merges maps deeply, replaces lists and scalars, deletes on null", () => {
    assert.deepEqual(
      mergeValues({ a: { b: 1, c: [1, 2] }, d: "x", e: 1 }, { a: { c: [3] }, d: "y", e: null }, undefined),
      { a: { b: 1, c: [3] }, d: "y" },
    );
  });

  it("renders an add-on's chart source with defaults → environment → cluster files and valuesObject on top", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "addons-"));
    fs.mkdirSync(path.join(dir, "demo/values/environments"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "demo/applicationset.yaml"),
      `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: demo}
spec:
  template:
    metadata: {name: "demo-{{ .name }}"}
    spec:
      sources:
        - repoURL: https://charts.example.com
          chart: demo
          targetRevision: 1.2.3
          helm:
            ignoreMissingValueFiles: true
            valueFiles:
              - "$values/{{ .metadata.annotations.addons_repo_basepath }}/demo/values/defaults.yaml"
              - "$values/{{ .metadata.annotations.addons_repo_basepath }}/demo/values/environments/{{ .metadata.labels.environment }}.yaml"
              - "$values/{{ .metadata.annotations.addons_repo_basepath }}/demo/values/clusters/{{ .name }}.yaml"
            valuesObject: {region: "{{ .metadata.annotations.aws_region }}", size: {max: 9}}
      destination: {namespace: demo-ns}
`,
    );
    fs.writeFileSync(
      path.join(dir, "demo/values/defaults.yaml"),
      "size: {min: 1, max: 3}\nregion: nowhere\n",
    );
    fs.writeFileSync(path.join(dir, "demo/values/environments/dev.yaml"), "size: {min: 2}\n");
    const rendered = renderHelmRelease(
      dir,
      "demo",
      "demo",
      clusterGeneratorParams({
        name: "c1",
        server: "https://kubernetes.default.svc",
        labels: { environment: "dev" },
        annotations: { addons_repo_basepath: "platform/addons", aws_region: "eu-west-1" },
      }),
    );
    assert.deepEqual(rendered, {
      repo: "https://charts.example.com",
      chart: "demo",
      version: "1.2.3",
      releaseName: "demo-c1",
      namespace: "demo-ns",
      valueFiles: ["demo/values/defaults.yaml", "demo/values/environments/dev.yaml"],
      values: { size: { min: 2, max: 9 }, region: "eu-west-1" },
    });
  });
});

describe("cluster Secret contract", () => {
  it("labels: add-on switches after the compute-mode rules, environment, mode and Argo CD availability", () => {
    const auto = clusterSecretLabels(config({ environment: "prod" }));
    assert.equal(auto.compute_mode, "auto");
    assert.equal(auto.environment, "prod");
    assert.equal(auto.argocd_availability, "ha", "prod defaults to HA");
    assert.equal(auto.enable_cilium, "false");
    assert.equal(auto.enable_coredns_autoscaler, "false");
    assert.equal(auto.enable_cluster_base, "true");
    const karpenter = clusterSecretLabels(
      config({
        environment: "staging",
        compute: { mode: "karpenter" },
        addons: { cilium: true, corednsAutoscaler: true, falco: false },
      }),
    );
    assert.equal(karpenter.enable_cilium, "true");
    assert.equal(karpenter.enable_coredns_autoscaler, "true");
    assert.equal(karpenter.enable_falco, "false");
    assert.equal(karpenter.argocd_availability, "single");
    for (const value of Object.values(karpenter))
      assert.match(value, /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
  });

  it("annotations: Karpenter values per mode, Cilium's startup taint, the endpoint host", () => {
    const auto = clusterSecretAnnotations(config({ environment: "staging" }), infra);
    assert.equal(auto.karpenter_node_class_kind, "NodeClass");
    assert.equal(auto.karpenter_interruption_queue, undefined, "Auto Mode has no interruption queue");
    assert.deepEqual(JSON.parse(auto.karpenter_subnet_selector_terms), [
      { id: "subnet-a" },
      { id: "subnet-b" },
    ]);
    assert.equal(auto.karpenter_startup_taints, "[]");
    const withCilium = clusterSecretAnnotations(
      config({ environment: "staging", compute: { mode: "karpenter" }, addons: { cilium: true } }),
      infra,
    );
    assert.equal(withCilium.karpenter_node_class_kind, "EC2NodeClass");
    assert.equal(withCilium.karpenter_interruption_queue, "demo-karpenter");
    assert.deepEqual(JSON.parse(withCilium.karpenter_startup_taints), [
      { key: "node.cilium.io/agent-not-ready", value: "true", effect: "NoExecute" },
    ]);
    assert.equal(withCilium.cilium_operator_role_arn, infra.ciliumOperatorRoleArn);
    assert.throws(
      () =>
        clusterSecretAnnotations(config({ environment: "staging", compute: { mode: "karpenter" } }), {
          ...infra,
          karpenterControllerRoleArn: undefined,
        }),
      /karpenterControllerRoleArn/,
    );
    assert.equal(
      endpointHost("https://ABC.gr7.eu-west-1.eks.amazonaws.com"),
      "ABC.gr7.eu-west-1.eks.amazonaws.com",
    );
    assert.equal(endpointHost("https://abc.example.com:443/path"), "abc.example.com");
  });

  it("Argo CD manages itself only when installed from the chart", () => {
    assert.equal(enabledAddons(config({ environment: "staging" })).argocd, true);
    const capability = config({
      environment: "staging",
      gitops: {
        argocd: {
          install: "capability",
          identityCenter: {
            instanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
            region: "eu-west-1",
          },
        },
      },
    });
    assert.equal(enabledAddons(capability).argocd, false);
  });
});

describe("gitops config", () => {
  it("defaults to the Helm install", () => {
    assert.equal(config({ environment: "staging" }).gitops.argocd.install, "helm");
  });

  it("refuses the capability install without Identity Center, saying what to set", () => {
    assert.throws(
      () => config({ environment: "staging", gitops: { argocd: { install: "capability" } } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some(
          (problem) =>
            problem.key === "eks-gitops-platform:gitops.argocd.identityCenter" &&
            /Identity Center/.test(problem.message),
        ),
    );
  });

  it("refuses a malformed Identity Center ARN and an absolute addons path", () => {
    assert.throws(
      () =>
        config({
          environment: "staging",
          gitops: {
            argocd: {
              install: "capability",
              identityCenter: { instanceArn: "ssoins-1", region: "eu-west-1" },
            },
          },
        }),
      /instanceArn/,
    );
    assert.throws(() => config({ environment: "staging", gitops: { path: "/addons/" } }), /gitops\.path/);
  });
});
