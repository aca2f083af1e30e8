import type { PlatformConfig } from "../../infra/config";
import { findKubernetesVersion } from "../../infra/config/kubernetes-versions";
import { cheapestFit, PlatformNodePool, platformNodePool, readNodePools } from "./node-pools";
import type { SynthResource, SynthResult } from "../../synth/types";
import { addonUsageAssumptions } from "./addons";
import { describeFargateAssumption, fargateLineItem, fargateLines, fargateProfileType } from "./fargate";
import { CostAssumptions, priceTable, PriceTable, RegionPrices } from "./prices";

/** One priced item of a stack, summed over the resources it covers. */
export interface CostLine {
  /** Stable label; the base-vs-head diff matches lines on it. */
  readonly item: string;
  /** How the figure was reached, e.g. "3 × 730 h × $0.045". */
  readonly basis: string;
  readonly monthly: number;
  /** Logical names of the resources behind the line. */
  readonly resources: readonly string[];
  readonly note?: string;
}

/** Something that costs money but that the table cannot price: shown, never counted as $0. */
export interface UnestimatedItem {
  readonly item: string;
  readonly reason: string;
  readonly resources: readonly string[];
}

/** Resource types known to carry no fixed monthly charge, with the reason. */
export interface NoFixedCharge {
  readonly type: string;
  readonly count: number;
  readonly reason: string;
}

export interface CostEstimate {
  readonly stack: string;
  readonly region: string;
  readonly asOf: string;
  readonly currency: string;
  readonly lines: readonly CostLine[];
  readonly notEstimated: readonly UnestimatedItem[];
  readonly noFixedCharge: readonly NoFixedCharge[];
  /** Sum of `lines`, rounded to cents. A lower bound whenever `notEstimated` is not empty. */
  readonly total: number;
  readonly assumptions: readonly string[];
}

export interface EstimateOptions {
  /** Defaults to the region in the synthesized config. */
  readonly region?: string;
  /** Day the support-window question is asked for (YYYY-MM-DD); defaults to today. */
  readonly date?: string;
  readonly prices?: PriceTable;
  /** The addons/ folder whose node pools run the platform's pods; defaults to this checkout's. */
  readonly addonsDir?: string;
}

const noCharge = "no charge of its own";
const usagePriced = "usage-priced (per request/event), no fixed monthly charge";
const inCluster = "runs inside the cluster: its cost is the node capacity";

/** Types the estimate knows are free (or purely usage-priced) so they are listed, not flagged. */
const noFixedChargeTypes: Readonly<Record<string, string>> = {
  "aws:ec2/vpc:Vpc": noCharge,
  "aws:ec2/subnet:Subnet": noCharge,
  "aws:ec2/internetGateway:InternetGateway": noCharge,
  "aws:ec2/routeTable:RouteTable": noCharge,
  "aws:ec2/route:Route": noCharge,
  "aws:ec2/routeTableAssociation:RouteTableAssociation": noCharge,
  "aws:ec2/securityGroup:SecurityGroup": noCharge,
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": noCharge,
  "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": noCharge,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": noCharge,
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": noCharge,
  "aws:ec2/flowLog:FlowLog": "billed through the log group it writes to",
  "aws:iam/role:Role": noCharge,
  "aws:iam/policy:Policy": noCharge,
  "aws:iam/rolePolicy:RolePolicy": noCharge,
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": noCharge,
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": noCharge,
  "aws:kms/alias:Alias": noCharge,
  "aws:eks/accessEntry:AccessEntry": noCharge,
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": noCharge,
  "aws:eks/addon:Addon": "EKS add-ons are free; they run on the nodes",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": noCharge,
  "aws:sqs/queue:Queue": usagePriced,
  "aws:sqs/queuePolicy:QueuePolicy": noCharge,
  "aws:cloudwatch/eventRule:EventRule": usagePriced,
  "aws:cloudwatch/eventTarget:EventTarget": usagePriced,
  "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": noCharge,
  "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": noCharge,
  "aws:codebuild/webhook:Webhook": noCharge,
};

