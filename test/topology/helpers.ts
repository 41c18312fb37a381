import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing, type TerraformStack } from "cdktf";
import { afterAll } from "vitest";
import { CaTopology } from "../../stacks/ca-topology.js";
import { parseEnvironment } from "../../environments/load.js";
import type { Environment, EnvironmentInput } from "../../environments/schema.js";
import dev from "../../environments/dev.js";
import staging from "../../environments/staging.js";
import production from "../../environments/production.js";
import pilot from "../../environments/pilot.js";

export const DEFINITIONS: Record<string, EnvironmentInput> = { dev, staging, production, pilot };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test file. */
export function tempDir(prefix = "lanic-ca-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A deep copy of a shipped environment definition, changed by `mutate`, validated. */
export function fixture(name: string, mutate: (env: EnvironmentInput) => void = () => {}): Environment {
  const raw = structuredClone(DEFINITIONS[name]);
  mutate(raw);
  return parseEnvironment(raw, `fixture:${name}`);
}

/** An app in a temporary folder (Testing.app() would leave /tmp/cdktf.outdir.* behind). */
export function testApp(): App {
  return new App({ outdir: tempDir("lanic-ca-app-"), stackTraces: false });
}

export function topology(env: Environment): CaTopology {
  return new CaTopology(testApp(), env.name, { environment: env });
}

/** Synthesized Terraform JSON of one stack, parsed. */
export function synthStack(stack: TerraformStack): { json: string; tf: TfJson } {
  const json = Testing.synth(stack);
  return { json, tf: JSON.parse(json) as TfJson };
}

export type TfJson = { resource: Record<string, Record<string, any>>; provider: Record<string, any> };

/** Every resource of a type, by its Terraform name. */
export function resources(tf: TfJson, type: string): [string, any][] {
  return Object.entries(tf.resource[type] ?? {});
}
