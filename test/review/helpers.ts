/** Test helpers: production (or a changed copy of it) as a review snapshot, built in memory. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TopologyJson } from "../../constructs/model.js";
import production from "../../environments/production.js";
import { parseEnvironment, type EnvironmentInput } from "../../environments/index.js";
import type { EnvironmentSnapshot } from "../../review/diff.js";
import type { PolicySnapshot } from "../../review/policy-facts.js";
import { buildApp } from "../../stacks/synth.js";

export type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

/** The production model after `changeEnv` (on a deep copy of its definition) and `changeModel`. */
export function productionModel(changeEnv?: (e: Mutable<EnvironmentInput>) => void, changeModel?: (m: TopologyJson) => void): TopologyJson {
  const input = structuredClone(production) as Mutable<EnvironmentInput>;
  changeEnv?.(input);
  const env = parseEnvironment(input, "test/production.ts");
  const dir = mkdtempSync(join(tmpdir(), "review-test-"));
  try {
    const model = structuredClone(buildApp([env], dir).topologies[0].model.toJSON());
    changeModel?.(model);
    return model;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const snapshot = (topology: TopologyJson, policy?: PolicySnapshot): EnvironmentSnapshot => ({ name: topology.environment.name, topology, stacks: {}, policy });