/** Type prefixes that never bill AWS: in-cluster objects and things that run on the deploying machine. */
const noFixedChargePrefixes: readonly [string, string][] = [
  ["kubernetes:", inCluster],
  ["command:", "runs on the machine that runs pulumi"],
  ["random:", "local value"],
  ["tls:", "local value"],
];

const hours = (table: PriceTable) => table.hoursPerMonth;
/** Unit prices keep their significant digits ($0.0816, $0.005), amounts get cents. */
const money = (value: number) =>
  `$${value
    .toFixed(4)
    .replace(/0+$/, "")
    .replace(/\.(\d?)$/, (_, digit: string) => `.${digit.padEnd(2, "0")}`)}`;
/** Display order of the lines: the cluster first, then network, encryption, logs. */
const lineOrder = [
  "EKS control plane",
  "Auto Mode",
  "Node group",
  "Fargate",
  "NAT gateways",
  "Public IPv4",
  "CodeBuild",
  "VPC interface",
  "KMS",
  "CloudWatch",
];
const round = (value: number) => Math.round(value * 100) / 100;

/**
 * Estimated fixed monthly cost of a synthesized stack: what it costs with nothing deployed on it beyond the
 * platform itself. Pure; every figure comes from `prices` and the stack's resource inputs.
 */
