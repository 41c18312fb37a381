/** What the key ceremonies will be asked to do, checked before any ceremony file is written: the
 *  same limits synth's ceremony rendering (scripts/ceremony/render.ts) and the ceremony linter
 *  enforce, so `lanic-ca check` and `lanic-ca synth` cannot disagree (CP/CPS 6.1, 7.1). */
import { CP_LIMITS } from "../cp-limits.js";
import type { Control, FindingInput } from "../types.js";

const ROOT_KEYS: readonly string[] = CP_LIMITS.rootKeyAlgorithms;
const SUB_KEYS: readonly string[] = CP_LIMITS.subordinateKeyAlgorithms;

export const CEREMONY_CONTROLS: Control[] = [
  {
    id: "LCA-CER-01",
    title: "Key ceremony parameters within the ceremony limits (root key, sub-CA validity and pathLen)",
    rfc3647: "6.1.1",
    references: ["BR 6.1.5", "BR 7.1.2.1.1", "BR 7.1.2.2.4", "MRSP 5.1", "RFC 5280 4.2.1.9"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "The ceremonies refuse a root key outside ECDSA P-384 / RSA 4096, a subordinate CA key outside the CP's list, an intermediate valid longer than 10 years or without pathLenConstraint 0, and a delegated OCSP responder certificate longer than a year (CP/CPS 6.1.5, 6.3.2, 7.1.2). An intermediate valid longer than its root would outlive it (RFC 5280 6.1: a path is valid only while every certificate is). Checked on the environment, so a check that passes is a synth that renders every ceremony file.",
    basis: "must",
    owner: "key-custodian",
    exceptions: "never",
    check(m) {
      const out: FindingInput[] = [];
      const path = m.components.find((c) => c.kind === "offline-root")?.path ?? m.environment.name;
      const c = m.environment.ceremonies;
      for (const ca of m.environment.cas.filter((x) => x.type === "issuing"))
        if (!SUB_KEYS.includes(ca.keyAlgorithm))
          out.push({
            key: `sub-key:${ca.name}`,
            path: m.environment.name,
            found: `issuing CA '${ca.name}' key ${ca.keyAlgorithm}`,
            required: `a subordinate CA key: ${SUB_KEYS.join(", ")} (CP/CPS 6.1.5)`,
            fix: `generate ${ca.name}'s key as one of ${SUB_KEYS.join(", ")} (issuingCas[].keyAlgorithm and its HSM key)`,
          });
      if (!c) return out;
      if (!ROOT_KEYS.includes(c.rootKeyAlgorithm))
        out.push({
          key: "root-key",
          path,
          found: `root key ${c.rootKeyAlgorithm}`,
          required: `a root key: ${ROOT_KEYS.join(", ")} (CP/CPS 6.1.5)`,
          fix: `set rootOfTrust.keyAlgorithm to ${ROOT_KEYS.join(" or ")} before the root key ceremony`,
        });
      for (const i of c.intermediates) {
        if (i.validityDays > CP_LIMITS.subordinateMaxValidityDays)
          out.push({
            key: `validity:${i.ca}`,
            path,
            found: `intermediate for ${i.ca} valid ${i.validityDays} days`,
            required: `≤ ${CP_LIMITS.subordinateMaxValidityDays} days (CP/CPS 6.3.2)`,
            fix: `set rootOfTrust.intermediateValidityDays ≤ ${CP_LIMITS.subordinateMaxValidityDays}`,
          });
        if (i.validityDays >= c.rootValidityDays)
          out.push({
            key: `outlives-root:${i.ca}`,
            path,
            found: `intermediate for ${i.ca} valid ${i.validityDays} days, the root ${c.rootValidityDays} days: it would outlive its root`,
            required: "an intermediate valid shorter than its root (RFC 5280 6.1; the ceremony linter refuses a notAfter after the issuer's)",
            fix: `set rootOfTrust.intermediateValidityDays below ${c.rootValidityDays} (and below the root's remaining validity at each signing)`,
          });
        if (i.pathLen !== CP_LIMITS.issuingCaPathLength)
          out.push({
            key: `pathlen:${i.ca}`,
            path,
            found: `intermediate for ${i.ca} has ${i.pathLen === undefined ? "no pathLenConstraint" : `pathLenConstraint ${i.pathLen}`}`,
            required: `pathLenConstraint ${CP_LIMITS.issuingCaPathLength}: an issuing CA certifies end entities only (CP/CPS 7.1.2, BR 7.1.2.10.4)`,
            fix: "render the intermediate with the OfflineRootEnclave (it sets pathLen 0)",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-OCSP-02",
    title: "OCSP signing keys are of an algorithm the OCSP-signing profile allows",
    rfc3647: "6.1.5",
    references: ["BR 6.1.5", "BR 7.1.2.8", "RFC 6960 4.2.2.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "A delegated OCSP responder's certificate is issued under the CA's ocsp-signing profile (RFC 6960 4.2.2.2, BR 7.1.2.8): its key must be one that profile allows, or the CA refuses to certify it and OCSP stops when the responder certificate is due. An OCSP-enabled CA must issue that profile at all.",
    basis: "must",
    owner: "va-operator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const ca of m.environment.cas.filter((x) => x.type === "issuing" && x.ocsp)) {
        const profile = ca.profiles.find((p) => p.kind === "ocsp-signing");
        const keys = m.keys.filter((k) => k.purpose === "ocsp-signing" && k.ca === ca.name);
        const hsmPath = m.hsms.find((h) => h.type !== "offline")?.path ?? m.environment.name;
        if (!profile) {
          out.push({
            key: `profile:${ca.name}`,
            path: m.environment.name,
            found: `CA '${ca.name}' answers OCSP but issues no ocsp-signing profile`,
            required: "the ocsp-signing profile among the CA's profiles",
            fix: `add 'ocsp-signing' to issuingCas[${ca.name}].profiles`,
          });
          continue;
        }
        const allowed = profile.allowedKeyAlgorithms;
        if (!allowed) continue;
        for (const k of keys)
          if (!allowed.includes(k.algorithm))
            out.push({
              key: `key:${k.label}`,
              path: hsmPath,
              found: `OCSP signing key '${k.label}' of '${ca.name}' is ${k.algorithm}; profile '${profile.name}' allows ${allowed.join(", ")}`,
              required: "the responder key of an algorithm its certificate profile allows",
              fix: `generate '${k.label}' as one of ${allowed.join(", ")} (hsm.partitions[].keys[].algorithm)`,
            });
      }
      return out;
    },
  },
];
