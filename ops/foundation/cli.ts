import { EC2Client } from "@aws-sdk/client-ec2";
import { checkFoundationDestroy } from "./guard";

/**
 * What FoundationDestroyGuard's delete step runs (FOUNDATION_GUARD_* variables): exit 0 when no cluster stack is
 * left in the foundation's VPC, 1 with the list otherwise, which stops `pulumi destroy` before it deletes anything.
 */
async function main(): Promise<number> {
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (FoundationDestroyGuard passes it to this command)`);
    return value;
  };
  const region = required("FOUNDATION_GUARD_REGION");
  const vpcId = required("FOUNDATION_GUARD_VPC_ID");
  const own = required("FOUNDATION_GUARD_OWN_SUBNETS").split(",").filter(Boolean);
  await checkFoundationDestroy(new EC2Client({ region }), vpcId, own);
  console.log(`no cluster stack left in ${vpcId}: the foundation may be destroyed`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  },
);
