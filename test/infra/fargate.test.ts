import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, resolvePlatformConfig } from "../../infra/config";
import {
  fargateForbiddenNamespaces,
  fargateLabelsPerSelector,
  fargatePatternMatches,
  fargateProfilesPerCluster,
  fargateSelectorsPerProfile,
} from "../../infra/config/fargate";
import { everydayServiceAccounts } from "../../infra/addons/everyday";
import { estimateMonthlyCost } from "../../ops/cost";
import { priceTable } from "../../ops/cost/prices";
import { runPolicyPack, loadPackConfig } from "../../policies/harness";
import { globMatches } from "../../policies/lib/values";
import { defaultFargateForbiddenNamespaces } from "../../policies/workloads";
import { synthesize, SynthResult } from "../../synth";
import { fargateSummary, formatSummary } from "../../synth/summary";
import { ofType, single, synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";

const fargateType = "aws:eks/fargateProfile:FargateProfile";
const context = { project: "eks-gitops-platform", stack: "test", region: "eu-west-1" };
const minimal = {
  environment: "dev",
  expiresOn: "2026-12-31",
  access: { admins: ["arn:aws:iam::111122223333:role/platform-admins"] },
};

interface ProfileFacts {
  maxSelectorsPerProfile: number;
  wildcardExamples: { pattern: string; matches: string[]; misses: string[] }[];
}
interface RoleFacts {
  managedPolicy: string;
  trust: { principalService: string; action: string; conditionOperator: string; conditionKey: string };
}
const profileFacts = upstreamFact<ProfileFacts>("amazon-eks-user-guide-mainline.fargate-profile.json").facts;
const roleFacts = upstreamFact<RoleFacts>("amazon-eks-user-guide-mainline.pod-execution-role.json").facts;
const subnetTagFacts = upstreamFact<{ clusterTagAddedByEks: string; clusterTagRequiredBy: string }>(
  "amazon-eks-user-guide-mainline.subnet-tags.json",
).facts;

function problemsOf(fargateProfiles: unknown, mode = "auto"): string[] {
  try {
    resolvePlatformConfig({ ...minimal, compute: { mode, fargateProfiles } }, context);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.problems.map(
      (problem) => `${problem.key} = ${JSON.stringify(problem.value)}: ${problem.message}`,
    );
  }
  return [];
}

const batch = { name: "batch", selectors: [{ namespace: "batch" }] };
const key = "eks-gitops-platform:compute.fargateProfiles";

describe("Fargate profiles: stack config", () => {
  it("defaults to none, and accepts a profile in both compute modes", () => {
    assert.deepEqual(resolvePlatformConfig(minimal, context).compute.fargateProfiles, []);
    for (const mode of ["auto", "karpenter"]) {
      const config = resolvePlatformConfig(
        {
          ...minimal,
          compute: {
            mode,
            fargateProfiles: [
              { name: "jobs", selectors: [{ namespace: "jobs-*", labels: { tier: "batch" } }] },
            ],
          },
          addons: { cilium: mode === "karpenter", corednsAutoscaler: false },
        },
        context,
      );
      assert.deepEqual(config.compute.fargateProfiles, [
        { name: "jobs", selectors: [{ namespace: "jobs-*", labels: { tier: "batch" } }] },
      ]);
    }
  });

  it("refuses every platform namespace, naming the key, the namespace and the fix", () => {
    for (const namespace of Object.keys(fargateForbiddenNamespaces)) {
      const problems = problemsOf([{ name: "p", selectors: [{ namespace: "batch" }, { namespace }] }]);
      assert.equal(problems.length, 1, namespace);
      assert.match(
        problems[0],
        new RegExp(
          `^${key}\\.0\\.selectors\\.1\\.namespace = "${namespace}": would put ${namespace} on Fargate, .*select only your workload namespaces`,
        ),
      );
    }
  });

  it("refuses wildcards that match a platform namespace, even with labels", () => {
    assert.deepEqual(
      problemsOf([{ name: "p", selectors: [{ namespace: "kube-*", labels: { app: "x" } }] }]),
      [
        `${key}.0.selectors.0.namespace = "kube-*": would put kube-system on Fargate, which runs no DaemonSets, privileged pods or EBS volumes and gives pods no Pod Identity (kube-system: ${fargateForbiddenNamespaces["kube-system"]}); select only your workload namespaces, e.g. batch, with no wildcard that matches a platform namespace`,
      ],
    );
    assert.match(problemsOf([{ name: "p", selectors: [{ namespace: "fal?o" }] }])[0], /would put falco on/);
    assert.match(
      problemsOf([{ name: "p", selectors: [{ namespace: "*cost" }] }])[0],
      /would put kubecost on/,
    );
    assert.match(
      problemsOf([{ name: "p", selectors: [{ namespace: "*" }] }])[0],
      /would put kube-system, argocd, karpenter, falco, cilium, kubecost, monitoring, external-dns, external-secrets on Fargate/,
    );
    assert.deepEqual(
      problemsOf([{ name: "p", selectors: [{ namespace: "batch-?" }, { namespace: "team*" }] }]),
      [],
    );
  });

  it(`refuses more than ${fargateSelectorsPerProfile} selectors per profile (the EKS limit)`, () => {
    assert.equal(fargateSelectorsPerProfile, profileFacts.maxSelectorsPerProfile);
    const selectors = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ namespace: `team-${index}` }));
    assert.deepEqual(problemsOf([{ name: "p", selectors: selectors(5) }]), []);
    assert.deepEqual(
      problemsOf([{ name: "p", selectors: selectors(6) }]).map((problem) =>
        problem.split(": ").slice(1).join(": "),
      ),
      [
        "EKS allows at most 5 selectors per Fargate profile; split them over two profiles or use a wildcard such as batch-*",
      ],
    );
    assert.match(
      problemsOf([{ name: "p", selectors: [] }])[0],
      /^.*\.0\.selectors = \[\]: a Fargate profile needs at least one selector/,
    );
  });

  it(`refuses more than ${fargateProfilesPerCluster} profiles (the EKS per-cluster quota)`, () => {
    const profiles = (count: number) =>
      Array.from({ length: count }, (_, index) => ({
        name: `p${index}`,
        selectors: [{ namespace: `team-${index}` }],
      }));
    assert.deepEqual(problemsOf(profiles(10)), []);
    const problems = problemsOf(profiles(11));
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      new RegExp(`^${key} = .*EKS allows 10 Fargate profiles per cluster \\(the default service quota`),
    );
  });

  it(`refuses more than ${fargateLabelsPerSelector} label pairs per selector`, () => {
    const labels = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, "v"]));
    assert.deepEqual(problemsOf([{ name: "p", selectors: [{ namespace: "batch", labels: labels(5) }] }]), []);
    assert.match(
      problemsOf([{ name: "p", selectors: [{ namespace: "batch", labels: labels(6) }] }])[0],
      /selectors\.0\.labels = .*at most 5 label pairs per Fargate selector/,
    );
  });

  it("refuses duplicate names and names EKS pods could not carry as a label", () => {
    assert.deepEqual(problemsOf([batch, { name: "batch", selectors: [{ namespace: "reports" }] }]), [
      `${key}.1.name = "batch": another Fargate profile is already named "batch"; EKS needs unique names per cluster — rename one`,
    ]);
    for (const name of ["Batch", "batch_jobs", "-batch", "batch-", "", "b".repeat(64)]) {
      assert.match(
        problemsOf([{ name, selectors: [{ namespace: "batch" }] }])[0] ?? "",
        /\.0\.name = .*must be 1–63 lowercase/,
        name,
      );
    }
    assert.deepEqual(problemsOf([{ name: "b".repeat(63), selectors: [{ namespace: "batch" }] }]), []);
  });

  it("refuses namespaces that are not Kubernetes names, and keys it does not know (subnets are not a choice)", () => {
    assert.match(
      problemsOf([{ name: "p", selectors: [{ namespace: "Batch Jobs" }] }])[0],
      /namespace = "Batch Jobs": must be a Kubernetes namespace name/,
    );
    assert.match(
      problemsOf([{ ...batch, subnetIds: ["subnet-0123"] }])[0],
      /^eks-gitops-platform:compute\.fargateProfiles\.0\.subnetIds = \["subnet-0123"\]: unknown config key/,
    );
  });

  it("matches selectors as EKS does, and as the policy pack does", () => {
    for (const example of profileFacts.wildcardExamples) {
      for (const value of example.matches)
        assert.ok(fargatePatternMatches(example.pattern, value), `${example.pattern} ~ ${value}`);
      for (const value of example.misses)
        assert.ok(!fargatePatternMatches(example.pattern, value), `${example.pattern} !~ ${value}`);
    }
    const patterns = [
      "*",
      "kube-*",
      "?rgocd",
      "fal?o",
      "*cost",
      "batch",
      "c*m",
      "mon.toring",
      "k?be-system",
      "argo[cd]",
    ];
    const names = [...Object.keys(fargateForbiddenNamespaces), "batch", "monitoring", "argoc", "monXtoring"];
    for (const pattern of patterns) {
      for (const name of names) {
        assert.equal(
          fargatePatternMatches(pattern, name),
          globMatches(pattern, name),
          `${pattern} vs ${name}`,
        );
      }
    }
  });
});