export function estimateMonthlyCost(result: SynthResult, options: EstimateOptions = {}): CostEstimate {
  const table = options.prices ?? priceTable;
  const region = options.region ?? regionOf(result);
  const date = options.date ?? new Date().toISOString().slice(0, 10);
  const prices = table.regions[region];
  const lines: CostLine[] = [];
  const notEstimated: UnestimatedItem[] = [];
  const free = new Map<string, NoFixedCharge>();
  const custom = result.resources.filter(
    (resource) => resource.custom && !resource.type.startsWith("pulumi:"),
  );
  const byType = groupBy(custom, (resource) => resource.type);
  const platformPools: PlatformNodePool[] = [];

  /** Prices `resources` with `compute`, or lists them as not estimated when the region or `instanceType` has no price. */
  const price = (
    item: string,
    resources: readonly SynthResource[],
    compute: (p: RegionPrices) => CostLine[],
    instanceType?: string,
  ) => {
    if (resources.length === 0) return;
    const unpriced = (reason: string) => notEstimated.push({ item, reason, resources: names(resources) });
    if (!prices) unpriced(`no prices for region ${region} in ops/cost/prices.ts`);
    else if (instanceType !== undefined && prices.instanceHour[instanceType] === undefined)
      unpriced(`no ${region} price for ${instanceType}`);
    else lines.push(...compute(prices));
  };

  for (const [type, resources] of byType) {
    switch (type) {
      case "aws:eks/cluster:Cluster":
        for (const cluster of resources) {
          price("EKS control plane", [cluster], (p) => [controlPlaneLine(cluster, p, table, date)]);
          const pool = platformPool(result, autoModeEnabled(cluster), options.addonsDir);
          if (pool) {
            platformPools.push(pool);
            const item = autoModeEnabled(cluster) ? "Auto Mode baseline nodes" : "Karpenter baseline nodes";
            const fit = prices && cheapestFit(pool, prices.instanceHour);
            if (prices && !fit)
              notEstimated.push({
                item,
                reason: `no ${region} price for an instance NodePool ${pool.name} may launch (${pool.architectures.join("/")}, ${pool.categories.join("/") || "any"} families)`,
                resources: [cluster.name],
              });
            else
              price(item, [cluster], (p) =>
                autoModeEnabled(cluster)
                  ? autoModeLines(cluster, p, table, pool, fit as string)
                  : [
                      poolNodesLine(
                        item,
                        cluster,
                        p,
                        table,
                        pool,
                        fit as string,
                        table.assumptions.karpenterBaselineNodes,
                      ),
                    ],
              );
          }
        }
        break;
      case "aws:codebuild/project:Project":
        // On-demand CodeBuild bills build minutes only: a runner that runs no job costs nothing. Shown as a $0 line
        // (not hidden among the free types) because "what does the runner cost idle" is the question users ask.
        lines.push({
          item: "CodeBuild runners (idle)",
          basis: `${resources.length} on-demand project(s) × 0 build-minutes`,
          monthly: 0,
          resources: names(resources),
          note: "each job is billed per build-minute of its compute type while it runs; nothing while idle",
        });
        break;
      case "aws:ec2/natGateway:NatGateway":
        price("NAT gateways", resources, (p) => [
          hourlyLine("NAT gateways", resources, resources.length, p.natGatewayHour, table),
        ]);
        break;
      case "aws:ec2/eip:Eip":
        price("Public IPv4 addresses", resources, (p) => [
          hourlyLine("Public IPv4 addresses", resources, resources.length, p.publicIpv4Hour, table),
        ]);
        break;
      case "aws:ec2/vpcEndpoint:VpcEndpoint": {
        const [gateways, interfaces] = partition(
          resources,
          (endpoint) => endpointType(endpoint) === "Gateway",
        );
        if (gateways.length > 0) {
          free.set("aws:ec2/vpcEndpoint:VpcEndpoint (Gateway)", {
            type: "aws:ec2/vpcEndpoint:VpcEndpoint (Gateway)",
            count: gateways.length,
            reason: "gateway endpoints (S3, DynamoDB) are free",
          });
        }
        const azHours = interfaces.reduce(
          (sum, endpoint) => sum + Math.max(1, arrayInput(endpoint, "subnetIds").length),
          0,
        );
        price("VPC interface endpoints", interfaces, (p) => [
          {
            ...hourlyLine("VPC interface endpoints", interfaces, azHours, p.interfaceEndpointAzHour, table),
            basis: `${azHours} endpoint-AZ × ${hours(table)} h × ${money(p.interfaceEndpointAzHour)}`,
          },
          interfaceEndpointDataLine(interfaces, p, table),
        ]);
        break;
      }
      case "aws:kms/key:Key":
        price("KMS keys", resources, (p) => [
          {
            item: "KMS keys",
            basis: `${resources.length} × ${money(p.kmsKeyMonth)}/month`,
            monthly: resources.length * p.kmsKeyMonth,
            resources: names(resources),
            note: "each automatic rotation adds a key version, billed like a key for its first two rotations",
          },
        ]);
        break;
      case "aws:cloudwatch/logGroup:LogGroup":
        price("CloudWatch Logs", resources, (p) => logLines(resources, custom, p, table.assumptions, table));
        break;
      case "aws:eks/nodeGroup:NodeGroup":
        for (const group of resources) {
          const instanceType = String(arrayInput(group, "instanceTypes")[0] ?? "t3.medium");
          price(
            "Node group minimum capacity",
            [group],
            (p) => {
              const hourly = p.instanceHour[instanceType];
              const minSize = Number(
                (group.inputs.scalingConfig as { minSize?: number } | undefined)?.minSize ?? 1,
              );
              return [
                {
                  ...hourlyLine("Node group minimum capacity", [group], minSize, hourly, table),
                  basis: `${minSize} × ${instanceType} × ${hours(table)} h × ${money(hourly)}`,
                },
              ];
            },
            instanceType,
          );
        }
        break;
      case fargateProfileType:
        price("Fargate pods", resources, (p) => fargateLines(resources, p, table.assumptions));
        break;
      default: {
        const reason =
          noFixedChargeTypes[type] ?? noFixedChargePrefixes.find(([prefix]) => type.startsWith(prefix))?.[1];
        if (reason !== undefined) free.set(type, { type, count: resources.length, reason });
        else
          notEstimated.push({
            item: type,
            reason: "no price rule for this resource type",
            resources: names(resources),
          });
      }
    }
  }

  const merged = mergeLines(lines);
  return {
    stack: result.stack,
    region,
    asOf: table.asOf,
    currency: table.currency,
    lines: merged,
    notEstimated,
    noFixedCharge: [...free.values()],
    total: round(merged.reduce((sum, line) => sum + line.monthly, 0)),
    assumptions: [
      ...describeAssumptions(table, merged, platformPools, argoCdOnNodes(result)),
      ...addonUsageAssumptions(result.config as PlatformConfig),
    ],
  };
}

