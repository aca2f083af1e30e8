/**
 * EKS Kubernetes versions this project accepts, with their support windows. A version bump is one line here
 * plus the stack's `cluster.kubernetesVersion`; the policy pack reads `newestKubernetesVersion` as its default.
 * Source: EKS User Guide, "Understand the Kubernetes version lifecycle on EKS" (standard = 14 months after
 * release, extended = 12 more months at $0.60 instead of $0.10 per cluster-hour).
 */
export interface KubernetesVersionSupport {
  readonly version: string;
  readonly endOfStandardSupport: string;
  readonly endOfExtendedSupport: string;
}

export const kubernetesVersions: readonly KubernetesVersionSupport[] = [
  { version: "1.33", endOfStandardSupport: "2026-07-29", endOfExtendedSupport: "2027-07-29" },
  { version: "1.34", endOfStandardSupport: "2026-12-02", endOfExtendedSupport: "2027-12-02" },
  { version: "1.35", endOfStandardSupport: "2027-03-27", endOfExtendedSupport: "2028-03-27" },
  // 1.36: released on EKS 2026-06-02; dates as mirrored from the AWS table (not yet read on an AWS page).
  { version: "1.36", endOfStandardSupport: "2027-08-02", endOfExtendedSupport: "2028-08-02" },
];

export const newestKubernetesVersion = kubernetesVersions[kubernetesVersions.length - 1].version;

/** Minor number of a "1.NN" version string, for "how far behind" arithmetic; undefined for anything else. */
export function minorOf(version: string): number | undefined {
  const match = /^1\.(\d+)$/.exec(version);
  return match ? Number(match[1]) : undefined;
}

export function findKubernetesVersion(version: string): KubernetesVersionSupport | undefined {
  return kubernetesVersions.find((entry) => entry.version === version);
}

/** List prices per cluster-hour (EKS pricing page; the same in every commercial region). */
export const clusterHourPrice = { standard: 0.1, extended: 0.6 } as const;

/**
 * Why a version/support-type pair cannot be deployed on `today` (YYYY-MM-DD), or undefined when it can. Past the
 * end of standard support EKS bills extended support, and a cluster that has entered it cannot be switched back:
 * that must be a deliberate `supportType: EXTENDED`, never a silent default. Past extended support nothing runs.
 */
export function supportProblem(
  version: string,
  supportType: "STANDARD" | "EXTENDED",
  today: string,
): string | undefined {
  const window = findKubernetesVersion(version);
  if (!window) return undefined;
  const extraPerMonth = Math.round((clusterHourPrice.extended - clusterHourPrice.standard) * 730);
  if (today > window.endOfExtendedSupport)
    return `${version} left extended support on ${window.endOfExtendedSupport}: EKS no longer runs it; use ${newestKubernetesVersion}`;
  if (today > window.endOfStandardSupport && supportType !== "EXTENDED")
    return `${version} left standard support on ${window.endOfStandardSupport}: EKS bills extended support ($${clusterHourPrice.extended.toFixed(2)} instead of $${clusterHourPrice.standard.toFixed(2)} per cluster-hour, about $${extraPerMonth} more a month) until ${window.endOfExtendedSupport}, and a cluster in extended support cannot go back; upgrade to ${newestKubernetesVersion}, or accept it with cluster.supportType: EXTENDED`;
  return undefined;
}
