/**
 * The synthesized Terraform JSON of an environment's stacks, indexed for the checks: by resource
 * type and by construct path (cdktf writes each resource's construct path in `//.metadata.path`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CaTopology } from "../stacks/ca-topology.js";
import { shareFragments } from "../stacks/fast-tokens.js";

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

  private readonly strings = new WeakMap<TfResource, string[]>();

  /** Every string value in a resource (computed once, shared by the checks that scan text). */
  stringsOf(r: TfResource): string[] {
    let out = this.strings.get(r);
    if (!out) {
      const acc: string[] = [];
      const walk = (v: unknown): void => {
        if (typeof v === "string") acc.push(v);
        else if (Array.isArray(v)) for (const x of v) walk(x);
        else if (v && typeof v === "object") for (const k in v as object) walk((v as Record<string, unknown>)[k]);
      };
      walk(r.body);
      this.strings.set(r, (out = acc));
    }
    return out;
  }

  ofType(type: string): TfResource[] {
    return this.byType.get(type) ?? [];
  }

  at(path: string): TfResource | undefined {
    return this.byPath.get(path);
  }

  /**
   * The stacks of a topology, synthesized in memory (`TerraformStack.toTerraform()`).
   *
   * With `shareWithSynth` (the synth gate), the stacks are prepared (`prepareStack()`: backend,
   * cross-stack references) and their JSON is computed once, for the gate and for the following
   * `app.synth()`: each stack's `prepareStack` and `toTerraform` then return at once while the
   * construct tree is unchanged, and fall back to cdktf's own when anything was added since
   * (ADR 0031). The written cdk.tf.json is byte-identical (test/policy/gate.test.ts).
   */
  static fromTopology(topology: CaTopology, options: { shareWithSynth?: boolean } = {}): SynthesizedResources {
    const stacks: Record<string, StackJson> = {};
    for (const s of topology.stacks) {
      // cdktf builds and resolves every element's fragment twice (prepareStack, then
      // toTerraform); run back to back here, once (ADR 0031, ADR 0032).
      const tf = (
        options.shareWithSynth
          ? shareFragments(s, () => {
              s.prepareStack();
              return s.toTerraform();
            })
          : s.toTerraform()
      ) as StackJson;
      stacks[s.node.id] = tf;
      if (options.shareWithSynth) {
        const size = s.node.findAll().length;
        const proto = Object.getPrototypeOf(s) as { prepareStack: () => void; toTerraform: () => unknown };
        const unchanged = () => s.node.findAll().length === size;
        Object.defineProperty(s, "prepareStack", { configurable: true, writable: true, value: () => (unchanged() ? undefined : proto.prepareStack.call(s)) });
        Object.defineProperty(s, "toTerraform", { configurable: true, writable: true, value: () => (unchanged() ? tf : proto.toTerraform.call(s)) });
      }
    }
    return new SynthesizedResources(stacks);
  }

  /** The stacks written by a synth (`<outdir>/stacks/<id>/cdk.tf.json`). */
  static fromOutdir(outdir: string, stackIds: string[]): SynthesizedResources {
    return new SynthesizedResources(Object.fromEntries(stackIds.map((id) => [id, JSON.parse(readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8")) as StackJson])));
  }
}
