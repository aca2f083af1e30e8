import { stringify } from "yaml";

export interface KubeconfigParams {
  readonly clusterName: string;
  readonly endpoint: string;
  readonly certificateAuthorityData: string;
  readonly region: string;
}

/**
 * A kubeconfig that fetches a short-lived token with `aws eks get-token` on every call: no static credentials in
 * state, and it works for whichever principal has an access entry.
 */
export function renderKubeconfig(params: KubeconfigParams): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: params.clusterName,
        cluster: { server: params.endpoint, "certificate-authority-data": params.certificateAuthorityData },
      },
    ],
    contexts: [
      { name: params.clusterName, context: { cluster: params.clusterName, user: params.clusterName } },
    ],
    "current-context": params.clusterName,
    users: [
      {
        name: params.clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              params.clusterName,
              "--region",
              params.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

export function updateKubeconfigCommand(clusterName: string, region: string): string {
  return `aws eks update-kubeconfig --region ${region} --name ${clusterName}`;
}
