/**
 * stacks/fast-tokens.ts replaces cdktf's stack-level token resolution with a walk that copies
 * plain data itself and hands every token to cdktf. These tests build the same construct trees
 * twice, once resolved by the fast path and once by cdktf alone, and require identical Terraform
 * JSON (or the identical error) — for every shipped environment and for the token shapes cdktf
 * supports.
 */
import { App, Fn, Lazy, TerraformOutput, TerraformStack, TerraformVariable, Token, type IResolvable, type IResolveContext } from "cdktf";
import type { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1/index.js";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1/index.js";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider/index.js";
import { fastResolveActive, shareFragments, useFastResolve } from "../../stacks/fast-tokens.js";
import { buildApp } from "../../stacks/synth.js";
import { ENVIRONMENT_NAMES, loadEnvironment } from "../../environments/index.js";
import { produced } from "../../constructs/produced.js";

/** Every stack's Terraform JSON, as `app.synth()` computes it (prepare all, then each document). */
function stackJson(app: App): Record<string, string> {
  const stacks = app.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c));
  for (const s of stacks) s.prepareStack();
  return Object.fromEntries(stacks.map((s) => [s.node.id, JSON.stringify(s.toTerraform(), null, 2)]));
}

/** Builds a fresh tree with `build` under each resolver; the outcome (JSON or error message) of both. */
function both(build: (app: App) => void): { fast: unknown; cdktf: unknown } {
  const run = (fast: boolean) => {
    useFastResolve(fast);
    try {
      const app = new App({ outdir: "/nonexistent", stackTraces: false });
      build(app);
      return stackJson(app);
    } catch (e) {
      return { error: (e as Error).message };
    } finally {
      useFastResolve(true);
    }
  };
  return { fast: run(true), cdktf: run(false) };
}

function stack(app: App, id: string): TerraformStack {
  const s = new TerraformStack(app, id);
  new KubernetesProvider(s, "kubernetes", { configPath: "~/.kube/config" });
  return s;
}

/** A value with a post-processor, as cdktf's IResolvable contract allows. */
class Tagged implements IResolvable {
  readonly creationStack: string[] = [];
  resolve(context: IResolveContext): unknown {
    context.registerPostProcessor({ postProcess: (x) => ({ ...(x as object), tagged: true }) });
    return { inner: "value", nested: [1, undefined, "two"] };
  }
  toString(): string {
    return Token.asString(this);
  }
}

/** A value that turns braces off for what it returns, as cdktf's own references do. */
class BareReferences implements IResolvable {
  readonly creationStack: string[] = [];
  constructor(private readonly ref: string) {}
  resolve(context: IResolveContext): unknown {
    context.suppressBraces = true;
    return { bare: this.ref, list: [this.ref, undefined], deeper: { again: `x-${this.ref}` } };
  }
  toString(): string {
    return Token.asString(this);
  }
}

