import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

/** The account the offline synth pretends to run in (the AWS documentation's example account). */
export const mockAccountId = "111122223333";

/**
 * AZs per region as `describe-availability-zones` reports them for a typical account; regions not listed get
 * a, b and c. us-west-1 really offers new accounts only two AZs, which the platform must refuse.
 */
const availabilityZonesByRegion: Record<string, string[]> = {
  "us-east-1": ["a", "b", "c", "d", "e", "f"],
  "us-west-1": ["b", "c"],
  "us-west-2": ["a", "b", "c", "d"],
  "eu-central-1": ["a", "b", "c"],
  "eu-west-1": ["a", "b", "c"],
  "ap-northeast-1": ["a", "c", "d"],
};

export function availabilityZonesFor(region: string): string[] {
  return (availabilityZonesByRegion[region] ?? ["a", "b", "c"]).map((suffix) => `${region}${suffix}`);
}

function shortHash(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex");
}

/**
 * Mocks that answer like AWS would: ids with the right prefixes, ARNs in the right shape, the cluster's endpoint and
 * CA, so code that derives names or URLs from outputs runs as it would for real. Ids are hashes of the logical
 * name, so two synths of the same stack produce identical files.
 */
export function platformMocks(
  region: string,
  stackReferences: Readonly<Record<string, Record<string, unknown>>> = {},
): pulumi.runtime.Mocks {
  const arn = (service: string, resource: string, withRegion = true) =>
    `arn:aws:${service}:${withRegion ? region : ""}:${mockAccountId}:${resource}`;
  return {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
      const hash = shortHash(args.type, args.name);
      const inputs = args.inputs as Record<string, unknown>;
      const physicalName = (inputs.name as string | undefined) ?? `${args.name}-${hash.slice(0, 7)}`;
      const withId = (id: string, extra: Record<string, unknown> = {}) => ({
        id,
        state: { ...inputs, ...extra },
      });
      switch (args.type) {
        case "pulumi:pulumi:StackReference": {
          // As the engine does: the referenced stack's outputs, or an error for a stack the backend does not hold.
          const name = String(inputs.name);
          const outputs = stackReferences[name];
          if (!outputs) throw new Error(`unknown stack "${name}"`);
          return { id: name, state: { name, outputs, secretOutputNames: [] } };
        }
        case "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
          const host = String(inputs.url).replace(/^https:\/\//, "");
          return withId(arn("iam", `oidc-provider/${host}`, false), {
            arn: arn("iam", `oidc-provider/${host}`, false),
          });
        }
        case "aws:codebuild/project:Project":
          return withId(arn("codebuild", `project/${physicalName}`), {
            name: physicalName,
            arn: arn("codebuild", `project/${physicalName}`),
          });
        case "aws:ec2/vpc:Vpc":
          return withId(`vpc-${hash.slice(0, 17)}`, { arn: arn("ec2", `vpc/vpc-${hash.slice(0, 17)}`) });
        case "aws:ec2/subnet:Subnet":
          return withId(`subnet-${hash.slice(0, 17)}`, {
            arn: arn("ec2", `subnet/subnet-${hash.slice(0, 17)}`),
          });
        case "aws:ec2/internetGateway:InternetGateway":
          return withId(`igw-${hash.slice(0, 17)}`);
        case "aws:ec2/routeTable:RouteTable":
          return withId(`rtb-${hash.slice(0, 17)}`);
        case "aws:ec2/natGateway:NatGateway":
          return withId(`nat-${hash.slice(0, 17)}`);
        case "aws:ec2/eip:Eip":
          return withId(`eipalloc-${hash.slice(0, 17)}`, {
            publicIp: `198.51.100.${parseInt(hash.slice(0, 2), 16) % 250}`,
          });
        case "aws:ec2/vpcEndpoint:VpcEndpoint":
          return withId(`vpce-${hash.slice(0, 17)}`);
        case "aws:ec2/securityGroup:SecurityGroup":
          return withId(`sg-${hash.slice(0, 17)}`, {
            arn: arn("ec2", `security-group/sg-${hash.slice(0, 17)}`),
          });
        case "aws:kms/key:Key": {
          const keyId = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
          return withId(keyId, { keyId, arn: arn("kms", `key/${keyId}`) });
        }
        case "aws:cloudwatch/logGroup:LogGroup":
          return withId(physicalName, { name: physicalName, arn: arn("logs", `log-group:${physicalName}`) });
        case "aws:iam/role:Role":
          return withId(physicalName, { name: physicalName, arn: arn("iam", `role/${physicalName}`, false) });
        case "aws:iam/policy:Policy":
          return withId(arn("iam", `policy/${physicalName}`, false), {
            name: physicalName,
            arn: arn("iam", `policy/${physicalName}`, false),
          });
        case "aws:sqs/queue:Queue":
          return withId(`https://sqs.${region}.amazonaws.com/${mockAccountId}/${physicalName}`, {
            name: physicalName,
            arn: arn("sqs", physicalName),
            url: `https://sqs.${region}.amazonaws.com/${mockAccountId}/${physicalName}`,
          });
        case "aws:eks/cluster:Cluster": {
          const clusterName = physicalName;
          return withId(clusterName, {
            name: clusterName,
            arn: arn("eks", `cluster/${clusterName}`),
            endpoint: `https://${hash.slice(0, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
            certificateAuthority: { data: Buffer.from(`mock CA for ${clusterName}`).toString("base64") },
            status: "ACTIVE",
            vpcConfig: {
              ...(inputs.vpcConfig as object),
              clusterSecurityGroupId: `sg-${hash.slice(17, 34)}`,
            },
          });
        }
        case "aws:eks/nodeGroup:NodeGroup":
          return withId(`${inputs.clusterName}:${inputs.nodeGroupName ?? physicalName}`, {
            arn: arn(
              "eks",
              `nodegroup/${inputs.clusterName}/${inputs.nodeGroupName ?? physicalName}/${hash.slice(0, 8)}`,
            ),
          });
        default:
          return withId(`${args.name}-${hash.slice(0, 8)}`);
      }
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      switch (args.token) {
        case "aws:index/getAvailabilityZones:getAvailabilityZones": {
          const names = availabilityZonesFor(region);
          return {
            names,
            zoneIds: names.map((_, index) => `${region.replace(/-/g, "")}-az${index + 1}`),
            state: "available",
          };
        }
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return {
            accountId: mockAccountId,
            arn: `arn:aws:sts::${mockAccountId}:assumed-role/github-deploy/offline-synth`,
            userId: "AROAEXAMPLE:offline-synth",
            id: mockAccountId,
          };
        case "aws:index/getPartition:getPartition":
          return {
            partition: "aws",
            dnsSuffix: "amazonaws.com",
            reverseDnsPrefix: "com.amazonaws",
            id: "aws",
          };
        case "aws:index/getRegion:getRegion":
          return { name: region, region, endpoint: `ec2.${region}.amazonaws.com`, id: region };
        default:
          throw new Error(
            `the offline synth has no mock for data source ${args.token}; add one in synth/mocks.ts`,
          );
      }
    },
  };
}