function controlPlaneLine(
  cluster: SynthResource,
  p: RegionPrices,
  table: PriceTable,
  date: string,
): CostLine {
  const version = String(cluster.inputs.version ?? "");
  const supportType = String(
    (cluster.inputs.upgradePolicy as { supportType?: string } | undefined)?.supportType ?? "EXTENDED",
  );
  const window = findKubernetesVersion(version);
  // With STANDARD, EKS upgrades the cluster at the end of standard support instead of billing extended hours.
  const extended = window !== undefined && supportType === "EXTENDED" && date > window.endOfStandardSupport;
  const rate = extended ? p.eksClusterHourExtended : p.eksClusterHourStandard;
  let note: string | undefined;
  if (window === undefined)
    note = `version ${version || "(unset)"} is not in infra/config/kubernetes-versions.ts; priced as standard support`;
  else if (!extended && supportType === "EXTENDED")
    note = `enters extended support on ${window.endOfStandardSupport}: then ${money(p.eksClusterHourExtended * hours(table))}/month`;
  else if (!extended)
    note = `standard support until ${window.endOfStandardSupport}, then auto-upgraded (supportType STANDARD)`;
  return {
    item: extended ? "EKS control plane (extended support)" : "EKS control plane (standard support)",
    basis: `1 × ${hours(table)} h × ${money(rate)}`,
    monthly: rate * hours(table),
    resources: [cluster.name],
    ...(note ? { note } : {}),
  };
}

/** Hourly price of one node of the pool: on-demand, or spot at the assumed fraction of on-demand. */
function nodeHour(pool: PlatformNodePool, p: RegionPrices, table: PriceTable, instanceType: string): number {
  const onDemand = p.instanceHour[instanceType];
  return pool.capacityType === "spot" ? onDemand * table.assumptions.spotPriceFraction : onDemand;
}

function poolNodesLine(
  item: string,
  cluster: SynthResource,
  p: RegionPrices,
  table: PriceTable,
  pool: PlatformNodePool,
  instanceType: string,
  count: number,
): CostLine {
  const hourly = nodeHour(pool, p, table, instanceType);
  return {
    item,
    basis: `${count} × ${instanceType} ${pool.capacityType} × ${hours(table)} h × ${money(hourly)} (NodePool ${pool.name}, assumed)`,
    monthly: count * hourly * hours(table),
    resources: [cluster.name],
  };
}

function autoModeLines(
  cluster: SynthResource,
  p: RegionPrices,
  table: PriceTable,
  pool: PlatformNodePool,
  instanceType: string,
): CostLine[] {
  const count = table.assumptions.autoModeBaseline.count;
  // The management fee is per instance type, whatever the purchase option: a fraction of the on-demand price.
  const onDemandMonthly = count * p.instanceHour[instanceType] * hours(table);
  return [
    poolNodesLine("Auto Mode baseline nodes", cluster, p, table, pool, instanceType, count),
    {
      item: "Auto Mode management fee",
      basis: `${Math.round(p.autoModeFeeFraction * 100)}% of ${money(round(onDemandMonthly))} on-demand instance spend`,
      monthly: onDemandMonthly * p.autoModeFeeFraction,
      resources: [cluster.name],
      note: "grows with every node Auto Mode launches",
    },
  ];
}

/**
 * The node pool that runs the platform's own pods in this stack: the highest-priority NodePool of
 * addons/karpenter/nodepools/<mode>/<environment> (Auto Mode's built-in general-purpose pool when none wins).
 * Karpenter mode without the Karpenter add-on has no pool (its node group is priced on its own).
 */
