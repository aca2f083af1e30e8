import { strict as assert } from "node:assert";
import { ConfigError, resolvePlatformConfig } from "../../infra/config";
import { accessGrants } from "../../infra/identity/access";

const context = { project: "eks-gitops-platform", stack: "test", region: "eu-west-1" };
const minimal = {
  environment: "dev",
  expiresOn: "2026-12-31",
  access: { admins: ["arn:aws:iam::111122223333:role/platform-admins"] },
};

/** The problems a config produces, as "key = value: message" lines. */
function problemsOf(raw: Record<string, unknown>, overrides: Partial<typeof context> = {}): string[] {
  try {
    resolvePlatformConfig(raw, { ...context, ...overrides });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.problems.map(
      (problem) => `${problem.key} = ${JSON.stringify(problem.value)}: ${problem.message}`,
    );
  }
  return [];
}

function withPatch(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...minimal, ...patch };
}

describe("stack config", () => {
  it("accepts a minimal dev config and fills every default", () => {
    const config = resolvePlatformConfig(minimal, context);
    assert.equal(config.network.vpcCidr, "10.40.0.0/16");
    assert.equal(config.network.availabilityZoneCount, 3);
    assert.equal(config.network.privateSubnetPrefix, 19);
    assert.equal(config.foundation.stack, "organization/eks-gitops-foundation/eu-west-1");
    assert.equal(config.cluster.logRetentionDays, 7);
    assert.equal(config.cluster.deletionProtection, false);
    assert.equal(config.cluster.supportType, "STANDARD");
    assert.deepEqual(config.cluster.publicAccessCidrs, []);
    assert.equal(config.compute.mode, "auto");
    assert.equal(config.cluster.name, "gitops-platform-test");
    assert.equal(config.tags["expires-on"], "2026-12-31");
  });

  it("hardens prod by default: long retention, deletion protection, HA Argo CD", () => {
    const config = resolvePlatformConfig(
      { environment: "prod", access: { deployRoleArn: "arn:aws:iam::111122223333:role/deploy" } },
      context,
    );
    assert.equal(config.cluster.logRetentionDays, 365);
    assert.equal(config.cluster.deletionProtection, true);
    assert.equal(config.gitops.highAvailability, true);
  });

  const rejections: [string, Record<string, unknown>, RegExp][] = [
    [
      "a private subnet smaller than /20",
      { network: { privateSubnetPrefix: 24 } },
      /^eks-gitops-platform:network\.privateSubnetPrefix = 24: .*a \/24 leaves ~250 pod IPs per AZ.*use 19/,
    ],
    [
      "fewer than 3 AZs",
      { network: { availabilityZoneCount: 2 } },
      /^eks-gitops-platform:network\.availabilityZoneCount = 2: .*at least 3 AZs/,
    ],
    [
      "a VPC CIDR that cannot hold the subnets",
      { network: { vpcCidr: "10.0.0.0/20" } },
      /^eks-gitops-platform:network\.vpcCidr = "10\.0\.0\.0\/20": holds 4096 addresses but 3 private \/19 subnets need 24576; use a \/16 block/,
    ],
    [
      "a VPC CIDR with host bits",
      { network: { vpcCidr: "10.0.5.0/16" } },
      /network\.vpcCidr = "10\.0\.5\.0\/16": .*write it as 10\.0\.0\.0\/16/,
    ],
    [
      "an unsupported Kubernetes version",
      { cluster: { kubernetesVersion: "1.29" } },
      /^eks-gitops-platform:cluster\.kubernetesVersion = "1\.29": is not a Kubernetes version this project supports on EKS \(1\.33, 1\.34, 1\.35, 1\.36\); use 1\.36/,
    ],
    [
      "an admin that is not an IAM role or user ARN",
      { access: { admins: ["111122223333"] } },
      /^eks-gitops-platform:access\.admins\.0 = "111122223333": must be an IAM role or user ARN/,
    ],
    [
      "an assumed-role session ARN as admin",
      { access: { admins: ["arn:aws:sts::111122223333:assumed-role/admin/jane"] } },
      /access\.admins\.0 = .*must be an IAM role or user ARN/,
    ],
    [
      "a public endpoint open to 0.0.0.0/0",
      { cluster: { publicAccessCidrs: ["0.0.0.0/0"] } },
      /^eks-gitops-platform:cluster\.publicAccessCidrs\.0 = "0\.0\.0\.0\/0": opens the Kubernetes API .*203\.0\.113\.10\/32/,
    ],
    [
      "an unknown compute mode",
      { compute: { mode: "fargate" } },
      /^eks-gitops-platform:compute\.mode = "fargate": must be "auto" .* or "karpenter"/,
    ],
    [
      "Cilium on Auto Mode",
      { addons: { cilium: true } },
      /addons\.cilium = true: EKS Auto Mode does not support alternate CNI plugins.*compute\.mode: karpenter/,
    ],
    [
      "the CoreDNS autoscaler on Auto Mode",
      { addons: { corednsAutoscaler: true } },
      /addons\.corednsAutoscaler = true: EKS Auto Mode runs DNS as a service on each node/,
    ],
    [
      "Karpenter switched off in karpenter mode",
      { compute: { mode: "karpenter" }, addons: { karpenter: false } },
      /addons\.karpenter = false: compute\.mode: karpenter launches every workload node with Karpenter.*keep addons\.karpenter: true/,
    ],
    [
      "a dev stack without expiry",
      { expiresOn: undefined },
      /^eks-gitops-platform:expiresOn = null: dev stacks .* must carry an expiry date/,
    ],
    [
      "an expiry date that is not on the calendar",
      { expiresOn: "2026-02-30" },
      /^eks-gitops-platform:expiresOn = "2026-02-30": must be a real calendar date/,
    ],
    ["a misspelt key", { netwrok: {} }, /^eks-gitops-platform:netwrok = \{\}: unknown config key/],
    [
      "a nested misspelt key",
      { cluster: { kubernetesVerison: "1.35" } },
      /^eks-gitops-platform:cluster\.kubernetesVerison = "1\.35": unknown config key/,
    ],
    [
      "a key that moved to the foundation",
      { network: { natGateways: "perAz" } },
      /^eks-gitops-platform:network\.natGateways = "perAz": the VPC now belongs to the foundation: set eks-gitops-foundation:network\.natGateways in foundation\/Pulumi\.<stack>\.yaml/,
    ],
    [
      "a foundation reference that is not fully qualified",
      { foundation: { stack: "eu-west-1" } },
      /^eks-gitops-platform:foundation\.stack = "eu-west-1": must be a fully qualified stack name <organization>\/eks-gitops-foundation\/<stack>/,
    ],
    [
      "a bad log retention",
      { cluster: { logRetentionDays: 10 } },
      /cluster\.logRetentionDays = 10: is not a CloudWatch Logs retention period/,
    ],
  ];
  for (const [what, patch, expected] of rejections) {
    it(`rejects ${what}, naming the key, the value and the fix`, () => {
      const problems = problemsOf(withPatch(patch));
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], expected);
    });
  }

  describe("gitops.argocd.publicEndpoint (the capability's UI/API left public)", () => {
    const capability = (publicEndpoint?: unknown) => ({
      install: "capability",
      identityCenter: { instanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef", region: "eu-west-1" },
      ...(publicEndpoint === undefined ? {} : { publicEndpoint }),
    });
    const reason = { reason: "no VPN into the dev VPC yet" };

    it("is accepted on dev with a reason, and is off by default", () => {
      const optedOut = resolvePlatformConfig(withPatch({ gitops: { argocd: capability(reason) } }), context);
      assert.deepEqual(optedOut.gitops.argocd.publicEndpoint, reason);
      const fresh = resolvePlatformConfig(withPatch({ gitops: { argocd: capability() } }), context);
      assert.equal(fresh.gitops.argocd.publicEndpoint, undefined);
    });

    for (const environment of ["prod", "staging"]) {
      it(`is refused on ${environment}, naming the key and the fix`, () => {
        const problems = problemsOf({
          environment,
          access: minimal.access,
          gitops: { argocd: capability(reason) },
        });
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(
          problems[0],
          new RegExp(
            `^eks-gitops-platform:gitops\\.argocd\\.publicEndpoint = .*is refused on ${environment}: .*remove gitops\\.argocd\\.publicEndpoint and reach the UI privately through the VPC endpoint`,
          ),
        );
      });
    }

    it("refuses the capability's own role in access.*: EKS creates its entry, a second one would fail the deploy", () => {
      const problems = problemsOf(
        withPatch({
          cluster: { name: "demo" },
          access: { admins: ["arn:aws:iam::111122223333:role/demo-argocd-capability"] },
          gitops: { argocd: capability() },
        }),
      );
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(
        problems[0],
        /^eks-gitops-platform:access\.admins\.0 = .*the Argo CD capability's own role: EKS creates its access entry/,
      );
      // In helm mode that role does not exist, and another cluster's capability role is just a principal.
      assert.deepEqual(
        problemsOf(
          withPatch({
            cluster: { name: "demo" },
            access: { admins: ["arn:aws:iam::111122223333:role/other-argocd-capability"] },
            gitops: { argocd: capability() },
          }),
        ),
        [],
      );
    });

    it("needs a reason, and applies only to install: capability", () => {
      assert.match(
        problemsOf(withPatch({ gitops: { argocd: capability({ reason: "" }) } })).join("\n"),
        /gitops\.argocd\.publicEndpoint\.reason = "": say why/,
      );
      assert.match(
        problemsOf(withPatch({ gitops: { argocd: capability({}) } })).join("\n"),
        /gitops\.argocd\.publicEndpoint\.reason/,
      );
      assert.match(
        problemsOf(withPatch({ gitops: { argocd: { publicEndpoint: reason } } })).join("\n"),
        /gitops\.argocd\.publicEndpoint = .*applies only to install: capability/,
      );
    });
  });

  it("refuses a public endpoint on prod even with a narrow CIDR", () => {
    const problems = problemsOf({
      environment: "prod",
      access: minimal.access,
      cluster: { publicAccessCidrs: ["203.0.113.10/32"] },
    });
    assert.deepEqual(problems.length, 1);
    assert.match(
      problems[0],
      /cluster\.publicAccessCidrs = \["203\.0\.113\.10\/32"\]: prod keeps the API endpoint private/,
    );
  });

  it("refuses cluster names Cilium or AWS name limits would reject, given or derived", () => {
    assert.match(
      problemsOf(withPatch({ cluster: { name: "Platform-Dev" } }))[0],
      /^eks-gitops-platform:cluster\.name = "Platform-Dev": must be 2–32 lowercase letters/,
    );
    assert.match(
      problemsOf(withPatch({ cluster: { name: "a".repeat(33) } }))[0],
      /cluster\.name = "a{33}": must be 2–32/,
    );
    assert.match(
      problemsOf(minimal, { stack: "Team_Dev" })[0],
      /^eks-gitops-platform:cluster\.name = "gitops-platform-Team_Dev": \(derived from project and stack\) .*set cluster\.name explicitly/,
    );
  });

  it("refuses HA Argo CD on a karpenter-mode system node group of fewer than 3 nodes", () => {
    const problems = problemsOf({
      environment: "prod",
      access: minimal.access,
      compute: { mode: "karpenter", systemNodeGroup: { minSize: 2, maxSize: 3 } },
    });
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /^eks-gitops-platform:compute\.systemNodeGroup\.minSize = 2: HA Argo CD .* needs 3 nodes for redis-ha/,
    );
    assert.deepEqual(
      problemsOf({
        environment: "prod",
        access: minimal.access,
        compute: { mode: "karpenter", systemNodeGroup: { minSize: 3, maxSize: 4 } },
      }),
      [],
    );
  });

  it("names each misspelt key separately", () => {
    const problems = problemsOf(withPatch({ network: { vpcCdir: "10.0.0.0/16", natGateway: "single" } }));
    assert.deepEqual(
      problems.map((problem) => problem.split(" = ")[0]),
      ["eks-gitops-platform:network.vpcCdir", "eks-gitops-platform:network.natGateway"],
    );
  });

  it("reports every problem at once, and a missing region", () => {
    const problems = problemsOf(
      withPatch({ network: { privateSubnetPrefix: 24, availabilityZoneCount: 2 } }),
      { region: undefined },
    );
    assert.equal(problems.length, 3);
    assert.match(problems[0], /^aws:region = null: must be an AWS region/);
  });

  it("accepts karpenter mode with Cilium and the CoreDNS autoscaler", () => {
    const config = resolvePlatformConfig(
      withPatch({ compute: { mode: "karpenter" }, addons: { cilium: true, corednsAutoscaler: true } }),
      context,
    );
    assert.equal(config.compute.mode, "karpenter");
    assert.deepEqual(config.compute.systemNodeGroup, {
      instanceTypes: ["m7g.large"],
      minSize: 2,
      maxSize: 3,
    });
  });
});

