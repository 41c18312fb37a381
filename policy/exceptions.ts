/**
 * Per-environment policy exceptions: `policy/exceptions/<env>.yaml`, parsed strictly.
 *
 *   exceptions:
 *     - control: LCA-WKL-03
 *       finding: "LCA-WKL-03:component:lanic/repository"   # one finding id: no wildcard, no path
 *       reason: "≥ 20 characters: why the deviation is acceptable for now"
 *       approvedBy: security-officer                        # a role the control lets approve
 *       ticket: LANIC-CA-42                                 # or "#42" (quoted: # starts a YAML comment)
 *       expires: 2027-05-01                                 # required, ≤ 180 days ahead
 *
 * Whether a control may be excepted at all, in which tiers and by which roles is the control's
 * own declaration (policy/types.ts `exceptions`), checked by policy/run.ts (LCA-EXC-01).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { TrustedRole } from "../environments/schema.js";
import { CP_LIMITS } from "./cp-limits.js";
import { parse } from "yaml";

const CONTROL_ID = /^LCA-[A-Z]+-\d{2}$/;
/** A tracker key and number (LANIC-CA-42, SEC-7) or an issue number (#42). */
export const TICKET = /^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d+$|^#\d+$/;
const required = (what: string) => (iss: { input?: unknown }) => (iss.input === undefined || iss.input === null ? `required: ${what}` : undefined);

export const PolicyException = z
  .strictObject({
    control: z.string({ error: required("a control id, e.g. LCA-NET-03") }).regex(CONTROL_ID, "a control id, e.g. LCA-NET-03"),
    /** The one finding id (`<control>:<key>`) it covers: no wildcard, so each deviation is approved on its own. */
    finding: z
      .string({ error: required("the finding id it covers, `<control>:<key>` as the report prints it") })
      .min(1)
      .refine((f) => !f.includes("*"), "one finding id, no wildcard: write one exception per finding"),
    reason: z
      .string({ error: required(`why the deviation is acceptable for now (at least ${CP_LIMITS.exceptionMinReason} characters)`) })
      .trim()
      .min(CP_LIMITS.exceptionMinReason, `at least ${CP_LIMITS.exceptionMinReason} characters`),
    approvedBy: TrustedRole,
    ticket: z
      .string({ error: (iss) => (iss.input === null ? 'empty: an unquoted #42 is a YAML comment; write ticket: "#42"' : iss.input === undefined ? 'required: a ticket reference, e.g. LANIC-CA-42 or "#42"' : undefined) })
      .regex(TICKET, 'a ticket reference, e.g. LANIC-CA-42 or "#42"'),
    expires: z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"), z.date().transform((d) => d.toISOString().slice(0, 10))], {
      error: (iss) => (iss.input === undefined || iss.input === null ? `required: the date the exception ends, YYYY-MM-DD, at most ${CP_LIMITS.exceptionMaxDays} days ahead` : "a date YYYY-MM-DD"),
    }),
  })
  .refine((e) => e.finding.startsWith(`${e.control}:`), { path: ["finding"], message: "a finding id of the exception's control: `<control>:<key>`" });
export type PolicyException = z.infer<typeof PolicyException>;

export const ExceptionsFile = z.strictObject({ exceptions: z.array(PolicyException).default([]) });

export class ExceptionsError extends Error {
  override name = "ExceptionsError";
}

/** Parses an exceptions file's text; errors name the file and field. */
export function parseExceptions(text: string, source: string): PolicyException[] {
  const raw = text.trim() === "" ? { exceptions: [] } : parse(text);
  const r = ExceptionsFile.safeParse(raw ?? { exceptions: [] });
  if (!r.success) throw new ExceptionsError(`${source}: invalid exceptions file:\n${r.error.issues.map((i) => `  - ${source}: ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n")}`);
  return r.data.exceptions;
}

/** `<dir>/<env>.yaml`, or none. */
export function loadExceptions(env: string, dir = join(process.cwd(), "policy", "exceptions")): { exceptions: PolicyException[]; source: string } {
  const source = join(dir, `${env}.yaml`);
  if (!existsSync(source)) return { exceptions: [], source };
  return { exceptions: parseExceptions(readFileSync(source, "utf8"), source), source };
}
