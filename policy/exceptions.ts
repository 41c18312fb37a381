/**
 * Per-environment policy exceptions: `policy/exceptions/<env>.yaml`, parsed strictly.
 *
 *   exceptions:
 *     - control: LCA-NET-03
 *       finding: "LCA-NET-03:edge:lanic/ra->lanic/lanic-ca-db:5432"   # finding id or construct path
 *       reason: "≥ 20 characters: why the deviation is acceptable for now"
 *       approvedBy: security-officer                                  # a trusted role
 *       ticket: LANIC-CA-42
 *       expires: 2027-05-01                                           # ≤ 180 days ahead
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { z } from "zod";
import { TrustedRole } from "../environments/schema.js";
import { CP_LIMITS } from "./cp-limits.js";
const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml"); // CommonJS: require (ADR 0053)

export const PolicyException = z.strictObject({
  control: z.string().regex(/^LCA-[A-Z]+-\d{2}$/, "a control id, e.g. LCA-NET-03"),
  /** A finding id (`<control>:<key>`) or the construct path of the findings it covers. */
  finding: z.string().min(1),
  reason: z.string().trim().min(CP_LIMITS.exceptionMinReason, `at least ${CP_LIMITS.exceptionMinReason} characters`),
  approvedBy: TrustedRole,
  ticket: z.string().regex(/^[A-Z][A-Z0-9]*-\d+$|^#\d+$/, "a ticket reference, e.g. LANIC-CA-42 or #4"),
  expires: z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"), z.date().transform((d) => d.toISOString().slice(0, 10))]),
});
export type PolicyException = z.infer<typeof PolicyException>;

export const ExceptionsFile = z.strictObject({ exceptions: z.array(PolicyException).default([]) });

export class ExceptionsError extends Error {
  override name = "ExceptionsError";
}

/** Parses an exceptions file's text; errors name the file and field. */
export function parseExceptions(text: string, source: string): PolicyException[] {
  const raw = text.trim() === "" ? { exceptions: [] } : parse(text);
  const r = ExceptionsFile.safeParse(raw ?? { exceptions: [] });
  if (!r.success)
    throw new ExceptionsError(`${source}: invalid exceptions file:\n` + r.error.issues.map((i) => `  - ${source}: ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n"));
  return r.data.exceptions;
}

/** `<dir>/<env>.yaml`, or none. */
export function loadExceptions(env: string, dir = join(process.cwd(), "policy", "exceptions")): { exceptions: PolicyException[]; source: string } {
  const source = join(dir, `${env}.yaml`);
  if (!existsSync(source)) return { exceptions: [], source };
  return { exceptions: parseExceptions(readFileSync(source, "utf8"), source), source };
}
