/**
 * Two changes to how cdktf resolves tokens when a stack is synthesized, both output-neutral
 * (ADR 0032; test/topology/fast-tokens.test.ts compares them with cdktf's own on every stack):
 *
 * 1. cdktf records a full JavaScript stack trace in every token it creates (each generated
 *    resource builds several output-reference tokens), only to decorate resolution errors. With
 *    ~1,300 resources that was ≈ 1.3 s of 3.3 s of `lanic-ca synth`. Tokens get an empty
 *    creation stack instead.
 * 2. A stack's Terraform JSON is resolved three times by cdktf (a "preparing" pass that finds
 *    cross-stack references, each element's fragment, then the merged document), and cdktf's
 *    resolver builds two context objects with closures for every key and value it visits, token
 *    or not. Almost all of our JSON is plain data. `fastResolve` walks the same tree, copies plain
 *    values exactly as cdktf would (undefined dropped from objects and arrays, everything else
 *    kept), and hands every value that is or may hold a token — a string with a token marker or
 *    a number-like run, a number in the encoded-token range, an object with `resolve()`, a map
 *    token, a list token, a construct, a function, anything deeper than cdktf's limit — to
 *    cdktf's own resolver with the same scope, flag and key path. Token semantics (references,
 *    cross-stack references, Lazy values, escapes, errors and their paths) are cdktf's.
 *
 * Both patch modules of cdktf reached by path (the package has no "exports" map). If a
 * cdktf/cdktn upgrade moves them, synth still works, only slower, and the equivalence test fails
 * loudly rather than silently.
 */
import { createRequire } from "node:module";
import { TerraformElement, TerraformStack } from "../constructs/cdktf.js";
import type { Construct } from "constructs";

const require = createRequire(import.meta.url);

try {
  const stackTrace = require("cdktf/lib/tokens/private/stack-trace.js") as { captureStackTrace: () => string[] };
  stackTrace.captureStackTrace = () => [];
} catch {
  // Module moved in another cdktf version: keep cdktf's behaviour.
}

type Resolve = (scope: unknown, obj: unknown, preparing?: boolean) => unknown;
interface ResolveContext {
  preparing: boolean;
  scope: unknown;
  suppressBraces?: boolean;
  ignoreEscapes?: boolean;
  warnEscapes?: boolean;
  iteratorContext?: unknown;
  registerPostProcessor(pp: { postProcess(x: unknown, c: ResolveContext): unknown }): void;
  resolve(x: unknown): unknown;
}
interface ResolveOptions {
  scope: unknown;
  preparing: boolean;
  resolver: unknown;
  prefix: string[];
  previousContext?: ResolveContext;
}
interface Resolvable {
  resolve(context: ResolveContext): unknown;
  creationStack?: string[];
}

/** cdktf's stack-level resolve (`cdktf/lib/_tokens.js`), kept for delegation and comparison. */
let cdktfResolve: Resolve | undefined;
let inner: ((obj: unknown, options: ResolveOptions) => unknown) | undefined;
let resolver: unknown;
let tokensModule: { resolve: Resolve } | undefined;
try {
  tokensModule = require("cdktf/lib/_tokens.js") as { resolve: Resolve };
  inner = (require("cdktf/lib/tokens/private/resolve.js") as { resolve: typeof inner }).resolve;
  const { DefaultTokenResolver, StringConcat } = require("cdktf/lib/tokens/resolvable.js") as {
    DefaultTokenResolver: new (c: unknown) => unknown;
    StringConcat: new () => unknown;
  };
  resolver = new DefaultTokenResolver(new StringConcat());
  cdktfResolve = tokensModule.resolve;
} catch {
  tokensModule = undefined;
}

/** Every string, list and map token marker contains this (`${TfToken[`, `#{TfToken[`, `&{TfToken[`). */
const TOKEN_MARK = "TfToken[";
/** cdktf's NUMBER_TOKEN_REGEX (concatenated number tokens), without the global flag. */
const NUMBER_RUN = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/;
/** Values cdktf rejects in scalar context (Token.STRING_MAP_TOKEN_VALUE, ANY_MAP_TOKEN_VALUE, NUMBER_MAP_TOKEN_VALUE). */
const MAP_TOKEN_STRINGS = new Set(["String Map Token Value", "Any Map Token Value"]);
const NUMBER_MAP_TOKEN_VALUE = -123456789;
/** Encoded token numbers have all of the top exponent bits but one set: |x| ≈ 1.9e289. */
const TOKEN_NUMBER_MAGNITUDE = 1e200;
/** cdktf refuses to resolve deeper than this (circular reference guard). */
const MAX_DEPTH = 200;

const maybeTokenString = (s: string) => s.includes(TOKEN_MARK) || MAP_TOKEN_STRINGS.has(s) || NUMBER_RUN.test(s);
const maybeTokenNumber = (n: number) => n === NUMBER_MAP_TOKEN_VALUE || Math.abs(n) >= TOKEN_NUMBER_MAGNITUDE;

/**
 * cdktf's stack-level `resolve(scope, obj, preparing)` with a fast path for plain data; the same
 * result as cdktf's for every input (see the file header).
 */
export function fastResolve(scope: unknown, obj: unknown, preparing = false): unknown {
  if (!inner) return cdktfResolve!(scope, obj, preparing);
  if (sharing && !preparing && obj !== null && typeof obj === "object") {
    const hit = sharing.get(obj);
    if (hit && hit.scope === scope) return hit.value;
  }
  const value = resolveWalk(scope, obj, preparing);
  if (sharing && preparing && obj !== null && typeof obj === "object") sharing.set(obj, { scope, value });
  return value;
}

