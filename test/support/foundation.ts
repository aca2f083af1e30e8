import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** A foundation project with one stack named after `region` under `<root>/foundation`, for pipeline tests. */
export function writeFoundation(
  root: string,
  region: string,
  environments: Record<string, object> = { dev: {}, staging: {}, prod: {} },
  extra: Record<string, unknown> = {},
): void {
  const dir = join(root, "foundation");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "Pulumi.yaml"), "name: eks-gitops-foundation\nruntime: nodejs\n");
  const config = {
    "aws:region": region,
    "eks-gitops-foundation:accountId": "012345678901",
    "eks-gitops-foundation:github": {
      repository: "acme/platform",
      connectionArn: `arn:aws:codeconnections:${region}:012345678901:connection/00000000-0000-4000-8000-000000000000`,
      runnerActorIds: [583231],
    },
    "eks-gitops-foundation:environments": environments,
    ...extra,
  };
  writeFileSync(join(dir, `Pulumi.${region}.yaml`), stringify({ config }));
}
