import * as aws from "@pulumi/aws";
import * as admission from "@pulumi/kubernetes/admissionregistration/v1";
import type { Provider } from "@pulumi/kubernetes/provider";
import * as rbac from "@pulumi/kubernetes/rbac/v1";
import * as pulumi from "@pulumi/pulumi";
import { registrarAccount } from "../config/fleet";
import type { ClusterFacts } from "../facts";
import { principalLogicalName } from "../identity/access";
import { registrarGroup, registrarRules, registrationPolicy } from "./registration";

/** Name of the registrars' Role, RoleBinding and admission policy on the hub. */
export const registrarObjectName = "eks-gitops-platform-fleet-registrar";

export interface FleetRegistrarsArgs {
  readonly facts: ClusterFacts;
  readonly namespace: string;
  readonly provider: Provider;
  /** Argo CD's namespace exists (created with Argo CD). */
  readonly argocdReady: pulumi.Resource[];
}

/**
 * On a hub with `fleet.registrars`: what lets another account's deploy role register spokes, and nothing more. Per
 * registrar an EKS access entry (STANDARD, one Kubernetes group, no access policy: its rights are the RBAC below,
 * not an EKS policy); once for all of them a Role in Argo CD's namespace (./registration.ts registrarRules), its
 * binding to their groups, and the ValidatingAdmissionPolicy that confines each to its own spokes' Secrets.
 */
export class FleetRegistrars extends pulumi.ComponentResource {
  readonly groups: string[];

  constructor(name: string, args: FleetRegistrarsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:FleetRegistrars", name, {}, opts);
    const { facts } = args;
    const config = facts.config;
    const registrars = config.fleet?.registrars ?? [];
    const granted = [...config.access.admins, ...config.access.viewers];
    registrars.forEach((arn, index) => {
      if (granted.includes(arn))
        throw new Error(
          `${config.project}:fleet.registrars.${index} = ${JSON.stringify(arn)} is also in access.admins or access.viewers: EKS keeps one access entry per principal; a registrar gets only its Kubernetes group, remove it from one of the lists`,
        );
    });
    const k8s = { parent: this, provider: args.provider, dependsOn: args.argocdReady };
    this.groups = registrars.map((arn) => registrarGroup(registrarAccount(arn)));
    const metadata = { name: registrarObjectName, namespace: args.namespace };
    const role = new rbac.Role(`${name}-role`, { metadata, rules: registrarRules }, k8s);
    new rbac.RoleBinding(
      `${name}-binding`,
      {
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: registrarObjectName },
        subjects: this.groups.map((group) => ({
          apiGroup: "rbac.authorization.k8s.io",
          kind: "Group",
          name: group,
        })),
      },
      { ...k8s, dependsOn: [...args.argocdReady, role] },
    );
    const policy = registrationPolicy({
      environment: config.environment,
      namespace: args.namespace,
      install: config.gitops.argocd.install,
    });
    const admissionPolicy = new admission.ValidatingAdmissionPolicy(
      `${name}-policy`,
      {
        metadata: { name: registrarObjectName },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [""],
                apiVersions: ["v1"],
                resources: ["secrets"],
                operations: ["CREATE", "UPDATE", "DELETE"],
              },
            ],
          },
          ...policy,
        },
      },
      { parent: this, provider: args.provider },
    );
    const binding = new admission.ValidatingAdmissionPolicyBinding(
      `${name}-policy-binding`,
      {
        metadata: { name: registrarObjectName },
        spec: { policyName: registrarObjectName, validationActions: ["Deny"] },
      },
      { parent: this, provider: args.provider, dependsOn: [admissionPolicy] },
    );
    // Registrars can authenticate only once the policy that confines them is bound (and lose access first on destroy).
    registrars.forEach(
      (arn, index) =>
        new aws.eks.AccessEntry(
          `${name}-${principalLogicalName(arn)}`,
          {
            clusterName: facts.clusterName,
            principalArn: arn,
            type: "STANDARD",
            kubernetesGroups: [this.groups[index]],
            tags: config.tags,
          },
          { parent: this, dependsOn: [facts.cluster, binding] },
        ),
    );
    this.registerOutputs({});
  }
}