/** Results of the preparing pass, by fragment, while `shareFragments` runs. */
let sharing: WeakMap<object, { scope: unknown; value: unknown }> | undefined;

/**
 * Runs `fn` (a stack's `prepareStack()` then `toTerraform()`, back to back) with each of the
 * stack's elements building its fragment once (`TerraformElement.toTerraform()`, the provider's
 * attribute conversion) and the fragment resolved once: cdktf resolves it in the preparing pass
 * and again in `toTerraform()`, with the same result — `preparing` only makes a cross-stack
 * reference register itself, and it then resolves to the same identifier in both passes.
 * Elements added meanwhile (cross-stack outputs, remote state) build and resolve their own.
 */
export function shareFragments<T>(stack: Construct, fn: () => T): T {
  const elements: TerraformElement[] = [];
  const visit = (c: Construct) => {
    if (TerraformElement.isTerraformElement(c)) elements.push(c);
    for (const child of c.node.children) if (!TerraformStack.isStack(child)) visit(child);
  };
  visit(stack);
  for (const e of elements) {
    const build = Object.getPrototypeOf(e).toTerraform as () => unknown;
    let fragment: unknown;
    Object.defineProperty(e, "toTerraform", { configurable: true, writable: true, value: () => (fragment ??= build.call(e)) });
  }
  const outer = sharing;
  sharing = new WeakMap();
  try {
    return fn();
  } finally {
    sharing = outer;
    for (const e of elements) delete (e as { toTerraform?: unknown }).toTerraform;
  }
}

function resolveWalk(scope: unknown, obj: unknown, preparing: boolean): unknown {
  const path: string[] = [];
  /** cdktf's resolver from here on, as cdktf would call it at this point of the walk. */
  const delegate = (x: unknown, previousContext: ResolveContext | undefined) => inner!(x, { scope, preparing, resolver, prefix: path.slice(), previousContext });
  const walk = (x: unknown, ctx: ResolveContext | undefined): unknown => {
    if (path.length > MAX_DEPTH) return delegate(x, ctx);
    switch (typeof x) {
      case "undefined":
        return undefined;
      case "string":
        return maybeTokenString(x) ? delegate(x, ctx) : x;
      case "number":
        return maybeTokenNumber(x) ? delegate(x, ctx) : x;
      case "function":
        return delegate(x, ctx);
      case "object":
        break;
      default:
        return x; // boolean, bigint, symbol: as is
    }
    if (x === null || x instanceof Date) return x;
    if (Array.isArray(x)) {
      for (const e of x) if ((typeof e === "string" && e.includes(TOKEN_MARK)) || (typeof e === "number" && maybeTokenNumber(e))) return delegate(x, ctx);
      const out: unknown[] = [];
      for (let i = 0; i < x.length; i++) {
        path.push(String(i));
        const v = walk(x[i], ctx);
        path.pop();
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    for (const k of keys) if (maybeTokenString(k)) return delegate(x, ctx);
    if (typeof o.resolve === "function") return resolveToken(o as unknown as Resolvable, ctx);
    if (o._children !== undefined && o._metadata !== undefined) return delegate(x, ctx);
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      path.push(k);
      const v = walk(o[k], ctx);
      path.pop();
      if (v !== undefined) out[k] = v;
    }
    return out;
  };
  /**
   * cdktf's DefaultTokenResolver.resolveToken for a token object met in the walk: the context
   * cdktf's resolver would make here, the token's own resolve(), then its value walked in turn
   * (cdktf: `context.resolve(value)`), the post-processor, and cdktf's error decoration.
   */
  const resolveToken = (t: Resolvable, previous: ResolveContext | undefined): unknown => {
    let postProcessor: { postProcess(x: unknown, c: ResolveContext): unknown } | undefined;
    const prefix = path.slice();
    const context: ResolveContext = {
      preparing,
      scope,
      suppressBraces: previous?.suppressBraces,
      ignoreEscapes: previous?.ignoreEscapes,
      warnEscapes: previous?.warnEscapes,
      iteratorContext: previous?.iteratorContext,
      registerPostProcessor(pp) {
        postProcessor = pp;
      },
      resolve(x) {
        return inner!(x, { scope, preparing, resolver, prefix, previousContext: context });
      },
    };
    try {
      const value = walk(t.resolve(context), context);
      return postProcessor ? postProcessor.postProcess(value, context) : value;
    } catch (e) {
      const err = e as Error;
      let message = `Resolution error: ${err.message}.`;
      if (t.creationStack && t.creationStack.length > 0) message += `\nObject creation stack:\n  at ${t.creationStack.join("\n  at ")}`;
      err.message = message;
      throw err;
    }
  };
  return walk(obj, undefined);
}

/** Turns the fast path on (the default) or off (cdktf's resolver only; for comparisons). */
export function useFastResolve(on: boolean): void {
  if (tokensModule && cdktfResolve) tokensModule.resolve = on ? fastResolve : cdktfResolve;
}

/** Whether cdktf currently resolves stacks through `fastResolve`. */
export function fastResolveActive(): boolean {
  return !!tokensModule && tokensModule.resolve === fastResolve;
}

useFastResolve(true);
