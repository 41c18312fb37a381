/**
 * The policy side of a review: exceptions (policy/exceptions/<env>.yaml) and the controls a
 * policy report lists (cdktf.out/policy/<env>.json). policy/ owns both formats (ADR 0030, 0033);
 * this reader is tolerant of field names, and says so in a note when it finds nothing to read.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

export interface ExceptionFact {
  control: string;
  finding: string;
  expires: string | null;
  reason?: string;
  approvedBy?: string;
  ticket?: string;
}

export interface ControlFact {
  id: string;
  /** false when the report says the control is disabled / off / skipped. */
  enabled: boolean;
  severity?: string;
}

export interface PolicySnapshot {
  /** null: no exceptions file was found (as opposed to an empty one). */
  exceptions: ExceptionFact[] | null;
  /** null: no policy report was found. */
  controls: ControlFact[] | null;
  sources: string[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : v instanceof Date ? v.toISOString().slice(0, 10) : typeof v === "number" ? String(v) : undefined);

export function normaliseExceptions(raw: unknown): ExceptionFact[] {
  const list = Array.isArray(raw) ? raw : raw && typeof raw === "object" && Array.isArray((raw as { exceptions?: unknown }).exceptions) ? (raw as { exceptions: unknown[] }).exceptions : [];
  return list
    .filter((x): x is Record<string, unknown> => !!x && typeof x === "object")
    .map((x) => ({
      control: str(x.control) ?? str(x.controlId) ?? str(x.id) ?? "(unknown control)",
      finding: str(x.finding) ?? str(x.findingId) ?? str(x.path) ?? str(x.target) ?? "*",
      expires: str(x.expires) ?? str(x.expiry) ?? str(x.expiresOn) ?? str(x.until) ?? null,
      reason: str(x.reason),
      approvedBy: str(x.approvedBy) ?? str(x.approved_by),
      ticket: str(x.ticket),
    }));
}

export function normaliseControls(raw: unknown): ControlFact[] | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  const list = Array.isArray(r.controls) ? r.controls : Array.isArray(r.results) ? r.results : null;
  if (!list) return null;
  const out: ControlFact[] = [];
  for (const c of list) {
    if (!c || typeof c !== "object") continue;
    const x = c as Record<string, unknown>;
    const id = str(x.id) ?? str(x.controlId) ?? str(x.control);
    if (!id) continue;
    const status = (str(x.status) ?? "").toLowerCase();
    const enabled = !(x.enabled === false || ["disabled", "off", "skipped", "not-applicable"].includes(status));
    out.push({ id, enabled, severity: str(x.severity) });
  }
  return out;
}

/** Reads the policy facts of one environment: the report under `outdir`, the exceptions file
 *  under `repoRoot` (when known). */
export function readPolicySnapshot(env: string, outdir: string, repoRoot: string | null): PolicySnapshot {
  const snap: PolicySnapshot = { exceptions: null, controls: null, sources: [] };
  const report = join(outdir, "policy", `${env}.json`);
  if (existsSync(report)) {
    try {
      const raw = JSON.parse(readFileSync(report, "utf8")) as Record<string, unknown>;
      snap.controls = normaliseControls(raw);
      if (Array.isArray(raw.exceptions)) snap.exceptions = normaliseExceptions(raw.exceptions);
      snap.sources.push(report);
    } catch {
      /* unreadable report: treated as absent (a note says so) */
    }
  }
  if (snap.exceptions === null && repoRoot) {
    for (const ext of ["yaml", "yml"]) {
      const file = join(repoRoot, "policy", "exceptions", `${env}.${ext}`);
      if (existsSync(file)) {
        snap.exceptions = normaliseExceptions(parseYaml(readFileSync(file, "utf8")));
        snap.sources.push(file);
        break;
      }
    }
  }
  return snap;
}
