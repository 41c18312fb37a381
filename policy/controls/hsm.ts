/** Cryptographic module controls (BR 6.2.7). */
import type { HsmFact } from "../../constructs/model.js";
import type { Control, FindingInput } from "../types.js";

/** FIPS 140-2 level 3, FIPS 140-3 level 3 or Common Criteria EAL4 or higher (BR 6.2.7). */
export function meetsBr627(c: HsmFact["certification"]): boolean {
  if (c.scheme === "FIPS 140-2" || c.scheme === "FIPS 140-3") return c.level >= 3;
  if (c.scheme === "Common Criteria") return Number(/^EAL(\d)/.exec(c.level)?.[1] ?? 0) >= 4;
  return false;
}
const describe = (c: HsmFact["certification"]) => (c.scheme === "none" ? "no certification (software token)" : `${c.scheme} ${c.scheme === "Common Criteria" ? c.level : `level ${c.level}`}`);

export const HSM_CONTROLS: Control[] = [
  {
    id: "LCA-HSM-01",
    title: "CA keys in a certified HSM",
    rfc3647: "6.2.1",
    references: ["BR 6.2.7", "BR 6.2.11"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale: "Every CA private key is protected by a module validated to FIPS 140-2/140-3 level 3 or Common Criteria EAL4+ (BR 6.2.7).",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const h of m.hsms) {
        const holds = m.keys.filter((k) => k.location.hsm === h.name);
        if (holds.length === 0 && h.type !== "offline") continue;
        if (!meetsBr627(h.certification))
          out.push({ key: `hsm:${h.name}`, path: h.path, found: `HSM '${h.name}' (${h.vendor} ${h.model}) holding ${holds.map((k) => k.label).join(", ") || "the root key"}: ${describe(h.certification)}`, required: "FIPS 140-2 L3, FIPS 140-3 L3 or Common Criteria EAL4+ (BR 6.2.7)", fix: "use a certified HSM and record its certificate in environments/<env>.ts" });
      }
      return out;
    },
  },
  {
    id: "LCA-HSM-02",
    title: "SoftHSM only in dev",
    rfc3647: "6.2.1",
    references: ["BR 6.2.7"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale: "A software token protects nothing against a host compromise; it is for developers' throw-away keys only.",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      return m.hsms
        .filter((h) => h.type === "softhsm" || h.certification.scheme === "none")
        .map((h) => ({ key: `hsm:${h.name}`, path: h.path, found: `HSM '${h.name}' is ${h.type === "softhsm" ? "SoftHSM (software token)" : "uncertified"} in tier ${m.environment.tier}`, required: "network or offline HSM appliances outside dev", fix: "set hsm.type 'network' with the certified appliances" }));
    },
  },
];
