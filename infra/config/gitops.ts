import { z } from "zod";
import { everydayAddonsShape } from "./addons";
import { regionProblem } from "./regions";

const identityCenterInstanceArn = /^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;

/**
 * How Argo CD itself is installed. `helm` (default): Pulumi installs the argo-cd chart once and Argo CD then manages
 * its own release from addons/argo-cd. `capability`: the EKS managed Argo CD capability (AWS runs it outside your
 * nodes, reaches the private endpoint itself, and needs IAM Identity Center for sign-in).
 */
export const argocdSchema = z
  .strictObject({
    install: z
      .enum(["helm", "capability"], {
        message:
          'must be "helm" (the argo-cd chart, self-managed afterwards) or "capability" (EKS managed Argo CD)',
      })
      .default("helm"),
    identityCenter: z
      .strictObject({
        instanceArn: z
          .string()
          .regex(
            identityCenterInstanceArn,
            "must be the IAM Identity Center instance ARN, e.g. arn:aws:sso:::instance/ssoins-1234567890abcdef",
          ),
        region: z.string().superRefine((region, ctx) => {
          const problem = regionProblem(region);
          if (problem)
            ctx.addIssue({ code: "custom", message: `${problem} (the Identity Center instance's region)` });
        }),
        /** Identity Center group ids that become Argo CD admins (capability mode). */
        adminGroupIds: z.array(z.string().min(1)).default([]),
        viewerGroupIds: z.array(z.string().min(1)).default([]),
      })
      .optional(),
    /**
     * capability mode keeps the managed Argo CD UI/API private behind an interface VPC endpoint. Setting this opts
     * out (the endpoint stays public, Identity Center sign-in only): dev stacks only, and the reason is required.
     */
    publicEndpoint: z
      .strictObject({
        reason: z
          .string()
          .trim()
          .min(10, 'say why this dev stack\'s Argo CD UI must be public, e.g. "no VPN to the dev VPC yet"'),
      })
      .optional(),
  })
  .superRefine((argocd, ctx) => {
    if (argocd.install !== "capability" && argocd.publicEndpoint !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["publicEndpoint"],
        message:
          "applies only to install: capability (the argo-cd chart's UI is a Service inside the cluster); remove it",
      });
    }
    if (argocd.install === "capability" && argocd.identityCenter === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["identityCenter"],
        message:
          "the EKS Argo CD capability signs users in through IAM Identity Center: set gitops.argocd.identityCenter.instanceArn and .region, or use install: helm",
      });
    }
  });

/** Config of the GitOps layer: where Argo CD pulls addons/ from, how it is installed, which add-ons are on. */
export const gitopsSchema = z.strictObject({
  repoUrl: z
    .string()
    .regex(
      /^(https:\/\/|ssh:\/\/|git@)\S+$/,
      "must be the git URL Argo CD pulls addons/ from, e.g. https://github.com/acme/eks-gitops-platform.git",
    )
    .default("https://github.com/acme/eks-gitops-platform.git"),
  revision: z.string().min(1).default("main"),
  path: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
      "must be a relative folder in the repo without leading or trailing slash, e.g. addons",
    )
    .default("addons"),
  highAvailability: z.boolean().optional(),
  argocd: argocdSchema.default(argocdSchema.parse({})),
});

export const addonsSchema = z.strictObject({
  karpenter: z.boolean().default(true),
  cilium: z.boolean().default(false),
  falco: z.boolean().default(true),
  kubecost: z.boolean().default(true),
  corednsAutoscaler: z.boolean().default(false),
  ...everydayAddonsShape,
});

/**
 * The public Argo CD endpoint is a dev-only exception: on staging and prod the opt-out is refused. Returns the
 * message for `gitops.argocd.publicEndpoint`, or undefined when the config is acceptable.
 */
export function publicArgoCdEndpointIssue(
  environment: string,
  argocd: { readonly publicEndpoint?: unknown },
): string | undefined {
  if (argocd.publicEndpoint === undefined || environment === "dev") return undefined;
  return `is refused on ${environment}: the managed Argo CD UI/API would be reachable from the internet; remove gitops.argocd.publicEndpoint and reach the UI privately through the VPC endpoint (VPN, the in-VPC runner's network, or SSM port forwarding; see docs/gitops.md)`;
}

/**
 * Name of the IAM role the EKS Argo CD capability runs as. EKS itself gives this role an access entry on the local
 * cluster, so the program only associates an access policy with it, and the live check counts it as AWS-created.
 */
export function argoCdCapabilityRoleName(clusterName: string): string {
  return `${clusterName}-argocd-capability`;
}
