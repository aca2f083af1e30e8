import { strict as assert } from "node:assert";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runCostCli } from "../../ops/cost/cli";
import { estimateMonthlyCost } from "../../ops/cost/estimate";
import { formatCostComparison, formatCostEstimate } from "../../ops/cost/format";
import type { SynthResource, SynthResult } from "../../synth/types";

const fixtureDir = path.join(__dirname, "..", "fixtures", "ops", "cost");
const loadDev = (): SynthResult =>
  JSON.parse(readFileSync(path.join(fixtureDir, "dev", "resources.json"), "utf8"));
const on = "2026-11-25";

function withResources(
  result: SynthResult,
  extra: Partial<SynthResource>[],
  drop: (r: SynthResource) => boolean = () => false,
) {
  const base: Omit<SynthResource, "type" | "name" | "urn"> = {
    parent: "",
    custom: true,
    inputs: {},
    dependencies: [],
    propertyDependencies: {},
    protect: false,
    retainOnDelete: false,
    provider: "",
  };
  const added = extra.map((r) => ({ ...base, urn: `urn:test::${r.type}::${r.name}`, ...r }) as SynthResource);
  return { ...result, resources: [...result.resources.filter((r) => !drop(r)), ...added] };
}

const line = (estimate: ReturnType<typeof estimateMonthlyCost>, item: string) => {
  const found = estimate.lines.find((l) => l.item === item);
  assert.ok(found, `no line "${item}" in ${estimate.lines.map((l) => l.item).join(", ")}`);
  return found;
};

