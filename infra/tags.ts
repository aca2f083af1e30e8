/** Tags every taggable resource carries, plus its Name tag, so costs and owners show up in the AWS console. */
export function withName(tags: Readonly<Record<string, string>>, name: string): Record<string, string> {
  return { ...tags, Name: name };
}