function platformPool(
  result: SynthResult,
  autoMode: boolean,
  addonsDir?: string,
): PlatformNodePool | undefined {
  const config = (result.config ?? {}) as { environment?: string; addons?: { karpenter?: boolean } };
  const karpenter = config.addons?.karpenter ?? true;
  const pools =
    karpenter && config.environment
      ? readNodePools(autoMode ? "auto" : "karpenter", config.environment, addonsDir)
      : [];
  return platformNodePool(pools, autoMode);
}

function logLines(
  groups: readonly SynthResource[],
  all: readonly SynthResource[],
  p: RegionPrices,
  assumptions: CostAssumptions,
  table: PriceTable,
): CostLine[] {
  const daysPerMonth = hours(table) / 24;
  const flowLogTargets = new Set(
    all
      .filter((resource) => resource.type === "aws:ec2/flowLog:FlowLog")
      .flatMap((flowLog) => [...flowLog.dependencies, ...Object.values(flowLog.propertyDependencies).flat()]),
  );
  return groups.flatMap((group) => {
    const name = String(group.inputs.name ?? group.name);
    const gbPerDay = /^\/aws\/eks\/.+\/cluster$/.test(name)
      ? assumptions.controlPlaneLogGbPerDay
      : flowLogTargets.has(group.urn)
        ? assumptions.flowLogGbPerDay
        : assumptions.otherLogGbPerDay;
    const retention = Number(group.inputs.retentionInDays ?? 0);
    const ingest: CostLine = {
      item: "CloudWatch Logs ingestion",
      basis: `${gbPerDay} GB/day × ${daysPerMonth.toFixed(1)} d × ${money(p.logsIngestGb)}/GB (assumed volume)`,
      monthly: gbPerDay * daysPerMonth * p.logsIngestGb,
      resources: [name],
    };
    if (retention <= 0) {
      return [{ ...ingest, note: "no retention set: storage grows every month and is not in this figure" }];
    }
    const storedGb = gbPerDay * retention * assumptions.logStorageCompression;
    return [
      ingest,
      {
        item: "CloudWatch Logs storage",
        basis: `${gbPerDay} GB/day × ${retention} d retention × ${assumptions.logStorageCompression} compressed × ${money(p.logsStorageGbMonth)}/GB-month`,
        monthly: storedGb * p.logsStorageGbMonth,
        resources: [name],
      },
    ];
  });
}

function hourlyLine(
  item: string,
  resources: readonly SynthResource[],
  quantity: number,
  hourly: number,
  table: PriceTable,
): CostLine {
  return {
    item,
    basis: `${quantity} × ${hours(table)} h × ${money(hourly)}`,
    monthly: quantity * hourly * hours(table),
    resources: names(resources),
  };
}

/** Lines with the same item (e.g. one per log group) become one line, so the diff compares like with like. */
function mergeLines(lines: readonly CostLine[]): CostLine[] {
  const merged = new Map<string, CostLine>();
  for (const line of lines) {
    const seen = merged.get(line.item);
    merged.set(
      line.item,
      seen
        ? {
            item: line.item,
            basis: `${seen.basis}; ${line.basis}`,
            monthly: seen.monthly + line.monthly,
            resources: [...seen.resources, ...line.resources],
            ...(seen.note || line.note ? { note: [seen.note, line.note].filter(Boolean).join("; ") } : {}),
          }
        : line,
    );
  }
  const rank = (item: string) => lineOrder.findIndex((prefix) => item.startsWith(prefix));
  return [...merged.values()]
    .sort((a, b) => rank(a.item) - rank(b.item))
    .map((line) => ({ ...line, monthly: round(line.monthly) }));
}