describe("ops/cost estimateMonthlyCost", () => {
  it("prices the dev fixture at the hand-computed figure (us-east-1, 730 h)", () => {
    const estimate = estimateMonthlyCost(loadDev(), { date: on });
    // 0.10×730 | 2×0.077×0.4×730 (dev: spot m6g.large) | 12% of 2×0.077×730 | 0.045×730 | 0.005×730 | 2 AZ×0.01×730 | $1 |
    // (1+0.5) GB/d × 730/24 d × $0.50 | (1+0.5) GB/d × 7 d × 0.15 × $0.03 | 1 endpoint × 5 GB × $0.01
    const expected: Record<string, number> = {
      "EKS control plane (standard support)": 73.0,
      "Auto Mode baseline nodes": 44.97,
      "Auto Mode management fee": 13.49,
      "NAT gateways": 32.85,
      "Public IPv4 addresses": 3.65,
      "VPC interface endpoints": 14.6,
      "VPC interface endpoint data": 0.05,
      "KMS keys": 1.0,
      "CloudWatch Logs ingestion": 22.81,
      "CloudWatch Logs storage": 0.05,
    };
    assert.deepEqual(Object.fromEntries(estimate.lines.map((l) => [l.item, l.monthly])), expected);
    assert.equal(estimate.total, 206.47);
    assert.equal(estimate.region, "us-east-1");
    assert.deepEqual(estimate.notEstimated, []);
  });

  it("says what keeps the Auto Mode nodes up: Argo CD only where its chart runs (not on a fleet spoke)", () => {
    const standalone = estimateMonthlyCost(loadDev(), { date: on });
    // A fleet spoke: the same stack without the argo-cd chart (its hub's Argo CD deploys to it).
    const spoke = estimateMonthlyCost(
      withResources(loadDev(), [], (r) => r.type === "kubernetes:helm.sh/v3:Release"),
      { date: on },
    );
    const baseline = (estimate: ReturnType<typeof estimateMonthlyCost>) =>
      estimate.assumptions.filter((assumption) => assumption.startsWith("Auto Mode keeps"));
    assert.deepEqual(baseline(standalone), ["Auto Mode keeps 2 nodes running for Argo CD and the add-ons"]);
    assert.deepEqual(baseline(spoke), [
      "Auto Mode keeps 2 nodes running for the add-ons (no Argo CD runs on this cluster's nodes)",
    ]);
    // The node count stays: the add-ons alone need two nodes in prod (metrics-server's replicas spread over hosts).
    assert.equal(spoke.total, standalone.total);
  });

  it("lists free and in-cluster types as having no fixed charge, with the reason", () => {
    const estimate = estimateMonthlyCost(loadDev(), { date: on });
    const free = Object.fromEntries(estimate.noFixedCharge.map((item) => [item.type, item]));
    assert.equal(free["aws:ec2/subnet:Subnet"].count, 6);
    assert.match(free["aws:ec2/vpcEndpoint:VpcEndpoint (Gateway)"].reason, /free/);
    assert.match(free["kubernetes:helm.sh/v3:Release"].reason, /node capacity/);
    assert.ok(!("pulumi:providers:aws" in free), "providers are not cloud resources");
  });

  it("shows an unpriced resource type as not estimated instead of $0", () => {
    const result = withResources(loadDev(), [
      { type: "aws:rds/instance:Instance", name: "db", inputs: { instanceClass: "db.t4g.micro" } },
    ]);
    const estimate = estimateMonthlyCost(result, { date: on });
    assert.deepEqual(estimate.notEstimated, [
      {
        item: "aws:rds/instance:Instance",
        reason: "no price rule for this resource type",
        resources: ["db"],
      },
    ]);
    assert.equal(estimate.total, 206.47, "the unpriced item adds nothing to the total");
    assert.match(formatCostEstimate(estimate), /not estimated: aws:rds\/instance:Instance \(db\)/);
    assert.match(formatCostEstimate(estimate), /lower bound/);
  });

  it("bills extended support hours once a version is past standard support with supportType EXTENDED", () => {
    const result = loadDev();
    const cluster = result.resources.find((r) => r.type === "aws:eks/cluster:Cluster") as SynthResource;
    const extended = withResources(
      result,
      [
        {
          ...cluster,
          inputs: { ...cluster.inputs, version: "1.33", upgradePolicy: { supportType: "EXTENDED" } },
        },
      ],
      (r) => r === cluster,
    );
    assert.equal(
      line(estimateMonthlyCost(extended, { date: on }), "EKS control plane (extended support)").monthly,
      438,
    );
    // Before its end of standard support (2026-07-29) the same cluster is still billed at the standard rate.
    const early = line(
      estimateMonthlyCost(extended, { date: "2026-07-01" }),
      "EKS control plane (standard support)",
    );
    assert.equal(early.monthly, 73);
    assert.match(early.note ?? "", /extended support on 2026-07-29: then \$438/);
    // STANDARD means auto-upgrade at the end of standard support, never extended hours.
    const standard = withResources(
      result,
      [{ ...cluster, inputs: { ...cluster.inputs, version: "1.33" } }],
      (r) => r === cluster,
    );
    assert.equal(
      line(estimateMonthlyCost(standard, { date: on }), "EKS control plane (standard support)").monthly,
      73,
    );
  });

  it("prices a karpenter-mode node group at its minimum size and skips the Auto Mode lines", () => {
    const result = loadDev();
    const cluster = result.resources.find((r) => r.type === "aws:eks/cluster:Cluster") as SynthResource;
    const karpenter = withResources(
      result,
      [
        { ...cluster, inputs: { ...cluster.inputs, computeConfig: undefined } },
        {
          type: "aws:eks/nodeGroup:NodeGroup",
          name: "system",
          inputs: { instanceTypes: ["m7g.large"], scalingConfig: { minSize: 2, maxSize: 3 } },
        },
      ],
      (r) => r === cluster,
    );
    const estimate = estimateMonthlyCost(karpenter, { date: on });
    assert.equal(line(estimate, "Node group minimum capacity").monthly, 119.14); // 2 × 0.0816 × 730
    assert.ok(!estimate.lines.some((l) => l.item.startsWith("Auto Mode")));
    // The pods that do not tolerate the system nodes (Kubecost…) keep one node of the winning Karpenter pool up.
    assert.match(
      line(estimate, "Karpenter baseline nodes").basis,
      /^1 × m6g\.large spot .*platform-spot-arm64/,
    );
    assert.equal(line(estimate, "Karpenter baseline nodes").monthly, 22.48); // 0.077 × 0.4 × 730
  });

  it("prices the platform's nodes from the node pool that runs its pods (family, capacity type, architecture)", () => {
    // dev: the spot arm64 pool has the highest weight, so the platform's pods run on spot Graviton.
    const dev = estimateMonthlyCost(loadDev(), { date: on });
    assert.match(
      line(dev, "Auto Mode baseline nodes").basis,
      /^2 × m6g\.large spot × 730 h × \$0\.0308 \(NodePool platform-spot-arm64, assumed\)$/,
    );
    assert.ok(
      dev.assumptions.some((text) =>
        /NodePool platform-spot-arm64\): spot, arm64, c\/m\/r\/t families.*spot at 40% of on-demand/.test(
          text,
        ),
      ),
      dev.assumptions.join("\n"),
    );
    // prod: one on-demand pool (amd64 or arm64, generation > 5) of equal weight with Auto Mode's general-purpose
    // pool; Karpenter tries the later name first, so platform-on-demand, where Graviton is the cheapest fit.
    const prod = estimateMonthlyCost(
      { ...loadDev(), config: { region: "us-east-1", environment: "prod" } },
      { date: on },
    );
    assert.equal(line(prod, "Auto Mode baseline nodes").monthly, 112.42); // 2 × 0.077 × 730
    assert.match(
      line(prod, "Auto Mode baseline nodes").basis,
      /m6g\.large on-demand .*NodePool platform-on-demand/,
    );
    assert.equal(line(prod, "Auto Mode management fee").monthly, 13.49);
    // Without the Karpenter add-on only Auto Mode's built-in general-purpose pool is left: amd64 on-demand.
    const builtIn = estimateMonthlyCost(
      { ...loadDev(), config: { region: "us-east-1", environment: "prod", addons: { karpenter: false } } },
      { date: on },
    );
    assert.equal(line(builtIn, "Auto Mode baseline nodes").monthly, 140.16); // 2 × m5.large 0.096 × 730
  });

  it("multiplies interface endpoints by their AZs and leaves gateway endpoints free", () => {
    const result = withResources(loadDev(), [
      {
        type: "aws:ec2/vpcEndpoint:VpcEndpoint",
        name: "ecr",
        inputs: { vpcEndpointType: "Interface", subnetIds: ["a", "b", "c"] },
      },
    ]);
    const estimate = estimateMonthlyCost(result, { date: on });
    assert.equal(line(estimate, "VPC interface endpoints").monthly, 36.5); // 5 × 0.01 × 730
    const data = line(estimate, "VPC interface endpoint data");
    assert.equal(data.monthly, 0.1); // 2 endpoints × 5 GB × $0.01
    assert.equal(data.basis, "2 × 5 GB/month × $0.01/GB (assumed volume)");
    assert.ok(estimate.assumptions.includes("each interface VPC endpoint processes 5 GB a month"));
  });

  it("uses the region's own prices and flags lines it has no price for", () => {
    const eu = { ...loadDev(), config: { region: "eu-west-1" } };
    const estimate = estimateMonthlyCost(eu, { date: on });
    assert.equal(line(estimate, "NAT gateways").monthly, 35.04); // 0.048 × 730
    assert.equal(line(estimate, "Auto Mode baseline nodes").monthly, 156.22); // 2 × 0.107 × 730

    const nowhere = estimateMonthlyCost({ ...loadDev(), config: { region: "ap-south-2" } }, { date: on });
    assert.equal(nowhere.total, 0);
    assert.ok(
      nowhere.notEstimated.some(
        (item) => item.item === "NAT gateways" && /no prices for region ap-south-2/.test(item.reason),
      ),
    );
    assert.ok(nowhere.notEstimated.some((item) => item.item === "EKS control plane"));
  });

  it("flags an instance type missing from the region's table", () => {
    const result = withResources({ ...loadDev(), config: { region: "eu-west-1" } }, [
      {
        type: "aws:eks/nodeGroup:NodeGroup",
        name: "system",
        inputs: { instanceTypes: ["m7g.large"], scalingConfig: { minSize: 2 } },
      },
    ]);
    const estimate = estimateMonthlyCost(result, { date: on });
    assert.deepEqual(
      estimate.notEstimated.find((item) => item.item === "Node group minimum capacity"),
      {
        item: "Node group minimum capacity",
        reason: "no eu-west-1 price for m7g.large",
        resources: ["system"],
      },
    );
  });
});

