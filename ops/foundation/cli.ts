import { EC2Client } from "@aws-sdk/client-ec2";
import { checkFoundationDestroy } from "./guard";

/**
 * What FoundationDestroyGuard's delete step runs (FOUNDATION_GUARD_* variables): exit 0 when no cluster stack is
 * left in the foundation's VPC, 1 with the list otherwise, which stops `pulumi destroy` before it deletes anything.
 */
export const guardUsage = `usage: ts-node ops/foundation/cli.ts        (what the foundation's FoundationDestroyGuard runs on destroy)

Refuses the destroy of a foundation stack while cluster stacks are still built on it: lists the subnets of its VPC
that it does not own (a cluster stack's) and exits 1, which stops \`pulumi destroy\` before anything is deleted.
Exit 0 when none is left. Reads, from the environment:
  FOUNDATION_GUARD_REGION        the foundation's region
  FOUNDATION_GUARD_VPC_ID        its VPC
  FOUNDATION_GUARD_OWN_SUBNETS   its own subnets, comma-separated (public and runner subnets)
and AWS credentials as usual.

examples:
  FOUNDATION_GUARD_REGION=eu-west-1 FOUNDATION_GUARD_VPC_ID=vpc-0abc FOUNDATION_GUARD_OWN_SUBNETS=subnet-1,subnet-2 \\
    npx ts-node --transpile-only ops/foundation/cli.ts`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(guardUsage);
    return 0;
  }
  const required = (name: string) => {
    const value = env[name];
    if (!value)
      throw new Error(
        `${name} is not set (FoundationDestroyGuard passes it to this command; --help lists what it needs)`,
      );
    return value;
  };
  const region = required("FOUNDATION_GUARD_REGION");
  const vpcId = required("FOUNDATION_GUARD_VPC_ID");
  const own = required("FOUNDATION_GUARD_OWN_SUBNETS").split(",").filter(Boolean);
  await checkFoundationDestroy(new EC2Client({ region }), vpcId, own);
  console.log(`no cluster stack left in ${vpcId}: the foundation may be destroyed`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exitCode = 1;
    },
  );
}
