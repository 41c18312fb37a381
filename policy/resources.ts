/**
 * The synthesized Terraform JSON of an environment's stacks, indexed for the checks: by resource
 * type and by construct path (cdktf writes each resource's construct path in `//.metadata.path`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CaTopology } from "../constructs/ca-topology.js";

export interface TfResource {
  type: string;
  name: string;
  /** Stack id, e.g. `production-lanic`. */
  stack: string;
  /** Construct path. */
  path: string;
  body: Record<string, unknown>;
}

export type StackJson = { resource?: Record<string, Record<string, Record<string, unknown>>>; [k: string]: unknown };

export class SynthesizedResources {
  readonly all: TfResource[] = [];
  private readonly byType = new Map<string, TfResource[]>();
  private readonly byPath = new Map<string, TfResource>();

  /** @param stacks stack id → its Terraform JSON */
  constructor(readonly stacks: Record<string, StackJson>) {
    for (const [stack, tf] of Object.entries(stacks))
      for (const [type, byName] of Object.entries(tf.resource ?? {}))
        for (const [name, body] of Object.entries(byName)) {
          const meta = (body["//"] as { metadata?: { path?: string } } | undefined)?.metadata;
          const r: TfResource = { type, name, stack, path: meta?.path ?? `${stack}/${name}`, body };
          this.all.push(r);
          this.byPath.set(r.path, r);
          const list = this.byType.get(type) ?? [];
          list.push(r);
          this.byType.set(type, list);
        }
  }

  ofType(type: string): TfResource[] {
    return this.byType.get(type) ?? [];
  }

  at(path: string): TfResource | undefined {
    return this.byPath.get(path);
  }

  /**
   * The stacks of a topology, synthesized in memory (`TerraformStack.toTerraform()`).
   * With `shareWithSynth`, the JSON is computed once for the gate and for `app.synth()`: each
   * stack's `toTerraform` returns it again while the construct tree is unchanged (ADR 0031), so
   * the gate does not resolve every token a second time.
   */
  static fromTopology(topology: CaTopology, options: { shareWithSynth?: boolean } = {}): SynthesizedResources {
    const stacks: Record<string, StackJson> = {};
    for (const s of topology.stacks) {
      const tf = s.toTerraform() as StackJson;
      stacks[s.node.id] = tf;
      if (options.shareWithSynth) {
        const size = s.node.findAll().length;
        const original = Object.getPrototypeOf(s).toTerraform as () => unknown;
        Object.defineProperty(s, "toTerraform", {
          configurable: true,
          writable: true,
          value: function (this: typeof s) {
            return this.node.findAll().length === size ? tf : original.call(this);
          },
        });
      }
    }
    return new SynthesizedResources(stacks);
  }

  /** The stacks written by a synth (`<outdir>/stacks/<id>/cdk.tf.json`). */
  static fromOutdir(outdir: string, stackIds: string[]): SynthesizedResources {
    return new SynthesizedResources(
      Object.fromEntries(stackIds.map((id) => [id, JSON.parse(readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8")) as StackJson])),
    );
  }
}