describe("ops/cost comparison and CLI", () => {
  it("reports the change between base and head per item and in total", () => {
    const base = estimateMonthlyCost(loadDev(), { date: on });
    const perAz = withResources(loadDev(), [
      { type: "aws:ec2/natGateway:NatGateway", name: "vpc-b" },
      { type: "aws:ec2/natGateway:NatGateway", name: "vpc-c" },
      { type: "aws:ec2/eip:Eip", name: "vpc-nat-b" },
      { type: "aws:ec2/eip:Eip", name: "vpc-nat-c" },
    ]);
    const head = estimateMonthlyCost(perAz, { date: on });
    const markdown = formatCostComparison(base, head);
    assert.match(markdown, /\| NAT gateways \| \$32\.85 \| \$98\.55 \| \+\$65\.70 \(\+200\.0%\) \|/);
    assert.match(
      markdown,
      /\| \*\*Total\*\* \| \*\*\$206\.47\*\* \| \*\*\$279\.47\*\* \| \*\*\+\$73\.00 \(\+35\.4%\)\*\* \|/,
    );
  });

  it("reads <dir>/<stack>/resources.json, treats a stack missing on base as new", () => {
    const work = mkdtempSync(path.join(tmpdir(), "cost-cli-"));
    const head = path.join(work, "head");
    mkdirSync(path.join(head, "dev"), { recursive: true });
    mkdirSync(path.join(work, "empty"));
    writeFileSync(
      path.join(head, "dev", "resources.json"),
      readFileSync(path.join(fixtureDir, "dev", "resources.json")),
    );
    const newStack = runCostCli(["--base", path.join(work, "empty"), "--head", head, "--stack", "dev"]);
    assert.match(newStack, /#### Estimated fixed monthly cost: `dev` \(us-east-1\)/);
    assert.match(newStack, /new stack/);

    const removed = runCostCli(["--base", head, "--head", path.join(work, "empty"), "--stack", "dev"]);
    assert.match(removed, /removed by this change: −\$\d+\.\d\d a month/);

    const same = runCostCli(["--base", fixtureDir, "--head", head, "--stack", "dev"]);
    assert.match(same, /\*\*±\$0\.00\*\*/);
    assert.throws(() => runCostCli(["--head"]), /--head needs a value\nusage: npm run cost/);
    assert.throws(
      () => runCostCli(["--base", "/nonexistent", "--head", head]),
      /^Error: --base \/nonexistent: no such directory/,
    );
    assert.throws(() => runCostCli(["--head", head]), /--base and --head are both required/);
    assert.throws(() => runCostCli(["--base", work, "--head", head, "--stack", "prod"]), /neither/);
  });
});
