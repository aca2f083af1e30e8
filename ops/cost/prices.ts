/**
 * Dated, region-aware list prices (USD, on-demand, Linux) for what a stack of this platform pays every month
 * whether or not anything runs on it. The estimate reads only this file: no network at synth or in CI.
 *
 * Refreshing: check each figure against the page named in `sources`, change the number, bump `asOf`. A region or
 * instance type that is not listed makes the estimate say "not estimated" for the lines that need it, never $0.
 *
 * Figures gathered 2026-11-25 from the AWS pricing pages as transcribed by the sources listed below (the AWS
 * pages render per region in the browser and could not be read directly from here); eu-west-1 figures marked
 * "recalled" were not re-checked against a page on that date and are the first to confirm on refresh.
 */

export interface RegionPrices {
  /** EKS cluster-hour while the version is in standard support. */
  readonly eksClusterHourStandard: number;
  /** EKS cluster-hour once the version is in extended support. */
  readonly eksClusterHourExtended: number;
  readonly natGatewayHour: number;
  /** Every public IPv4 address (Elastic IPs included), per hour. */
  readonly publicIpv4Hour: number;
  /** Interface VPC endpoint, per endpoint per AZ per hour. Gateway endpoints (S3, DynamoDB) are free. */
  readonly interfaceEndpointAzHour: number;
  /** Data processed by interface endpoints, per GB (first PB a month in the region). */
  readonly interfaceEndpointGb: number;
  /** Customer managed KMS key, per key per month (requests beyond the free tier are usage). */
  readonly kmsKeyMonth: number;
  /** CloudWatch Logs standard class ingestion, per GB (also the vended rate for VPC flow logs' first 10 TB). */
  readonly logsIngestGb: number;
  /** CloudWatch Logs archived storage, per GB-month. */
  readonly logsStorageGbMonth: number;
  /** EKS Auto Mode management fee as a fraction of the on-demand price of the instances it manages. */
  readonly autoModeFeeFraction: number;
  /** EC2 on-demand Linux instance-hour by instance type. */
  readonly instanceHour: Readonly<Record<string, number>>;
  /** Fargate (EKS pods, Linux x86) per vCPU-hour and per GB-hour of the pod's Fargate size. */
  readonly fargateVcpuHour: number;
  readonly fargateGbHour: number;
}

export interface PriceTable {
  /** The date the figures were taken; printed with every estimate. */
  readonly asOf: string;
  readonly currency: "USD";
  /** AWS bills monthly figures on 730 hours. */
  readonly hoursPerMonth: number;
  readonly regions: Readonly<Record<string, RegionPrices>>;
  /** Where each kind of figure came from. */
  readonly sources: Readonly<Record<string, string>>;
  /** Usage we assume to turn usage-priced items into a fixed monthly figure. */
  readonly assumptions: CostAssumptions;
}

export interface CostAssumptions {
  /** GB/day a cluster's control-plane log group ingests with all five log types on (small, quiet cluster). */
  readonly controlPlaneLogGbPerDay: number;
  /** GB/day VPC flow logs (ALL traffic) ingest for a small cluster. */
  readonly flowLogGbPerDay: number;
  /** GB/day for any other log group. */
  readonly otherLogGbPerDay: number;
  /** Stored size as a fraction of ingested size (CloudWatch bills storage on compressed data). */
  readonly logStorageCompression: number;
  /**
   * Auto Mode pools scale from zero, but Argo CD and the add-ons keep some nodes up: this many, of the cheapest type
   * the node pool that runs the platform's pods may launch (ops/cost/node-pools.ts).
   */
  readonly autoModeBaseline: { readonly count: number };
  /** karpenter mode: Karpenter nodes kept up by the platform pods that do not run on the system node group. */
  readonly karpenterBaselineNodes: number;
  /** Spot price as a fraction of on-demand (spot prices move hourly; this is an assumption, printed). */
  readonly spotPriceFraction: number;
  /** GB a month each interface endpoint processes (the Argo CD UI/API endpoint carries little). */
  readonly interfaceEndpointGbPerMonth: number;
  /**
   * Fargate bills pods, not profiles: what we assume each profile runs in a month, in vCPU-hours and GB-hours of
   * Fargate size (the pod's requests plus Fargate's 256 MB for kubelet, kube-proxy and containerd, rounded up to the
   * next Fargate size), with the workload that yields them.
   */
  readonly fargatePerProfile: {
    readonly vcpuHours: number;
    readonly gbHours: number;
    readonly workload: string;
  };
}