/** Data processed by interface endpoints: usage-priced, so an assumed volume per endpoint turns it into a figure. */
function interfaceEndpointDataLine(
  interfaces: readonly SynthResource[],
  p: RegionPrices,
  table: PriceTable,
): CostLine {
  const gb = interfaces.length * table.assumptions.interfaceEndpointGbPerMonth;
  return {
    item: "VPC interface endpoint data",
    basis: `${interfaces.length} × ${table.assumptions.interfaceEndpointGbPerMonth} GB/month × ${money(p.interfaceEndpointGb)}/GB (assumed volume)`,
    monthly: gb * p.interfaceEndpointGb,
    resources: names(interfaces),
  };
}

/** The assumptions behind this estimate: a usage assumption is stated only when a line of the stack rests on it. */
function describeAssumptions(
  table: PriceTable,
  lines: readonly CostLine[],
  pools: readonly PlatformNodePool[],
  argoCd: boolean,
): string[] {
  const a = table.assumptions;
  const priced = (prefix: string) => lines.some((line) => line.item.startsWith(prefix));
  const poolLines = pools.map(
    (pool) =>
      `the platform's pods run on ${pool.source}: ${pool.capacityType}, ${pool.architectures.join("/")}, ${pool.categories.join("/") || "any"} families${pool.generationAbove !== undefined ? `, generation > ${pool.generationAbove}` : ""}; priced as the cheapest such type in the price table${pool.capacityType === "spot" ? `, spot at ${Math.round(a.spotPriceFraction * 100)}% of on-demand` : ""}`,
  );
  return [
    `${table.hoursPerMonth} hours a month; on-demand Linux prices; data transfer and per-request charges not included`,
    `log volume: control plane ${a.controlPlaneLogGbPerDay} GB/day, VPC flow logs ${a.flowLogGbPerDay} GB/day, other groups ${a.otherLogGbPerDay} GB/day; stored size ${a.logStorageCompression} of ingested`,
    ...(priced("Auto Mode baseline")
      ? [
          argoCd
            ? `Auto Mode keeps ${a.autoModeBaseline.count} nodes running for Argo CD and the add-ons`
            : // A fleet spoke (its hub's Argo CD deploys to it) or the EKS capability: the add-ons alone keep the
              // nodes up (in prod metrics-server's two replicas must sit on two nodes).
              `Auto Mode keeps ${a.autoModeBaseline.count} nodes running for the add-ons (no Argo CD runs on this cluster's nodes)`,
        ]
      : []),
    ...(priced("Karpenter baseline")
      ? [`karpenter mode keeps ${a.karpenterBaselineNodes} Karpenter node up beside the system node group`]
      : []),
    ...poolLines,
    ...(priced(fargateLineItem) ? [describeFargateAssumption(a)] : []),
    "load balancers and volumes created from inside the cluster are workload costs and not included",
    ...(priced("VPC interface endpoint data")
      ? [`each interface VPC endpoint processes ${a.interfaceEndpointGbPerMonth} GB a month`]
      : []),
  ];
}

/** The argo-cd chart is installed on this cluster (not a fleet spoke, not the EKS capability). */
function argoCdOnNodes(result: SynthResult): boolean {
  return result.resources.some(
    (resource) => resource.type === "kubernetes:helm.sh/v3:Release" && resource.inputs.chart === "argo-cd",
  );
}

function regionOf(result: SynthResult): string {
  const config = result.config as { region?: unknown } | null | undefined;
  return typeof config?.region === "string" ? config.region : "unknown";
}

function autoModeEnabled(cluster: SynthResource): boolean {
  return (cluster.inputs.computeConfig as { enabled?: boolean } | undefined)?.enabled === true;
}

function endpointType(endpoint: SynthResource): string {
  return String(endpoint.inputs.vpcEndpointType ?? "Gateway");
}

function arrayInput(resource: SynthResource, key: string): unknown[] {
  const value = resource.inputs[key];
  return Array.isArray(value) ? value : [];
}

function names(resources: readonly SynthResource[]): string[] {
  return resources.map((resource) => resource.name);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}
