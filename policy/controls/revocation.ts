/** CRL and OCSP controls (BR 4.9.7, 4.9.9, 7.2). */
import { CP_LIMITS } from "../cp-limits.js";
import type { Control, FindingInput } from "../types.js";

export const REVOCATION_CONTROLS: Control[] = [
  {
    id: "LCA-CRL-01",
    title: "Every issuing CA publishes CRLs at least every 7 days, nextUpdate ≤ 10 days",
    rfc3647: "4.9.7",
    references: ["BR 4.9.7", "BR 7.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "CRLs are the mandatory revocation channel: each issuing CA needs a CRL publisher that signs in the HSM, runs at least every 7 days (4 without OCSP) and never lets its CRL expire.",
    basis: "must",
    owner: "ia-operator",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing")) {
        const publisher = m.components.find((c) => c.kind === "crl-publisher" && c.ca === ca.name && !c.standby);
        const schedule = m.schedules.find((s) => s.kind === "crl" && s.ca === ca.name);
        if (!publisher || !schedule) {
          out.push({
            key: `ca:${ca.name}`,
            path: publisher?.path ?? m.environment.name,
            found: `CA '${ca.name}' has ${publisher ? "no CRL schedule" : "no active CRL publisher"}`,
            required: "an active CRL publisher per issuing CA (BR 4.9.7)",
            fix: "create a CrlPublisher for the CA (constructs/issuing-ca.ts)",
          });
          continue;
        }
        if (!m.grants.some((g) => g.kind === "hsm-sign" && g.grantee === publisher.id))
          out.push({
            key: `grant:${ca.name}`,
            path: publisher.path,
            found: `CRL publisher of '${ca.name}' cannot sign (no HSM grant)`,
            required: "the CRL publisher signs with the CA key in the HSM",
            fix: "grant the CA key to the publisher (partition.grantSign)",
          });
        const maxInterval = ca.ocsp ? CP_LIMITS.crlIntervalHours.withOcsp : CP_LIMITS.crlIntervalHours.withoutOcsp;
        if (schedule.intervalHours > maxInterval)
          out.push({
            key: `interval:${ca.name}`,
            path: schedule.path,
            found: `CRL of '${ca.name}' published every ${schedule.intervalHours} h`,
            required: `at least every ${maxInterval} h (BR 4.9.7${ca.ocsp ? "" : ", no AIA OCSP pointer"})`,
            fix: `set issuingCas[${ca.name}].crl.intervalHours ≤ ${maxInterval}`,
          });
        const next = schedule.validityHours ?? Infinity;
        if (next > CP_LIMITS.crlNextUpdateMaxHours)
          out.push({
            key: `next-update:${ca.name}`,
            path: schedule.path,
            found: `CRL of '${ca.name}' nextUpdate ${next} h after thisUpdate`,
            required: `≤ ${CP_LIMITS.crlNextUpdateMaxHours} h (BR 7.2)`,
            fix: `set issuingCas[${ca.name}].crl.nextUpdateHours ≤ 240`,
          });
        else if (next <= schedule.intervalHours)
          out.push({
            key: `gap:${ca.name}`,
            path: schedule.path,
            found: `CRL of '${ca.name}' expires (${next} h) before the next one is published (${schedule.intervalHours} h)`,
            required: "nextUpdate longer than the publication interval",
            fix: `publish more often (issuingCas[${ca.name}].crl.intervalHours below nextUpdateHours), keeping nextUpdate ≤ ${CP_LIMITS.crlNextUpdateMaxHours} h`,
          });
      }
      return out;
    },
  },
  {
    id: "LCA-CRL-02",
    title: "CRL of CA certificates at most 12 months",
    rfc3647: "4.9.7",
    references: ["BR 4.9.7", "BR 7.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rootOfTrust: ["offline"],
    rationale: "The root publishes a CRL of the CA certificates it issued at least every 12 months, with nextUpdate at most 12 months ahead (BR 4.9.7, 7.2).",
    basis: "must",
    owner: "key-custodian",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const root of m.environment.cas.filter((c) => c.type === "root")) {
        const s = m.schedules.find((x) => x.kind === "ca-crl" && x.ca === root.name);
        const days = s?.validityHours !== undefined ? s.validityHours / 24 : undefined;
        if (!s || days === undefined || days > CP_LIMITS.caCrlMaxDays)
          out.push({
            key: `ca:${root.name}`,
            path: s?.path ?? m.environment.name,
            found: s ? `root CRL nextUpdate ${days} days` : `no CA CRL schedule for '${root.name}'`,
            required: `≤ ${CP_LIMITS.caCrlMaxDays} days (BR 4.9.7)`,
            fix: "set rootOfTrust.caCrlNextUpdateDays ≤ 365",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-OCSP-01",
    title: "OCSP response validity 8 h – 10 days, refreshed before half of it",
    rfc3647: "4.9.10",
    references: ["BR 4.9.9", "BR 4.9.10"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Responses valid 8 h to 10 days (BR 4.9.9); re-signed before half their validity (our CP) and no later than 4 days after thisUpdate (BR 4.9.9), by a signer with its own delegated key.",
    basis: "must",
    owner: "va-operator",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const ca of m.environment.cas.filter((c) => c.type === "issuing" && c.ocsp)) {
        const s = m.schedules.find((x) => x.kind === "ocsp" && x.ca === ca.name);
        const signer = m.components.find((c) => c.kind === "ocsp-signer" && c.ca === ca.name && !c.standby);
        if (!s || !signer) {
          out.push({
            key: `ca:${ca.name}`,
            path: signer?.path ?? m.environment.name,
            found: `OCSP is on for '${ca.name}' but there is no active OCSP signer`,
            required: "an OCSP signer per CA with OCSP on",
            fix: "create the CA's OCSP signer (constructs/issuing-ca.ts)",
          });
          continue;
        }
        const v = s.validityHours ?? 0;
        const { min, max } = CP_LIMITS.ocspValidityHours;
        if (v < min || v > max)
          out.push({
            key: `validity:${ca.name}`,
            path: s.path,
            found: `OCSP responses of '${ca.name}' valid ${v} h`,
            required: `${min} h ≤ validity ≤ ${max} h (BR 4.9.9)`,
            fix: `set issuingCas[${ca.name}].ocsp.responseValidityHours within ${min}..${max}`,
          });
        const maxRefresh = Math.min(v / 2, CP_LIMITS.ocspRefreshMaxHours);
        if (s.intervalHours > maxRefresh)
          out.push({
            key: `refresh:${ca.name}`,
            path: s.path,
            found: `OCSP responses of '${ca.name}' re-signed every ${s.intervalHours} h (validity ${v} h)`,
            required: `refresh ≤ ${maxRefresh} h (half the validity, ≤ 4 days; BR 4.9.9)`,
            fix: `set issuingCas[${ca.name}].ocsp.refreshHours ≤ ${maxRefresh}`,
          });
        if (!m.components.some((c) => c.kind === "ocsp-responder" && c.site === signer.site))
          out.push({
            key: `responder:${signer.site}`,
            path: signer.path,
            found: `no OCSP responder at site '${signer.site}'`,
            required: "a responder serving the pre-signed responses",
            fix: "add the ValidationAuthority to the site",
          });
      }
      return out;
    },
  },
];
