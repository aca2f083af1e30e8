import { synthesize, SynthResource, SynthResult } from "../../synth";

const cache = new Map<string, Promise<SynthResult>>();

/** Synthesizes a sample stack once per test run; every suite asserting on the same stack shares the result. */
export function synthesizedStack(stack: string): Promise<SynthResult> {
  if (!cache.has(stack)) cache.set(stack, synthesize(stack));
  return cache.get(stack) as Promise<SynthResult>;
}

export function ofType(result: SynthResult, type: string): SynthResource[] {
  return result.resources.filter((resource) => resource.type === type);
}

export function single(result: SynthResult, type: string): SynthResource {
  const found = ofType(result, type);
  if (found.length !== 1)
    throw new Error(`expected exactly one ${type} in ${result.stack}, found ${found.length}`);
  return found[0];
}
