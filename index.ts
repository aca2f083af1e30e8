import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./infra/config";
import { definePlatform } from "./infra/platform";

// A config error is the user's to fix, not a crash: print the list of problems without a stack trace.
export = definePlatform().catch((error: unknown) => {
  if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
  throw error;
});