describe("fast token resolution", () => {
  it("is the resolver cdktf uses at synth (the patch reached cdktf's module)", () => {
    expect(fastResolveActive()).toBe(true);
    useFastResolve(false);
    expect(fastResolveActive()).toBe(false);
    useFastResolve(true);
    expect(fastResolveActive()).toBe(true);
  });

  it.each(ENVIRONMENT_NAMES)("gives the Terraform JSON cdktf gives, for every stack of %s", (name) => {
    const env = loadEnvironment(name);
    const run = (on: boolean) => {
      useFastResolve(on);
      try {
        return stackJson(buildApp([env], "/nonexistent").app);
      } finally {
        useFastResolve(true);
      }
    };
    const fast = run(true);
    expect(Object.keys(fast).length).toBeGreaterThan(0);
    expect(fast).toEqual(run(false));
  });

  it.each(ENVIRONMENT_NAMES)("gives cdktf's JSON for %s when each fragment is built and resolved once (the synth gate's path)", (name) => {
    const env = loadEnvironment(name);
    const shared = (() => {
      const app = buildApp([env], "/nonexistent").app;
      const stacks = app.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c));
      return Object.fromEntries(
        stacks.map((s) => [
          s.node.id,
          JSON.stringify(
            shareFragments(s, () => {
              s.prepareStack();
              return s.toTerraform();
            }),
            null,
            2,
          ),
        ]),
      );
    })();
    useFastResolve(false);
    try {
      expect(shared).toEqual(stackJson(buildApp([env], "/nonexistent").app));
    } finally {
      useFastResolve(true);
    }
  });

  it("keeps cross-stack references when fragments are shared, stack by stack", () => {
    const build = (app: App) => {
      const a = stack(app, "site-a");
      const b = stack(app, "site-b");
      const ns = new NamespaceV1(a, "ns", { metadata: { name: "shared" } });
      new ConfigMapV1(b, "cm", { metadata: { name: "cm" }, data: { peer: ns.metadata.name } });
      return [a, b];
    };
    const app = new App({ outdir: "/nonexistent", stackTraces: false });
    const [a, b] = build(app);
    const first = JSON.stringify(
      shareFragments(a, () => {
        a.prepareStack();
        return a.toTerraform();
      }),
      null,
      2,
    );
    const bJson = JSON.stringify(
      shareFragments(b, () => {
        b.prepareStack();
        return b.toTerraform();
      }),
      null,
      2,
    );
    // b's preparation added an output to a: a's JSON computed before is stale, computed again.
    const aJson = JSON.stringify(a.toTerraform(), null, 2);
    expect(aJson).not.toEqual(first);
    const { cdktf } = both((x) => void build(x));
    expect({ "site-a": aJson, "site-b": bJson }).toEqual(cdktf);
  });

  it("resolves references, Lazy values, list/number/map tokens, functions, escapes and post-processors as cdktf does", () => {
    const { fast, cdktf } = both((app) => {
      const s = stack(app, "tokens");
      const ns = new NamespaceV1(s, "ns", { metadata: { name: "ca" } });
      const v = new TerraformVariable(s, "replicas", { type: "number", default: 2 });
      const names = new TerraformVariable(s, "names", { type: "list(string)", default: ["a", "b"] });
      new ConfigMapV1(s, "cm", {
        metadata: { name: "cm", namespace: ns.metadata.name, labels: { "app.kubernetes.io/part-of": Lazy.stringValue({ produce: () => "lanic-ca" }) } },
        data: {
          ref: ns.metadata.name,
          concat: `prefix-${ns.metadata.name}-suffix`,
          number: Token.asString(v.numberValue),
          joined: Fn.join(",", names.listValue),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal "${…}" is the escape under test
          literalEscape: "${var.not_a_token}",
          numberLike: "sha256:3f1e9a 1e5 -2.5e+3",
          lazyNested: Token.asString(Lazy.anyValue({ produce: () => ({ a: [ns.metadata.name, undefined, 3], b: { c: undefined, d: "x" } }) })),
          tagged: Token.asString(new Tagged()),
          date: "2026-11-22",
        },
      });
      new NamespaceV1(s, "lazy-ns", {
        metadata: {
          name: "lazy",
          labels: produced(() => ({ from: ns.metadata.name, plain: "yes", deep: undefined })) as never,
          annotations: { count: Token.asString(Token.asNumber(Lazy.numberValue({ produce: () => 7 }))), list: Fn.element(names.listValue, 0) },
        },
      });
      // Token objects met directly in the tree (not inside a string): resolved by the fast walk.
      new ConfigMapV1(s, "direct", {
        metadata: {
          name: "direct",
          labels: produced(() => ({ list: [1, undefined, "x", [undefined, ns.metadata.name]], ref: ns.metadata.name, inner: produced(() => [undefined, { y: undefined, z: 0 }]) })) as never,
          annotations: new BareReferences(ns.metadata.name) as never,
        },
        data: new Tagged() as never,
      });
      new TerraformOutput(s, "out", { value: { nested: [ns.metadata.name, { n: v.numberValue }], list: names.listValue } });
    });
    expect(fast).not.toHaveProperty("error");
    expect(fast).toEqual(cdktf);
  });

  it("keeps cdktf's cross-stack references (outputs and remote state) intact", () => {
    const { fast, cdktf } = both((app) => {
      const a = stack(app, "site-a");
      const b = stack(app, "site-b");
      const ns = new NamespaceV1(a, "ns", { metadata: { name: "shared" } });
      new ConfigMapV1(b, "cm", { metadata: { name: "cm" }, data: { peer: ns.metadata.name, uid: ns.metadata.uid } });
    });
    expect(fast).not.toHaveProperty("error");
    expect(JSON.stringify(fast)).toContain("terraform_remote_state");
    expect(fast).toEqual(cdktf);
  });

  it.each([
    [
      "a Lazy value that throws",
      (s: Construct) =>
        new ConfigMapV1(s, "cm", {
          metadata: { name: "cm" },
          data: {
            x: Lazy.stringValue({
              produce: () => {
                throw new Error("no value for x");
              },
            }),
          },
        }),
    ],
    [
      "a token object that throws",
      (s: Construct) =>
        new ConfigMapV1(s, "cm", {
          metadata: { name: "cm" },
          data: produced(() => {
            throw new Error("no data yet");
          }) as never,
        }),
    ],
    ["a construct as a value", (s: Construct) => new ConfigMapV1(s, "cm", { metadata: { name: "cm" }, data: produced(() => ({ x: s })) as never })],
    ["a list token in a scalar string", (s: Construct) => new ConfigMapV1(s, "cm", { metadata: { name: "cm" }, data: { x: Token.asList(Lazy.anyValue({ produce: () => ["a"] }))[0] } })],
    [
      "data nested deeper than cdktf allows",
      (s: Construct) => {
        let deep: Record<string, unknown> = { leaf: "x" };
        for (let i = 0; i < 210; i++) deep = { d: deep };
        return new ConfigMapV1(s, "cm", { metadata: { name: "cm" }, data: produced(() => deep) as never });
      },
    ],
  ])("fails with cdktf's own error for %s", (_name, make) => {
    const { fast, cdktf } = both((app) => void make(stack(app, "bad")));
    expect(cdktf).toHaveProperty("error");
    expect(fast).toEqual(cdktf);
  });
});
