/**
 * Loads and validates environment definitions. An invalid definition fails with every problem
 * listed, each naming the file, the field path and what is allowed.
 */
import type { z } from "zod";
import { Environment, referenceProblems } from "./schema.js";

export class EnvironmentError extends Error {
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${source}: invalid environment definition (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  - ${source}: ${p.path}: ${p.message}`).join("\n"));
    this.name = "EnvironmentError";
  }
}

/** Renders a zod path as `issuingCas[0].crl.intervalHours`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/**
 * The problems of a failed strict parse, each with its field path and what is allowed (and what
 * was found, for a scalar). Shared by the environment loader and the ceremony files.
 * `discriminator`: what to say when a discriminated union's tag is not one of the allowed.
 */
export function zodProblems(error: z.ZodError, raw: unknown, discriminator?: string): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    const path = issue.code === "unrecognized_keys" && issue.keys.length === 1 ? [...issue.path, issue.keys[0]] : issue.path;
    const found = valueAt(raw, issue.path);
    const got = issue.code !== "unrecognized_keys" && found !== undefined && typeof found !== "object" ? ` (got ${JSON.stringify(found)})` : "";
    return { path: formatPath(path), message: describeIssue(issue, discriminator) + got };
  });
}

function describeIssue(issue: z.core.$ZodIssue, discriminator?: string): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")} (not allowed here)`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      if (discriminator && (issue as { note?: string }).note === "No matching discriminator") return discriminator;
      return issue.message;
    default:
      return issue.message;
  }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Validates `raw` as an environment definition read from `source` (a file path for errors). */
export function parseEnvironment(raw: unknown, source: string): Environment {
  const result = Environment.safeParse(raw);
  if (!result.success) throw new EnvironmentError(source, zodProblems(result.error, raw));
  const refs = referenceProblems(result.data);
  if (refs.length > 0)
    throw new EnvironmentError(
      source,
      refs.map((r) => ({ path: formatPath(r.path), message: r.message })),
    );
  return result.data;
}
