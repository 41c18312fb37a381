/**
 * Passing and violating fixtures of the controls that keep keys, PINs, clusters, tiers and
 * networks apart (docs/policy.md): each is a realistic mistake an auditor would try on a copy of
 * a shipped environment.
 */
import { resourceAt, type Case } from "./fixtures.js";

export const ISOLATION_CASES: Case[] = [
  // The root's token pointed at the online network HSM's partition.
  {
    id: "LCA-KEY-05", pass: "production",
    env: (d) => { d.rootOfTrust.hsm.tokenLabel = "lanic-ca-issuing"; },
    finding: "LCA-KEY-05:token:online:issuing", found: "the root token label 'lanic-ca-issuing' is also online partition 'issuing' of HSM 'online'",
  },
  // The pilot as it was shipped: the OCSP signer's key in the CA key's partition.
  {
    id: "LCA-HSM-03", pass: "pilot",
    env: (d) => {
      d.hsm.partitions = [{ ...d.hsm.partitions[0], keys: [...d.hsm.partitions[0].keys, ...d.hsm.partitions[1].keys] }];
      d.issuingCas[0].ocsp.partition = "issuing";
    },
    finding: "LCA-HSM-03:grant:issuing:lanic/ocsp-signer-lao-gov-pilot-ca-1",
    found: "lanic/ocsp-signer-lao-gov-pilot-ca-1 (ocsp-signer) is granted 'lao-gov-pilot-ca-1-ocsp' in partition 'issuing', so it holds the PIN that unlocks CA key 'lao-gov-pilot-ca-1'",
  },
  // A backup site whose HSM appliance was left out: a finding, not a stack trace.
  {
    id: "LCA-HSM-04", pass: "production",
    env: (d) => { d.hsm.members = d.hsm.members.filter((m: { site: string }) => m.site !== "backup"); },
    finding: "LCA-HSM-04:grant:backup/issuing-ca-lao-gov-tls-ca-1:lao-gov-tls-ca-1-2026",
    found: "backup/issuing-ca-lao-gov-tls-ca-1 is granted 'lao-gov-tls-ca-1-2026' but HSM 'online' has no member at site 'backup'",
  },
  // No audit log inspector appointed: nobody reviews the IA and RA logs.
  {
    id: "LCA-SOD-02", pass: "production",
    env: (d) => { delete d.roles["audit-log-inspector"]; },
    finding: "LCA-SOD-02:role:audit-log-inspector", found: "no group holds the audit-log-inspector role",
  },
  // Pod Security lowered on the RA's namespace by hand.
  {
    id: "LCA-WKL-04", pass: "production",
    model: (b) => { resourceAt(b, "production/production-lanic/zone-ra/namespace").metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"; },
    finding: "LCA-WKL-04:namespace:production-lanic:lanic-ca-ra", found: "namespace 'lanic-ca-ra' (stack production-lanic) enforces Pod Security 'privileged'",
  },
];
