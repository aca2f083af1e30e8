/**
 * Address arithmetic for CIDR rules. Rules judge the address space a *set* of ranges opens together (their union),
 * so 0.0.0.0/1 + 128.0.0.0/1 counts as the whole IPv4 internet, exactly like 0.0.0.0/0.
 */

export type Family = 4 | 6;

export interface Range {
  readonly family: Family;
  readonly start: bigint;
  readonly end: bigint;
}

function ipv4(address: string): bigint | undefined {
  const parts = address.split(".");
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255))
    return undefined;
  return parts.reduce((value, part) => (value << 8n) + BigInt(Number(part)), 0n);
}

function ipv6(address: string): bigint | undefined {
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const groups = (text: string) => (text === "" ? [] : text.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  if (all.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return all.reduce((value, group) => (value << 16n) + BigInt(parseInt(group, 16)), 0n);
}

/** The range a CIDR covers (host bits ignored, as AWS normalises them), or undefined if it is not a CIDR. */
export function parseCidr(cidr: string): Range | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return undefined;
  const family: Family = match[1].includes(":") ? 6 : 4;
  const bits = family === 4 ? 32 : 128;
  const prefix = Number(match[2]);
  const address = family === 4 ? ipv4(match[1]) : ipv6(match[1]);
  if (address === undefined || prefix > bits) return undefined;
  const size = 1n << BigInt(bits - prefix);
  const start = (address / size) * size;
  return { family, start, end: start + size - 1n };
}

/** Non-overlapping, sorted union of ranges of one family. */
export function union(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end + 1n) {
      if (range.end > last.end) merged[merged.length - 1] = { ...last, end: range.end };
    } else merged.push(range);
  }
  return merged;
}

/** Private, shared, loopback and link-local space: not reachable from the internet. */
const nonPublic = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "fc00::/7",
  "fe80::/10",
  "::1/128",
].map((cidr) => parseCidr(cidr) as Range);

/** Number of internet (public) addresses in the union of the given CIDRs of one family. */
export function publicAddresses(cidrs: readonly string[], family: Family): bigint {
  const ranges = union(
    cidrs.map(parseCidr).filter((range): range is Range => range !== undefined && range.family === family),
  );
  let total = 0n;
  for (const range of ranges) {
    let size = range.end - range.start + 1n;
    for (const excluded of union(nonPublic.filter((candidate) => candidate.family === family))) {
      const from = range.start > excluded.start ? range.start : excluded.start;
      const to = range.end < excluded.end ? range.end : excluded.end;
      if (from <= to) size -= to - from + 1n;
    }
    total += size;
  }
  return total;
}

/** Share of the family's public internet a set of CIDRs opens, for messages ("the whole IPv4 internet"). */
export function describeOpenSpace(cidrs: readonly string[], family: Family): string {
  const open = publicAddresses(cidrs, family);
  const all = publicAddresses([family === 4 ? "0.0.0.0/0" : "::/0"], family);
  if (open === all) return `the whole IPv${family} internet`;
  if (family === 4) return `${open.toLocaleString("en-US")} public IPv4 addresses`;
  const bits = open.toString(2).length - 1;
  return `about 2^${bits} public IPv6 addresses`;
}
