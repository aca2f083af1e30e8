import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn } from "../identity/managed-policies";
import {
  clusterDeployPolicy,
  environmentSubject,
  foundationDeployPolicy,
  iamPolicyQuota,
  policyWithinQuota,
  githubOidcUrl,
  githubTrustPolicy,
  pullRequestSubject,
  roleBoundaryPolicy,
  StateBackend,
  stateStatements,
  stsAudience,
} from "./ci-policies";
import { ciNames, foundationGitHubEnvironment, FoundationEnvironment, foundationProject } from "./contract";

export interface CiIdentityArgs {
  readonly namePrefix: string;
  readonly stack: string;
  readonly repository: string;
  /** An existing provider to reuse; undefined declares one (IAM allows one provider per URL and account). */
  readonly oidcProviderArn?: string;
  readonly environments: readonly FoundationEnvironment[];
  /** Per environment, the clusters whose `<cluster>-*` roles its deploy role owns. */
  readonly clusters: Readonly<Partial<Record<FoundationEnvironment, readonly string[]>>>;
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

/** An environment's CI roles and the permissions boundary of the roles its cluster stacks create. */
export interface EnvironmentCi extends CiRoles {
  readonly roleBoundary: aws.iam.Policy;
}

/**
 * The GitHub OIDC provider (or the account's existing one) and the CI roles: a preview and a deploy role per
 * environment, and the foundation's own pair. Trust is the exact `aud`/`sub` of GitHub's default claims.
 */
export class CiIdentity extends pulumi.ComponentResource {
  readonly providerArn: pulumi.Output<string>;
  readonly environments: Readonly<Partial<Record<FoundationEnvironment, EnvironmentCi>>>;
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
    const iam = (partition: string, accountId: string) => ({
      partition,
      accountId,
      namePrefix: args.namePrefix,
      environments: args.environments,
    });
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

    const tooManyClusters = (environment: FoundationEnvironment) =>
      `list fewer clusters under ${foundationProject}:environments.${environment}.clusters (each adds its role and EKS ARNs), ` +
      "or give further clusters a foundation of their own (another account or region)";
    const environments: Partial<Record<FoundationEnvironment, EnvironmentCi>> = {};
    for (const environment of args.environments) {
      const names = ciNames(args.namePrefix, environment);
      // The deploy policy names this ARN (computed the same way); tagged layer=foundation, so read-only to it.
      const roleBoundary = new aws.iam.Policy(
        `${name}-${environment}-role-boundary`,
        {
          name: names.roleBoundary,
          description: `Permissions boundary of every role the ${environment} cluster stacks create`,
          policy: context.apply(([partition, accountId]) =>
            policyWithinQuota(
              roleBoundaryPolicy({
                ...iam(partition, accountId),
                region: args.region,
                environment,
                clusters: args.clusters[environment] ?? [],
              }),
              iamPolicyQuota.managed,
              `the ${environment} role boundary (managed policy ${names.roleBoundary})`,
              tooManyClusters(environment),
            ),
          ),
          tags: { ...args.tags, "ci-environment": environment },
        },
        parent,
      );
      // Not `environment`: CI roles are no cluster stack's roles (and their deploy policies deny changing them).
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
          policyWithinQuota(
            clusterDeployPolicy({
              ...iam(partition, accountId),
              region: args.region,
              environment,
              clusters: args.clusters[environment] ?? [],
              state: args.state,
            }),
            iamPolicyQuota.inlinePerRole,
            `the ${environment} deploy policy (inline on ${names.deployRole}, its only inline policy)`,
            tooManyClusters(environment),
          ),
        ),
      );
      environments[environment] = { preview, deploy, roleBoundary };
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
          foundationDeployPolicy({ ...iam(partition, accountId), region: args.region, state: args.state }),
        ),
      ),
    );
    this.foundation = { preview, deploy };
    this.registerOutputs({ providerArn: this.providerArn });
  }
}
