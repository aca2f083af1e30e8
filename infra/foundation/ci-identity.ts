import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn } from "../identity/managed-policies";
import {
  clusterDeployPolicy,
  environmentSubject,
  foundationDeployPolicy,
  githubOidcUrl,
  githubTrustPolicy,
  pullRequestSubject,
  StateBackend,
  stateStatements,
  stsAudience,
} from "./ci-policies";
import { ciNames, foundationGitHubEnvironment, FoundationEnvironment } from "./contract";

export interface CiIdentityArgs {
  readonly namePrefix: string;
  readonly stack: string;
  readonly repository: string;
  /** An existing provider to reuse; undefined declares one (IAM allows one provider per URL and account). */
  readonly oidcProviderArn?: string;
  readonly environments: readonly FoundationEnvironment[];
  readonly partition: pulumi.Input<string>;
  readonly accountId: pulumi.Input<string>;
  readonly region: string;
  readonly state: StateBackend;
  readonly tags: Readonly<Record<string, string>>;
}

export interface CiRoles {
  readonly preview: aws.iam.Role;
  readonly deploy: aws.iam.Role;
}

/**
 * The GitHub OIDC provider (or the account's existing one) and the CI roles: a preview and a deploy role per
 * environment, and the foundation's own pair. Trust is the exact `aud`/`sub` of GitHub's default claims.
 */
export class CiIdentity extends pulumi.ComponentResource {
  readonly providerArn: pulumi.Output<string>;
  readonly environments: Readonly<Partial<Record<FoundationEnvironment, CiRoles>>>;
  readonly foundation: CiRoles;

  constructor(name: string, args: CiIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:foundation:CiIdentity", name, {}, opts);
    const parent = { parent: this };
    this.providerArn = args.oidcProviderArn
      ? pulumi.output(args.oidcProviderArn)
      : new aws.iam.OpenIdConnectProvider(
          `${name}-github`,
          { url: githubOidcUrl, clientIdLists: [stsAudience], tags: args.tags },
          parent,
        ).arn;

    const context = pulumi.all([args.partition, args.accountId]);
    const role = (logicalName: string, roleName: string, subject: string, tags: Record<string, string>) =>
      new aws.iam.Role(
        logicalName,
        {
          name: roleName,
          assumeRolePolicy: this.providerArn.apply((arn) => JSON.stringify(githubTrustPolicy(arn, subject))),
          maxSessionDuration: 7200,
          tags,
        },
        parent,
      );
    const readOnly = (logicalName: string, target: aws.iam.Role) => {
      new aws.iam.RolePolicyAttachment(
        logicalName,
        {
          role: target.name,
          policyArn: pulumi
            .output(args.partition)
            .apply((partition) => managedPolicyArn(partition, "ReadOnlyAccess")),
        },
        parent,
      );
    };
    const inline = (logicalName: string, target: aws.iam.Role, policy: pulumi.Input<string>) =>
      new aws.iam.RolePolicy(logicalName, { role: target.id, policy }, parent);

    const environments: Partial<Record<FoundationEnvironment, CiRoles>> = {};
    for (const environment of args.environments) {
      const names = ciNames(args.namePrefix, environment);
      // Not `environment`: the deploy roles may change roles tagged with their environment, never themselves.
      const tags = { ...args.tags, "ci-environment": environment };
      const preview = role(
        `${name}-${environment}-preview`,
        names.previewRole,
        pullRequestSubject(args.repository),
        tags,
      );
      readOnly(`${name}-${environment}-preview-read-only`, preview);
      if (args.state.bucketArn || args.state.kmsKeyArn)
        inline(
          `${name}-${environment}-preview-state`,
          preview,
          // Previews take the backend's lock and read state: the same bucket and key rights as a deploy.
          JSON.stringify({ Version: "2012-10-17", Statement: stateStatements(args.state) }),
        );
      const deploy = role(
        `${name}-${environment}-deploy`,
        names.deployRole,
        environmentSubject(args.repository, environment),
        tags,
      );
      inline(
        `${name}-${environment}-deploy`,
        deploy,
        context.apply(([partition, accountId]) =>
          JSON.stringify(
            clusterDeployPolicy({
              partition,
              accountId,
              region: args.region,
              environment,
              state: args.state,
            }),
          ),
        ),
      );
      environments[environment] = { preview, deploy };
    }
    this.environments = environments;

    const own = ciNames(args.namePrefix, "foundation");
    const preview = role(`${name}-foundation-preview`, own.previewRole, pullRequestSubject(args.repository), {
      ...args.tags,
    });
    readOnly(`${name}-foundation-preview-read-only`, preview);
    const deploy = role(
      `${name}-foundation-deploy`,
      own.deployRole,
      environmentSubject(args.repository, foundationGitHubEnvironment(args.stack)),
      { ...args.tags },
    );
    inline(
      `${name}-foundation-deploy`,
      deploy,
      context.apply(([partition, accountId]) =>
        JSON.stringify(
          foundationDeployPolicy({
            partition,
            accountId,
            region: args.region,
            namePrefix: args.namePrefix,
            state: args.state,
          }),
        ),
      ),
    );
    this.foundation = { preview, deploy };
    this.registerOutputs({ providerArn: this.providerArn });
  }
}
