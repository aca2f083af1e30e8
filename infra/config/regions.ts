import { closest } from "./suggest";

/**
 * AWS regions by partition, as the pinned @pulumi/aws knows them (its `aws.Region` enum; a test checks that this
 * table and the enum agree, so a provider bump that adds a region shows up). The partition decides the ARN prefix
 * (`arn:aws-cn:`, `arn:aws-us-gov:`…) every principal in the stack config must use.
 */
export const regionsByPartition: Readonly<Record<string, readonly string[]>> = {
  aws: [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
  ],
  "aws-cn": ["cn-north-1", "cn-northwest-1"],
  "aws-us-gov": ["us-gov-east-1", "us-gov-west-1"],
  "aws-eusc": ["eusc-de-east-1"],
  "aws-iso": ["us-iso-east-1", "us-iso-west-1"],
  "aws-iso-b": ["us-isob-east-1", "us-isob-west-1"],
  "aws-iso-e": ["eu-isoe-west-1"],
  "aws-iso-f": ["us-isof-east-1", "us-isof-south-1"],
};

export const knownRegions: readonly string[] = Object.values(regionsByPartition).flat();

/** The partition of a known region (`aws`, `aws-cn`, …); undefined for an unknown one. */
export function partitionOf(region: string): string | undefined {
  return Object.entries(regionsByPartition).find(([, regions]) => regions.includes(region))?.[0];
}

/** Why a region name is not usable, with the nearest known region; undefined when it is a known region. */
export function regionProblem(region: unknown): string | undefined {
  if (typeof region === "string" && partitionOf(region)) return undefined;
  const text = typeof region === "string" ? region : "";
  const near = closest(text, knownRegions) ?? "eu-west-1";
  return `is not an AWS region${typeof region === "string" && text ? "" : " name"} known to this project (${knownRegions.length} regions in ${Object.keys(regionsByPartition).length} partitions, from @pulumi/aws); did you mean ${near}?`;
}
