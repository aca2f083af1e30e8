/** Trust policy for a role that an AWS service assumes; EKS services also tag the session. */
export function serviceTrustPolicy(service: string, tagSession: boolean): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: tagSession ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole",
      },
    ],
  });
}
