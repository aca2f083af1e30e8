import * as pulumi from "@pulumi/pulumi";
import type { ClusterFacts } from "../facts";

export interface GitOpsArgs {
  readonly cluster: ClusterFacts;
}

/** Argo CD bootstrap and add-on wiring: being built under issue 4. */
export class GitOps extends pulumi.ComponentResource {
  constructor(name: string, _args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:GitOps", name, {}, opts);
    this.registerOutputs({});
  }
}
