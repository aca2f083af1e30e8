import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { at, forType, show, UNKNOWN } from "./lib/values";

export type NodeGroupProps = pulumi.Unwrap<aws.eks.NodeGroupArgs>;
export type LaunchTemplateProps = pulumi.Unwrap<aws.ec2.LaunchTemplateArgs>;
export type InstanceProps = pulumi.Unwrap<aws.ec2.InstanceArgs>;
export const nodeGroupType = "aws:eks/nodeGroup:NodeGroup";
export const launchTemplateType = "aws:ec2/launchTemplate:LaunchTemplate";
export const instanceType = "aws:ec2/instance:Instance";

/** Nodes are reached through SSM Session Manager (or not at all), never over SSH with a shared key. */
export const eksNodeNoSsh: ResourceValidationPolicy = {
  name: "eks-node-no-ssh",
  description:
    "Nodes must not accept SSH: no remoteAccess (ec2SshKey) on an aws.eks.NodeGroup and no keyName on its launch template; use SSM Session Manager (AmazonSSMManagedInstanceCore) to reach a node.",
  enforcementLevel: "mandatory",
  validateResource: [
    forType<NodeGroupProps>(nodeGroupType, (group, args, reportViolation) => {
      const key = at(group, "remoteAccess", "ec2SshKey");
      const sources = at(group, "remoteAccess", "sourceSecurityGroupIds");
      if (at(group, "remoteAccess") === undefined || key === UNKNOWN) return;
      if (key === undefined && sources === undefined) return;
      reportViolation(
        `Node group ${args.name} sets remoteAccess (ec2SshKey ${key === undefined ? "unset" : show(key)}${sources === undefined ? ", no sourceSecurityGroupIds: port 22 open to 0.0.0.0/0" : ""}), so every node accepts SSH with a shared key; remove remoteAccess and reach nodes with SSM Session Manager.`,
      );
    }),
    forType<LaunchTemplateProps>(launchTemplateType, (template, args, reportViolation) => {
      const key = at(template, "keyName");
      if (key === undefined || key === UNKNOWN || key === "") return;
      reportViolation(
        `Launch template ${args.name} sets keyName ${show(key)}, so nodes launched from it accept SSH with that key; remove keyName and reach nodes with SSM Session Manager.`,
      );
    }),
  ],
};

/**
 * IMDSv1 answers any request from the node, so an SSRF in any pod reads the node role's credentials. Launch
 * templates default to httpTokens "optional" (IMDSv1 on) unless the AMI says otherwise, so unset is a finding.
 */
export const ec2Imdsv2Required: ResourceValidationPolicy = {
  name: "ec2-imdsv2-required",
  description:
    'Launch templates and instances must require IMDSv2: set metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 or 2 } (or httpEndpoint: "disabled").',
  enforcementLevel: "mandatory",
  validateResource: forType<LaunchTemplateProps & InstanceProps>(
    [launchTemplateType, instanceType],
    (resource, args, reportViolation) => {
      const endpoint = at(resource, "metadataOptions", "httpEndpoint");
      const tokens = at(resource, "metadataOptions", "httpTokens");
      if (endpoint === "disabled" || endpoint === UNKNOWN || tokens === UNKNOWN || tokens === "required")
        return;
      const kind = args.type === launchTemplateType ? "Launch template" : "Instance";
      reportViolation(
        `${kind} ${args.name} has metadataOptions.httpTokens ${tokens === undefined ? 'unset (defaults to "optional")' : `"${show(tokens)}"`}, so IMDSv1 is on and any pod that can be tricked into a request (SSRF) reads the node role's credentials; set metadataOptions.httpTokens: "required".`,
      );
    },
  ),
};
