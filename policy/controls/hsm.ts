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
          out.push({
            key: `hsm:${h.name}`,
            path: h.path,
            found: `HSM '${h.name}' (${h.vendor} ${h.model}) holding ${holds.map((k) => k.label).join(", ") || "the root key"}: ${describe(h.certification)}`,
            required: "FIPS 140-2 L3, FIPS 140-3 L3 or Common Criteria EAL4+ (BR 6.2.7)",
            fix: "use a certified HSM and record its certificate in environments/<env>.ts",
          });
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
        .map((h) => ({
          key: `hsm:${h.name}`,
          path: h.path,
          found: `HSM '${h.name}' is ${h.type === "softhsm" ? "SoftHSM (software token)" : "uncertified"} in tier ${m.environment.tier}`,
          required: "network or offline HSM appliances outside dev",
          fix: "replace the software token with certified HSM appliances (hsm.type 'network', their members and their certification)",
        }));
    },
  },
  {
    id: "LCA-HSM-03",
    title: "A partition holding a CA key is unlocked by that CA's signers only",
    rfc3647: "6.2.2",
    references: ["BR 6.2.2", "NCSSR 1.2.2", "BR 6.2.7"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale:
      "A PIN unlocks a whole partition: a workload granted one key of a partition can use every key in it. So grants are judged per partition: a partition holding a CA key holds no other CA's key, and only that CA's signers that use the CA key (issuing CA service, CRL publisher) get its PIN; no two partitions share a token label or a PIN Secret (least privilege, NCSSR 1.2.2; multi-person control of CA keys, BR 6.2.2).",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const comp = new Map(m.components.map((c) => [c.id, c]));
      for (const h of m.hsms.filter((h) => h.type !== "offline")) {
        const keys = m.keys.filter((k) => k.location.type === "hsm-partition" && k.location.hsm === h.name);
        for (const p of h.partitions) {
          const caKeys = keys.filter((k) => k.location.type === "hsm-partition" && k.location.partition === p.name && k.purpose === "issuing-ca");
          if (caKeys.length === 0) continue;
          const cas = [...new Set(caKeys.map((k) => k.ca))];
          if (cas.length > 1)
            out.push({
              key: `partition:${p.name}:cas`,
              path: h.path,
              found: `partition '${p.name}' holds the CA keys of ${cas.join(" and ")}: each CA's signers get the PIN of the other's key`,
              required: "one partition (one PIN) per CA key",
              fix: `give each CA key its own partition and PIN Secret (hsm.partitions), e.g. move '${caKeys[1].label}' to a new partition`,
            });
          const grants = m.grants.filter((g) => g.kind === "hsm-sign" && g.resource === `partition/${p.name}`);
          for (const g of grants) {
            const c = comp.get(g.grantee);
            const caKey = caKeys.find((k) => k.label === g.key);
            if (caKey && c && (c.kind === "issuing-ca" || c.kind === "crl-publisher") && c.ca === caKey.ca && cas.length === 1) continue;
            if (caKey && cas.length > 1) continue; // reported once above
            out.push({
              key: `grant:${p.name}:${g.grantee}`,
              path: g.path,
              found: `${g.grantee} (${c?.kind ?? "unknown"}) is granted '${g.key}' in partition '${p.name}', so it holds the PIN that unlocks CA key ${caKeys.map((k) => `'${k.label}'`).join(", ")}`,
              required: "the PIN of a CA-key partition only for that CA's issuing CA service and CRL publisher",
              fix: `move '${g.key}' to a partition of its own (hsm.partitions, with its own PIN Secret) and point the ${c?.kind ?? "workload"} at it`,
            });
          }
        }
        const dup = <T>(xs: T[]) => xs.filter((x, i) => xs.indexOf(x) !== i);
        for (const secret of new Set(dup(h.partitions.map((p) => p.pinSecret).filter((x): x is string => !!x))))
          out.push({
            key: `pin-secret:${h.name}:${secret}`,
            path: h.path,
            found: `partitions ${h.partitions
              .filter((p) => p.pinSecret === secret)
              .map((p) => `'${p.name}'`)
              .join(", ")} of HSM '${h.name}' share the PIN Secret '${secret}'`,
            required: "one PIN Secret per partition",
            fix: "give each partition its own PIN (and its own pinSecret)",
          });
        for (const label of new Set(dup(h.partitions.map((p) => p.tokenLabel))))
          out.push({
            key: `token:${h.name}:${label}`,
            path: h.path,
            found: `partitions ${h.partitions
              .filter((p) => p.tokenLabel === label)
              .map((p) => `'${p.name}'`)
              .join(", ")} of HSM '${h.name}' are the same token '${label}'`,
            required: "one token per partition",
            fix: "give each partition its own token (tokenLabel) on the HSM",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-HSM-04",
    title: "Every HSM grant reaches an HSM member at the grantee's site",
    rfc3647: "6.2.1",
    references: ["BR 5.7.1.1", "BR 6.2.7"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "A signing workload granted a key must reach an appliance holding it at its own site (the PKCS#11 client talks to the site's members over NTLS); a site without a member — a backup site whose HSM was left out — cannot sign at failover (BR 5.7.1.1 (11)).",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const comp = new Map(m.components.map((c) => [c.id, c]));
      for (const h of m.hsms.filter((h) => h.type === "network")) {
        for (const g of m.grants.filter((g) => g.kind === "hsm-sign" && g.resource.startsWith("partition/") && h.partitions.some((p) => `partition/${p.name}` === g.resource))) {
          const site = comp.get(g.grantee)?.site ?? g.grantee.split("/")[0];
          if (!h.members.some((x) => x.site === site))
            out.push({
              key: `grant:${g.grantee}:${g.key}`,
              path: g.path,
              found: `${g.grantee} is granted '${g.key}' but HSM '${h.name}' has no member at site '${site}'`,
              required: "an HSM member at every site where a workload signs",
              fix: `add an hsm.members entry at site '${site}' (the appliance that holds the replicated partitions there)`,
            });
        }
      }
      return out;
    },
  },
];
