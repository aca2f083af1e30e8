import type { ComputeMode } from "../config";

/**
 * Names the cluster layer defines and others rely on: the program's log group and node groups, the live posture
 * check (ops/verify), the teardown, and the policy pack (which keeps its own copy, checked against this one).
 */

/** The five control-plane log types: all of them, because an incident needs the audit and authenticator trail. */
export const controlPlaneLogTypes = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;

/** The control-plane log group EKS writes to; the platform creates it before the cluster. */
export function controlPlaneLogGroupName(clusterName: string): string {
  return `/aws/eks/${clusterName}/cluster`;
}

/** Auto Mode's built-in pools: `system` for cluster-critical add-ons, `general-purpose` for workloads. */
export const autoModeNodePools = ["system", "general-purpose"] as const;

/**
 * Node pools whose nodes outlive a teardown drain: Auto Mode's built-in pools run Argo CD itself, and EKS
 * terminates their nodes with the cluster. Karpenter mode has none (its system nodes are a node group).
 */
export function retainedNodePools(mode: ComputeMode): readonly string[] {
  return mode === "auto" ? autoModeNodePools : [];
}

/**
 * Cilium keeps pods off a node until its agent runs there: the system node group starts with this taint, and
 * Karpenter's node pools must add the same one (the cluster Secret hands it to them).
 */
export const ciliumStartupTaint = {
  key: "node.cilium.io/agent-not-ready",
  value: "true",
  effect: "NoExecute",
} as const;

/**
 * The system node group's taint (karpenter mode), the same key as Auto Mode's built-in `system` pool: only pods that
 * must run before or without Karpenter's nodes tolerate it.
 */
export const systemNodeTaint = { key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule" } as const;