describe("access grants", () => {
  it("makes the deploy role and admins cluster admins and viewers read-only", () => {
    const grants = accessGrants({
      deployRoleArn: "arn:aws:iam::111122223333:role/github-deploy",
      admins: ["arn:aws:iam::111122223333:role/team/admins"],
      viewers: ["arn:aws:iam::111122223333:user/jane"],
    });
    assert.deepEqual(
      grants.map((grant) => [grant.logicalName, grant.accessPolicy]),
      [
        ["role-github-deploy-111122223333", "AmazonEKSClusterAdminPolicy"],
        ["role-team-admins-111122223333", "AmazonEKSClusterAdminPolicy"],
        ["user-jane-111122223333", "AmazonEKSViewPolicy"],
      ],
    );
  });

  it("refuses a principal listed twice", () => {
    assert.throws(
      () =>
        accessGrants({
          admins: ["arn:aws:iam::111122223333:role/a"],
          viewers: ["arn:aws:iam::111122223333:role/a"],
        }),
      /access\.viewers: arn:aws:iam::111122223333:role\/a is already granted access/,
    );
  });

  describe("Kubernetes version support windows", () => {
    const resolveOn = (today: string, cluster: Record<string, unknown>) =>
      resolvePlatformConfig(withPatch({ cluster }), { ...context, today });
    const problemOn = (today: string, cluster: Record<string, unknown>) => {
      try {
        resolveOn(today, cluster);
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.problems.map((problem) => `${problem.key}: ${problem.message}`).join("\n");
      }
      return "";
    };

    it("refuses a version past standard support unless supportType EXTENDED is set, naming the end date and the cost", () => {
      const problem = problemOn("2026-11-28", { kubernetesVersion: "1.33" });
      assert.match(
        problem,
        /^eks-gitops-platform:cluster\.kubernetesVersion: 1\.33 left standard support on 2026-07-29/,
      );
      assert.match(problem, /\$0\.60 instead of \$0\.10 per cluster-hour, about \$365 more a month/);
      assert.match(problem, /cannot go back/);
      assert.match(problem, /upgrade to 1\.36, or accept it with cluster\.supportType: EXTENDED/);
      assert.equal(problemOn("2026-11-28", { kubernetesVersion: "1.33", supportType: "STANDARD" }), problem);
      assert.equal(
        resolveOn("2026-11-28", { kubernetesVersion: "1.33", supportType: "EXTENDED" }).cluster.supportType,
        "EXTENDED",
      );
    });

    it("judges the window on the day: 1.34 is fine until 2026-12-02, refused after", () => {
      assert.equal(problemOn("2026-12-02", { kubernetesVersion: "1.34" }), "");
      assert.match(
        problemOn("2026-12-03", { kubernetesVersion: "1.34" }),
        /left standard support on 2026-12-02/,
      );
    });

    it("refuses a version past extended support even with EXTENDED", () => {
      assert.match(
        problemOn("2027-07-30", { kubernetesVersion: "1.33", supportType: "EXTENDED" }),
        /1\.33 left extended support on 2027-07-29: EKS no longer runs it; use 1\.36/,
      );
    });
  });
});
