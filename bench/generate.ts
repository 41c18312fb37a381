/**
 * A generated environment for growth benchmarks: production's shape with `sites` sites (one
 * primary, the rest backups) and `issuingCas` issuing CAs, each with its own keys. The default
 * 10× case is 30 issuing CAs over 10 sites.
 */
import production from "../environments/production.js";
import type { EnvironmentInput } from "../environments/schema.js";

export function generateEnvironment(opts: { sites: number; issuingCas: number; name?: string }): EnvironmentInput {
  const base = structuredClone(production) as EnvironmentInput;
  const name = opts.name ?? `gen-${opts.sites}s-${opts.issuingCas}ca`;
  const sites = Array.from({ length: opts.sites }, (_, i) => ({
    ...structuredClone(base.sites[i === 0 ? 0 : 1]),
    name: i === 0 ? "lanic" : `backup-${i}`,
    role: (i === 0 ? "primary" : "backup") as "primary" | "backup",
    kubernetes: { context: `gen-${i}`, configPath: "~/.kube/config", podCidr: `10.${100 + i}.0.0/16`, server: `https://api.gen-${i}.k8s.lanic.gov.la:6443` },
  }));
  const template = base.issuingCas[0];
  const cas = Array.from({ length: opts.issuingCas }, (_, i) => ({
    ...structuredClone(template),
    name: `gen-ca-${i + 1}`,
    partition: `issuing-${i + 1}`,
    subject: { ...template.subject, CN: `Generated Issuing CA ${i + 1}` },
    keyLabel: `gen-ca-${i + 1}`,
    ocsp: { ...template.ocsp, keyLabel: `gen-ca-${i + 1}-ocsp` },
  }));
  return {
    ...base,
    name,
    sites,
    hsm: {
      ...base.hsm,
      members: sites.map((s, i) => ({ name: `hsm-${i}`, site: s.name, address: `10.20.${10 + i}.11`, port: 1792 })),
      partitions: [
        // One partition (one PIN) per CA key, as LCA-HSM-03 requires.
        ...cas.map((c, i) => ({
          name: c.partition,
          tokenLabel: `gen-issuing-${i + 1}`,
          pinSecret: `hsm-pin-issuing-${i + 1}`,
          keys: [{ label: c.keyLabel, purpose: "issuing-ca" as const, ca: c.name, algorithm: c.keyAlgorithm }],
        })),
        {
          name: "ocsp",
          tokenLabel: "gen-ocsp",
          pinSecret: "hsm-pin-ocsp",
          keys: cas.map((c) => ({ label: c.ocsp.keyLabel, purpose: "ocsp-signing" as const, ca: c.name, algorithm: "ECDSA_P256" as const })),
        },
        {
          name: "tsa",
          tokenLabel: "gen-tsa",
          pinSecret: "hsm-pin-tsa",
          keys: [{ label: "gen-tsa-1", purpose: "time-stamping" as const, ca: cas[0].name, algorithm: "RSA_3072" as const }],
        },
      ],
    },
    issuingCas: cas,
    // production's TSA, certified by the first generated CA
    ...(base.tsa ? { tsa: { ...base.tsa, ca: cas[0].name, keyLabel: "gen-tsa-1" } } : {}),
    database: {
      ...base.database,
      // Every site can become primary (lanic-ca failover): its own replication addresses.
      replicationAddresses: Object.fromEntries(sites.map((s, i) => [s.name, { ca: `10.20.${50 + i}.10`, ra: `10.20.${50 + i}.11`, tsa: `10.20.${50 + i}.12` }])),
      backup: base.database.backup && {
        ...base.database.backup,
        objectStores: sites.map((s, i) => ({ ...base.database.backup!.objectStores[0], site: s.name, address: `10.20.${60 + i}.10` })),
      },
    },
  };
}