describe("Fargate profiles: the policy pack agrees with the program", () => {
  it("refuses every namespace where a platform add-on relies on Pod Identity (Fargate pods cannot use it)", async () => {
    const namespaces = new Set<string>(
      Object.values(everydayServiceAccounts).map((account) => account.namespace),
    );
    for (const stack of ["dev", "staging", "prod"]) {
      for (const association of ofType(
        await synthesizedStack(stack),
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
      ))
        namespaces.add(String(association.inputs.namespace));
    }
    assert.ok(namespaces.has("external-dns") && namespaces.has("kube-system"));
    for (const namespace of namespaces) {
      assert.ok(
        Object.keys(fargateForbiddenNamespaces).includes(namespace),
        `${namespace} has a Pod Identity association but may be routed to Fargate`,
      );
    }
  });

  it("refuses exactly the namespaces the program refuses", () => {
    assert.deepEqual(
      [...defaultFargateForbiddenNamespaces].sort(),
      Object.keys(fargateForbiddenNamespaces).sort(),
    );
  });

  it("keeps its copy inside policies/: workloads.ts imports nothing from outside (the pack is published)", () => {
    const root = path.join(__dirname, "..", "..", "policies");
    const source = fs.readFileSync(path.join(root, "workloads.ts"), "utf8");
    const imports = [...source.matchAll(/from\s+"(\.[^"]*)"/g)].map((match) => match[1]);
    assert.ok(imports.length > 0);
    for (const specifier of imports) {
      assert.ok(
        path.resolve(root, specifier).startsWith(root + path.sep),
        `workloads.ts imports ${specifier}`,
      );
    }
  });
});