export const priceTable: PriceTable = {
  asOf: "2026-11-25",
  currency: "USD",
  hoursPerMonth: 730,
  regions: {
    "us-east-1": {
      eksClusterHourStandard: 0.1,
      eksClusterHourExtended: 0.6,
      natGatewayHour: 0.045,
      publicIpv4Hour: 0.005,
      interfaceEndpointAzHour: 0.01,
      interfaceEndpointGb: 0.01,
      kmsKeyMonth: 1,
      logsIngestGb: 0.5,
      logsStorageGbMonth: 0.03,
      autoModeFeeFraction: 0.12,
      instanceHour: {
        "m5.large": 0.096,
        "m6g.large": 0.077,
        "m7g.large": 0.0816,
        "m7i.large": 0.1008,
        "t3.medium": 0.0416,
      },
      fargateVcpuHour: 0.04048,
      fargateGbHour: 0.004445,
    },
    "eu-west-1": {
      eksClusterHourStandard: 0.1,
      eksClusterHourExtended: 0.6,
      natGatewayHour: 0.048,
      publicIpv4Hour: 0.005,
      interfaceEndpointAzHour: 0.011,
      interfaceEndpointGb: 0.01,
      kmsKeyMonth: 1,
      logsIngestGb: 0.57,
      logsStorageGbMonth: 0.03,
      autoModeFeeFraction: 0.12,
      instanceHour: {
        "m5.large": 0.107,
        "m6g.large": 0.086,
        "t3.medium": 0.0456,
      },
      fargateVcpuHour: 0.04456,
      fargateGbHour: 0.004865,
    },
  },
  sources: {
    eks: "aws.amazon.com/eks/pricing: $0.10 per cluster-hour in standard support, $0.60 in extended support (also the EKS User Guide, Kubernetes version lifecycle); same in every commercial region",
    natGateway:
      "aws.amazon.com/vpc/pricing (NAT gateway tab): $0.045/hour in US East, as transcribed 2026-09-20 by api-evangelist/amazon-vpc plans; eu-west-1 $0.048 within the $0.048–0.052 Europe range of cloudpipelines.pages.dev (2026)",
    publicIpv4:
      "aws.amazon.com/vpc/pricing (Public IPv4 Address tab): $0.005 per IP-hour since 2024-02-01, every region",
    interfaceEndpoint:
      "aws.amazon.com/privatelink/pricing: interface endpoint billed per endpoint per AZ-hour; $0.01 in US East; eu-west-1 $0.011 recalled; data processed $0.01/GB for the first PB a month in US East (page read 2026-11-28), eu-west-1 $0.01 recalled",
    kms: "aws.amazon.com/kms/pricing: $1 per customer managed key per month (20,000 requests/month free)",
    logs: "aws.amazon.com/cloudwatch/pricing (Logs): standard ingestion $0.50/GB and storage $0.03/GB-month in us-east-1 (June 2026 transcriptions); eu-west-1 ingestion $0.57/GB recalled",
    autoMode:
      "aws.amazon.com/eks/pricing (EKS Auto Mode): a per-instance-hour fee listed per instance type, about 12% of the on-demand price (factualminds.com EKS pricing, 2026-06-13); we apply 12% to the instance spend",
    fargate:
      "aws.amazon.com/fargate/pricing (Linux/x86): us-east-1 $0.04048 per vCPU-hour and $0.004445 per GB-hour (vantage.sh and wring.co transcriptions, March 2026; factualminds.com June 2026); eu-west-1 $0.04456 and $0.004865 recalled",
    ec2: "aws.amazon.com/ec2/pricing/on-demand: us-east-1 m7g.large $0.0816 (June 2026), m5.large $0.096, m6g.large $0.077, m7i.large $0.1008, t3.medium $0.0416; eu-west-1 m5.large $0.107, m6g.large $0.086, t3.medium $0.0456 recalled",
  },
  assumptions: {
    fargatePerProfile: {
      vcpuHours: 240,
      gbHours: 480,
      workload:
        "one pod requesting 1 vCPU / 1.5 GiB (Fargate size 1 vCPU / 2 GB once its 256 MB is added) 8 hours a day for 30 days, a nightly batch window",
    },
    controlPlaneLogGbPerDay: 1,
    flowLogGbPerDay: 0.5,
    otherLogGbPerDay: 0.1,
    logStorageCompression: 0.15,
    autoModeBaseline: { count: 2 },
    karpenterBaselineNodes: 1,
    spotPriceFraction: 0.4,
    interfaceEndpointGbPerMonth: 5,
  },
};
