import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../infra/config";
import { defineFoundation } from "../infra/foundation";

// The foundation project (one stack per AWS account and region): see infra/foundation and docs/pipeline.md.
// A config error is the user's to fix, not a crash: print the list of problems without a stack trace.
export = defineFoundation().catch((error: unknown) => {
  if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
  throw error;
});