describe("Fargate profiles: synthesized (mocks)", function () {
  this.timeout(120_000);
  let staging: SynthResult;
  before(async () => {
    staging = await synthesizedStack("staging");
  });

  it("staging routes the batch namespace to Fargate in the staging cluster", () => {
    const profile = single(staging, fargateType);
    const cluster = single(staging, "aws:eks/cluster:Cluster");
    assert.equal(profile.inputs.fargateProfileName, "batch");
    assert.equal(profile.inputs.clusterName, cluster.inputs.name);
    assert.deepEqual(profile.inputs.selectors, [{ namespace: "batch" }]);
    assert.ok(profile.propertyDependencies.clusterName.includes(cluster.urn));
    assert.equal((profile.inputs.tags as Record<string, string>).environment, "staging");
    assert.equal((profile.inputs.tags as Record<string, string>).Name, "batch");
  });

  it("puts Fargate pods only in the private subnets, all of them", () => {
    const profile = single(staging, fargateType);
    const subnets = ofType(staging, "aws:ec2/subnet:Subnet");
    const privateUrns = subnets
      .filter(
        (subnet) => (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"] === "1",
      )
      .map((subnet) => subnet.urn);
    assert.equal(privateUrns.length, 3);
    assert.deepEqual([...profile.propertyDependencies.subnetIds].sort(), [...privateUrns].sort());
    assert.equal((profile.inputs.subnetIds as string[]).length, 3);
    for (const subnet of subnets.filter((item) => privateUrns.includes(item.urn))) {
      assert.notEqual(subnet.inputs.mapPublicIpOnLaunch, true);
    }
  });

  it("gives no Fargate subnet a direct route to an internet gateway, and no other cluster's tag (EKS needs none)", () => {
    assert.equal(subnetTagFacts.clusterTagAddedByEks, "clusters created at Kubernetes 1.18 or earlier only");
    assert.equal(subnetTagFacts.clusterTagRequiredBy, "AWS Load Balancer Controller 2.1.1 or earlier");
    const profile = single(staging, fargateType);
    const subnetUrns = profile.propertyDependencies.subnetIds;
    const routes = ofType(staging, "aws:ec2/route:Route");
    for (const subnetUrn of subnetUrns) {
      const subnet = staging.resources.find((resource) => resource.urn === subnetUrn);
      assert.ok(subnet);
      // EKS needs no cluster tag here; the one the subnet carries (load balancer placement in the shared VPC,
      // test/infra/shared-vpc-subnets.test.ts) names its own cluster only.
      const clusterName = String(single(staging, "aws:eks/cluster:Cluster").inputs.name);
      assert.deepEqual(
        Object.keys((subnet.inputs.tags as Record<string, string>) ?? {}).filter((tag) =>
          tag.startsWith("kubernetes.io/cluster/"),
        ),
        [`kubernetes.io/cluster/${clusterName}`],
      );
      const associations = ofType(staging, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter(
        (association) => association.propertyDependencies.subnetId?.includes(subnetUrn),
      );
      assert.equal(associations.length, 1, `${subnetUrn} has one route table`);
      const table = associations[0].propertyDependencies.routeTableId[0];
      const defaultRoutes = routes.filter((route) =>
        route.propertyDependencies.routeTableId?.includes(table),
      );
      assert.ok(defaultRoutes.length > 0);
      for (const route of defaultRoutes) {
        assert.equal(route.inputs.gatewayId, undefined, `${subnetUrn}: route to an internet gateway`);
        assert.ok(route.inputs.natGatewayId, `${subnetUrn}: egress through a NAT gateway`);
      }
    }
  });

  it("runs pods with an execution role: the managed policy, trusted by Fargate for this cluster's profiles only", () => {
    const profile = single(staging, fargateType);
    const role = ofType(staging, "aws:iam/role:Role").find((item) =>
      profile.propertyDependencies.podExecutionRoleArn.includes(item.urn),
    );
    assert.ok(role, "the profile's podExecutionRoleArn comes from a role in the stack");
    assert.equal(role.inputs.name, "platform-staging-fargate-pods");
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as {
      Statement: {
        Effect: string;
        Principal: { Service: string };
        Action: unknown;
        Condition: Record<string, Record<string, string>>;
      }[];
    };
    assert.deepEqual(trust.Statement, [
      {
        Effect: "Allow",
        Principal: { Service: roleFacts.trust.principalService },
        Action: roleFacts.trust.action,
        Condition: {
          [roleFacts.trust.conditionOperator]: {
            [roleFacts.trust.conditionKey]:
              "arn:aws:eks:eu-west-1:111122223333:fargateprofile/platform-staging/*",
          },
        },
      },
    ]);
    const attachments = ofType(staging, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((item) =>
      item.propertyDependencies.role?.includes(role.urn),
    );
    assert.deepEqual(
      attachments.map((item) => item.inputs.policyArn),
      [`arn:aws:iam::aws:policy/${roleFacts.managedPolicy}`],
    );
    assert.ok(
      attachments.every((item) => profile.dependencies.includes(item.urn)),
      "profile waits for the policy",
    );
    const nodeRole = ofType(staging, "aws:iam/role:Role").find(
      (item) => item.inputs.name === "platform-staging-node",
    );
    assert.notEqual(nodeRole?.urn, role.urn, "EKS wants a role distinct from the node role");
  });

  it("passes the policy pack as synthesized, and the pack catches the same profile moved to kube-system", () => {
    assert.deepEqual(runPolicyPack(staging, loadPackConfig("staging")).violations, []);
    const broken = JSON.parse(JSON.stringify(staging)) as SynthResult;
    const profile = broken.resources.find((resource) => resource.type === fargateType);
    (profile as { inputs: Record<string, unknown> }).inputs.selectors = [{ namespace: "kube-*" }];
    assert.deepEqual(
      runPolicyPack(broken, loadPackConfig("staging")).violations.map((violation) => violation.policy),
      ["eks-fargate-namespaces"],
    );
  });

  it("in Auto Mode too, creating profiles one after another (EKS refuses concurrent profile changes)", async () => {
    const dev = await synthesizedStack("dev");
    assert.deepEqual(ofType(dev, fargateType), []);
    assert.equal(
      ofType(dev, "aws:iam/role:Role").filter((role) => String(role.inputs.name).endsWith("-fargate-pods"))
        .length,
      0,
    );

    const withProfiles = await synthesize("dev", {
      overrides: {
        compute: {
          fargateProfiles: [
            batch,
            {
              name: "reports",
              selectors: [{ namespace: "reports", labels: { "example.com/tier": "nightly" } }],
            },
          ],
        },
      },
    });
    assert.equal(
      (single(withProfiles, "aws:eks/cluster:Cluster").inputs.computeConfig as { enabled: boolean }).enabled,
      true,
    );
    const [first, second] = ofType(withProfiles, fargateType);
    assert.deepEqual(second.inputs.selectors, [
      { namespace: "reports", labels: { "example.com/tier": "nightly" } },
    ]);
    assert.ok(second.dependencies.includes(first.urn), "the second profile waits for the first");
    assert.equal(first.inputs.podExecutionRoleArn, second.inputs.podExecutionRoleArn);
    assert.match(fargateSummary(withProfiles)[1], /profile batch: namespaces batch; 3 subnets/);
  });

  it("says in the synth summary that Falco and Cilium cannot see Fargate pods", async () => {
    const lines = fargateSummary(staging);
    assert.equal(lines[0], "Fargate:");
    assert.match(
      lines.join("\n"),
      /Falco and Cilium run as DaemonSets on nodes and cannot observe Fargate pods/,
    );
    assert.match(lines.join("\n"), /pods in batch/);
    assert.ok(formatSummary(staging).includes(lines.join("\n")));
    assert.deepEqual(fargateSummary(await synthesizedStack("dev")), []);
    assert.ok(!formatSummary(await synthesizedStack("dev")).includes("Fargate"));
  });

  it("is priced per vCPU-hour and GB-hour at the stated usage per profile", () => {
    const estimate = estimateMonthlyCost(staging, { date: "2026-11-28" });
    const usage = priceTable.assumptions.fargatePerProfile;
    const prices = priceTable.regions["eu-west-1"];
    const line = estimate.lines.find((item) => item.item === "Fargate pods (assumed usage)");
    assert.ok(line);
    assert.equal(
      line.monthly,
      Math.round((usage.vcpuHours * prices.fargateVcpuHour + usage.gbHours * prices.fargateGbHour) * 100) /
        100,
    );
    assert.equal(line.monthly, 13.03);
    assert.equal(line.basis, "1 profile × (240 vCPU-h × $0.04456 + 480 GB-h × $0.004865)");
    assert.ok(!estimate.notEstimated.some((item) => item.item.includes("argate")));
    assert.ok(
      estimate.assumptions.some((text) =>
        text.startsWith("each Fargate profile runs 240 vCPU-hours and 480 GB-hours a month"),
      ),
    );
    const unknownRegion = estimateMonthlyCost(staging, { date: "2026-11-28", region: "sa-east-1" });
    assert.ok(unknownRegion.notEstimated.some((item) => item.item === "Fargate pods"));
  });

  it("states the Fargate usage assumption only for a stack that has profiles", async () => {
    const fargateAssumption = (result: SynthResult) =>
      estimateMonthlyCost(result, { date: "2026-11-28" }).assumptions.filter((text) =>
        text.includes("Fargate"),
      );
    assert.equal(fargateAssumption(staging).length, 1);
    for (const stack of ["dev", "prod"])
      assert.deepEqual(fargateAssumption(await synthesizedStack(stack)), []);
  });
});
