import { DescribeSubnetsCommand, EC2Client, paginateDescribeSubnets, Subnet } from "@aws-sdk/client-ec2";

/**
 * Destroy order, enforced in code: a foundation is not destroyed while cluster stacks are still built on it. Cluster
 * stacks own subnets inside the foundation's VPC (their block of it), so any subnet the foundation does not own
 * means a cluster stack still exists; the foundation's deletion stops before anything is deleted and names them.
 */

export interface SubnetInfo {
  readonly id: string;
  readonly cidr?: string;
  readonly name?: string;
  /** The `stack` tag every stack of this project puts on its resources. */
  readonly stack?: string;
}

/** Subnets of the VPC that the foundation does not own: what cluster stacks still hold. */
export function foreignSubnets(subnets: readonly SubnetInfo[], own: readonly string[]): SubnetInfo[] {
  return subnets.filter((subnet) => !own.includes(subnet.id));
}

/** The refusal message, or undefined when the foundation may go. */
export function destroyRefusal(vpcId: string, foreign: readonly SubnetInfo[]): string | undefined {
  if (foreign.length === 0) return undefined;
  const stacks = [...new Set(foreign.map((subnet) => subnet.stack).filter((stack) => stack !== undefined))];
  const lines = foreign.map(
    (subnet) =>
      `  - ${subnet.id} ${subnet.cidr ?? ""} ${subnet.name ?? "(no Name tag)"}${subnet.stack ? ` (stack ${subnet.stack})` : ""}`,
  );
  return [
    `refusing to destroy the foundation: its VPC ${vpcId} still holds ${foreign.length} subnet(s) it does not own, so cluster stacks are still built on it:`,
    ...lines,
    `Destroy ${stacks.length > 0 ? `the stack(s) ${stacks.join(", ")}` : "those cluster stacks"} first (pulumi destroy in each), then the foundation.`,
  ].join("\n");
}

function toInfo(subnet: Subnet): SubnetInfo {
  const tag = (key: string) => subnet.Tags?.find((entry) => entry.Key === key)?.Value;
  return { id: subnet.SubnetId ?? "", cidr: subnet.CidrBlock, name: tag("Name"), stack: tag("stack") };
}

export async function vpcSubnets(client: EC2Client, vpcId: string): Promise<SubnetInfo[]> {
  const subnets: SubnetInfo[] = [];
  const pages = paginateDescribeSubnets({ client }, {
    Filters: [{ Name: "vpc-id", Values: [vpcId] }],
  } satisfies DescribeSubnetsCommand["input"]);
  for await (const page of pages) subnets.push(...(page.Subnets ?? []).map(toInfo));
  return subnets;
}

/** Throws the refusal when cluster subnets remain in the VPC. */
export async function checkFoundationDestroy(
  client: EC2Client,
  vpcId: string,
  own: readonly string[],
): Promise<void> {
  const refusal = destroyRefusal(vpcId, foreignSubnets(await vpcSubnets(client, vpcId), own));
  if (refusal) throw new Error(refusal);
}
