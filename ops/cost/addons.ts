import type { PlatformConfig } from "../../infra/config";
import { everydayAddons } from "../../infra/config/addons";

/**
 * What the everyday add-ons make AWS bill once teams use them. None is a fixed charge of the stack (the stack
 * creates only IAM roles and Pod Identity associations for them, which are free), so the estimate lists these as
 * assumptions, phrased to follow "assumes".
 */
export function addonUsageAssumptions(config: PlatformConfig | undefined): string[] {
  // A synth record from before these add-ons existed (or a hand-written fixture) carries no such config.
  if (!config?.compute || !config.cluster || !config.addons?.externalDns || !config.addons.externalSecrets)
    return [];
  const addons = everydayAddons(config);
  const notes: string[] = [];
  if (addons.awsLoadBalancerController)
    notes.push(
      "no load balancer exists yet: the AWS Load Balancer Controller creates an NLB per Service of type LoadBalancer and an ALB per Ingress group that teams create, each billed per hour plus capacity units (LCU/NLCU) and not in this figure",
    );
  if (config.compute.mode === "auto")
    notes.push(
      "no load balancer exists yet: Auto Mode creates an NLB per Service of type LoadBalancer and an ALB per Ingress that teams create, each billed per hour plus capacity units and not in this figure",
    );
  if (addons.externalDns.enabled)
    notes.push(
      `the ${addons.externalDns.hostedZoneIds.length} Route 53 hosted zone(s) ExternalDNS manages already exist and are billed per zone whether or not it runs; its API calls and the DNS queries for its records (alias records to AWS load balancers) add nothing`,
    );
  if (addons.externalSecrets.enabled)
    notes.push(
      `the secrets under "${addons.externalSecrets.namePrefix}" are created by teams: Secrets Manager bills each per month plus per 10,000 API calls (each ExternalSecret reads once per refreshInterval, 1 h by default)`,
    );
  return notes;
}
