import { Address4 } from "ip-address";

/**
 * IPv4 CIDR arithmetic and the subnet address budget: pure decisions that the config check (does the VPC block hold
 * the subnets asked for?) and the network planner (infra/network/plan.ts) both make, so they live at the bottom
 * layer and the config never imports the network.
 */

/** The subnet sizes a stack asks for, one private (and optionally one public) subnet per AZ. */
export interface SubnetSizes {
  readonly availabilityZones: readonly string[];
  readonly privatePrefix: number;
  /** None: private subnets only (a cluster's block inside a foundation VPC, whose public subnets it shares). */
  readonly publicPrefix?: number;
}

/** Parses an IPv4 CIDR that is written in its canonical form (network address, no host bits). */
export function parseCidr(cidr: string): { base: bigint; prefix: number } {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr) || !Address4.isValid(cidr)) {
    throw new Error(`"${cidr}" is not an IPv4 CIDR block such as 10.0.0.0/16`);
  }
  const address = new Address4(cidr);
  const base = address.startAddress().bigInt();
  if (base !== new Address4(cidr.split("/")[0]).bigInt()) {
    throw new Error(
      `"${cidr}" has host bits set; write it as ${address.startAddress().address}/${address.subnetMask}`,
    );
  }
  return { base, prefix: address.subnetMask };
}

/** True when two CIDR blocks share an address (one contains the other, or they are equal). */
export function cidrsOverlap(a: string, b: string): boolean {
  const [first, second] = [parseCidr(a), parseCidr(b)];
  const firstEnd = first.base + blockSize(first.prefix);
  const secondEnd = second.base + blockSize(second.prefix);
  return first.base < secondEnd && second.base < firstEnd;
}

/** True when `inner` lies entirely within `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [container, block] = [parseCidr(outer), parseCidr(inner)];
  return (
    block.prefix >= container.prefix &&
    block.base >= container.base &&
    block.base + blockSize(block.prefix) <= container.base + blockSize(container.prefix)
  );
}

export function blockSize(prefix: number): bigint {
  return 1n << BigInt(32 - prefix);
}

export function formatCidr(base: bigint, prefix: number): string {
  return `${Address4.fromBigInt(base).address}/${prefix}`;
}

/** How many addresses the plan needs, to compare with what the VPC CIDR holds. */
export function addressesNeeded(request: SubnetSizes): bigint {
  const zones = BigInt(request.availabilityZones.length);
  const publicSize = request.publicPrefix === undefined ? 0n : blockSize(request.publicPrefix);
  return zones * (blockSize(request.privatePrefix) + publicSize);
}
