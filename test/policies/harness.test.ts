import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type { SynthResult } from "../../synth/types";
import { describeUrn, formatPolicyReport, loadPackConfig, runPolicyPack } from "../../policies/harness";
import { policies } from "../../policies/pack";

const fixtures = path.join(__dirname, "..", "fixtures", "policies");
const load = (name: string): SynthResult =>
  JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), "utf8")) as SynthResult;
type Mutable = {
  resources: {
    name: string;
    type: string;
    inputs: Record<string, unknown>;
    propertyDependencies: Record<string, string[]>;
    urn: string;
  }[];
};
const resource = (result: SynthResult, name: string) => {
  const found = (result as unknown as Mutable).resources.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no resource ${name} in fixture`);
  return found;
};
/** The fixture stacks' pack config: compliant is a prod stack whose internet-facing ALB group is exempt. */
const prod = {
  "pack-settings": {
    environment: "prod",
    exemptions: [
      {
        resource: "public-alb",
        policy: "sg-no-public-ingress",
        reason: "internet-facing ALB, HTTPS only",
        expires: "2999-12-31",
      },
    ],
  },
};
const dev = { "pack-settings": { environment: "dev" } };
const summary = (result: SynthResult, config: Record<string, unknown> = dev) =>
  runPolicyPack(result, config).violations.map(
    (violation) => `${violation.policy} ${violation.enforcementLevel} ${describeUrn(violation.urn)}`,
  );

describe("policies: harness over whole stacks", () => {
  it("passes the hardened fixture stack, unknown ARNs and subnet ids included, with every policy passing", () => {
    const report = runPolicyPack(load("compliant"), prod);
    assert.deepEqual(report.violations, []);
    assert.equal(report.mandatoryCount, 0);
    assert.deepEqual(
      report.passed,
      policies.map((policy) => policy.name),
    );
  });

  it("fails the misconfigured fixture with one violation per mistake (per offending resource)", () => {
    const report = runPolicyPack(load("misconfigured"), dev);
    assert.deepEqual(summary(load("misconfigured")), [
      "eks-endpoint-private mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "eks-secrets-encryption mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "kms-key-rotation mandatory secrets (aws:kms/key:Key)",
      "kms-deletion-window mandatory secrets (aws:kms/key:Key)",
      "eks-control-plane-logging mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "log-group-retention mandatory flow-logs (aws:cloudwatch/logGroup:LogGroup)",
      "log-group-kms mandatory flow-logs (aws:cloudwatch/logGroup:LogGroup)",
      "eks-access-entries-only mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "eks-no-creator-admin mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "eks-no-aws-auth-configmap mandatory aws-auth (kubernetes:core/v1:ConfigMap)",
      "eks-no-irsa-oidc-provider mandatory irsa (aws:iam/openIdConnectProvider:OpenIdConnectProvider)",
      "eks-no-irsa-annotations mandatory external-dns (kubernetes:core/v1:ServiceAccount)",
      "eks-version-supported mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "eks-standard-support advisory platform-misconfigured (aws:eks/cluster:Cluster)",
      "vpc-pod-subnet-size mandatory private-a (aws:ec2/subnet:Subnet)",
      "vpc-pod-subnet-size mandatory private-b (aws:ec2/subnet:Subnet)",
      "vpc-private-subnet-no-public-ip mandatory private-a (aws:ec2/subnet:Subnet)",
      "eks-multi-az mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "vpc-flow-logs mandatory platform (aws:ec2/vpc:Vpc)",
      "eks-auto-mode-consistent mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "sg-no-public-ingress mandatory bastion (aws:ec2/securityGroup:SecurityGroup)",
      "sg-open-egress advisory bastion (aws:ec2/securityGroup:SecurityGroup)",
      "eks-fargate-namespaces mandatory everything (aws:eks/fargateProfile:FargateProfile)",
      "helm-release-pinned mandatory argo-cd (kubernetes:helm.sh/v3:Release)",
      "argocd-source-pinned mandatory root (kubernetes:argoproj.io/v1alpha1:Application)",
      "dev-expiry-tag mandatory platform-misconfigured (aws:eks/cluster:Cluster)",
      "dev-single-nat advisory nat-b (aws:ec2/natGateway:NatGateway)",
      "addon-route53-zones-scoped mandatory external-dns-any-zone (aws:iam/rolePolicy:RolePolicy)",
      "addon-secrets-manager-scoped mandatory external-secrets-any-secret (aws:iam/rolePolicy:RolePolicy)",
      "addon-lb-controller-upstream mandatory lb-controller-wildcard (aws:iam/rolePolicy:RolePolicy)",
    ]);
    assert.equal(report.mandatoryCount, 27);
    assert.equal(report.advisoryCount, 3);
    assert.deepEqual(report.passed, [
      "pack-settings",
      "kms-key-policy-no-wildcard",
      "eks-cluster-log-group",
      "eks-access-admin-scoped",
      "iam-no-admin-access",
      "iam-trust-policy-scoped",
      "iam-role-permissions-boundary",
      "eks-fleet-hub-access",
      "eks-version-upgrade-due",
      "eks-node-no-ssh",
      "ec2-imdsv2-required",
      "eks-auto-mode-no-redundant-addons",
      "argocd-server-private",
      "k8s-no-plaintext-secret",
      "k8s-storageclass-encrypted",
      "argocd-capability-private",
      "prod-deletion-protection",
      "prod-nat-per-az",
      "ci-runner-role-not-admin",
      "ci-runner-private-subnets",
      "ci-runner-logs-encrypted",
    ]);
  });

  // One mistake at a time on the good stack: exactly the matching policy fires, nothing else.
  const mutations: [string, string, (stack: SynthResult) => void][] = [
    [
      "public endpoint",
      "eks-endpoint-private",
      (stack) => {
        resource(stack, "platform-prod").inputs.vpcConfig = {
          endpointPrivateAccess: true,
          endpointPublicAccess: true,
          publicAccessCidrs: ["0.0.0.0/0"],
        };
      },
    ],
    [
      "/24 pod subnet",
      "vpc-pod-subnet-size",
      (stack) => {
        resource(stack, "private-a").inputs.cidrBlock = "10.0.0.0/24";
      },
    ],
    [
      "two AZs",
      "eks-multi-az",
      (stack) => {
        resource(stack, "private-c").inputs.availabilityZone = "eu-west-1a";
      },
    ],
    [
      "no control-plane logs",
      "eks-control-plane-logging",
      (stack) => {
        resource(stack, "platform-prod").inputs.enabledClusterLogTypes = [];
      },
    ],
    [
      "creator admin on",
      "eks-no-creator-admin",
      (stack) => {
        resource(stack, "platform-prod").inputs.accessConfig = {
          authenticationMode: "API",
          bootstrapClusterCreatorAdminPermissions: true,
        };
      },
    ],
    [
      "IRSA OIDC provider",
      "eks-no-irsa-oidc-provider",
      (stack) => {
        resource(stack, "github-actions").inputs.url =
          "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF";
      },
    ],
    [
      "no deletion protection in prod",
      "prod-deletion-protection",
      (stack) => {
        resource(stack, "platform-prod").inputs.deletionProtection = false;
      },
    ],
    [
      "control-plane log group not declared",
      "eks-cluster-log-group",
      (stack) => {
        resource(stack, "control-plane").inputs.name = "/aws/eks/other/cluster";
      },
    ],
    [
      "one minor behind",
      "eks-version-upgrade-due",
      (stack) => {
        resource(stack, "platform-prod").inputs.version = "1.35";
      },
    ],
    [
      "unpinned Argo CD chart",
      "argocd-source-pinned",
      (stack) => {
        const app = resource(stack, "kubecost");
        (app.inputs.spec as { sources: { targetRevision?: string }[] }).sources[0].targetRevision = "2.*";
      },
    ],
  ];
  for (const [mistake, policy, mutate] of mutations) {
    it(`catches "${mistake}" with ${policy} alone`, () => {
      const stack = load("compliant");
      mutate(stack);
      const report = runPolicyPack(stack, {
        ...prod,
        "eks-version-upgrade-due": { newestVersion: "1.36" },
        "eks-version-supported": { newestVersion: "1.36" },
      });
      assert.deepEqual([...new Set(report.violations.map((violation) => violation.policy))], [policy]);
    });
  }

  describe("pack config, as policyPackConfigs passes it", () => {
    it("disables a policy, overrides a level, and sets a default level with `all`", () => {
      const stack = load("misconfigured");
      const disabled = runPolicyPack(stack, { ...dev, "eks-endpoint-private": "disabled" });
      assert.equal(
        disabled.violations.some((violation) => violation.policy === "eks-endpoint-private"),
        false,
      );
      assert.equal(disabled.passed.includes("eks-endpoint-private"), false);
      const raised = runPolicyPack(stack, { ...dev, "dev-single-nat": { enforcementLevel: "mandatory" } });
      assert.equal(
        raised.violations.find((violation) => violation.policy === "dev-single-nat")?.enforcementLevel,
        "mandatory",
      );
      const allAdvisory = runPolicyPack(stack, { ...dev, all: "advisory" });
      assert.equal(allAdvisory.mandatoryCount, 0);
      assert.equal(allAdvisory.advisoryCount, 30);
    });

    it("passes policy properties through, with schema defaults for the rest", () => {
      const stack = load("misconfigured");
      const report = runPolicyPack(stack, { ...dev, "eks-endpoint-private": { allowPublicAccess: true } });
      assert.deepEqual(
        report.violations
          .filter((violation) => violation.policy === "eks-endpoint-private")
          .map((violation) => violation.message),
        [
          "publicAccessCidrs 0.0.0.0/0 together open the API to the whole IPv4 internet, more than a /16; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.",
        ],
      );
    });

    it("reads policies/config/<stack>.json and refuses a stack without one, as the CLI does", () => {
      const dev = loadPackConfig("dev");
      assert.deepEqual(dev["pack-settings"], { environment: "dev", exemptions: [] });
      assert.throws(() => loadPackConfig("no-such-stack"), /create policies\/config\/no-such-stack\.json/);
      assert.throws(() => loadPackConfig("../../etc/passwd"), /is not a stack name/);
    });
  });

  it("reports a policy that reads an unknown value unguarded as an advisory, as the CLI does", () => {
    const careless: ResourceValidationPolicy = {
      name: "careless",
      description: "reads a preview-time unknown directly",
      enforcementLevel: "mandatory",
      validateResource: (args, reportViolation) => {
        if (args.type !== "aws:eks/cluster:Cluster") return;
        if ((args.props.roleArn as string).length === 0) reportViolation("empty");
      },
    };
    const report = runPolicyPack(load("compliant"), prod, [careless]);
    assert.deepEqual(report.violations, [
      {
        policy: "careless",
        enforcementLevel: "advisory",
        urn: "urn:pulumi:fixture-prod::eks-gitops-platform::aws:eks/cluster:Cluster::platform-prod",
        message:
          "can't run policy 'careless' during preview: string value at .roleArn can't be known during preview",
      },
    ]);
  });

  describe("formatPolicyReport", () => {
    it("prints a header and one table row per violation with policy, level, resource and message", () => {
      const text = formatPolicyReport(runPolicyPack(load("misconfigured"), dev));
      const lines = text.trimEnd().split("\n");
      assert.equal(
        lines[0],
        "Policy report for stack misconfigured: 27 mandatory, 3 advisory violation(s); 21 policies passed.",
      );
      assert.match(lines[2], /^POLICY\s+LEVEL\s+RESOURCE\s+MESSAGE$/);
      assert.equal(lines.length, 3 + 30);
      assert.match(
        lines[3],
        /^eks-endpoint-private\s+mandatory\s+platform-misconfigured \(aws:eks\/cluster:Cluster\)\s+The API endpoint is public/,
      );
      const messageColumn = lines[2].indexOf("MESSAGE");
      assert.ok(
        lines.slice(3).every((line) => line.length > messageColumn && line[messageColumn - 1] === " "),
      );
    });

    it("prints just the header when there is nothing to report", () => {
      assert.equal(
        formatPolicyReport(runPolicyPack(load("compliant"), prod)),
        `Policy report for stack fixture-prod: 0 mandatory, 0 advisory violation(s); ${policies.length} policies passed.\n`,
      );
    });
  });
});
