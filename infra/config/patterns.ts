/** An AWS region name such as eu-west-1 or us-gov-west-1. */
export const awsRegionPattern = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** YYYY-MM-DD → days since the epoch (UTC), or undefined for anything that is not a real calendar day. */
export function dayNumber(value: string): number | undefined {
  const match = dayPattern.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  // Date.UTC rolls 2026-02-30 over to March; reject it rather than destroy on a date nobody wrote.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  return time / 86_400_000;
}
