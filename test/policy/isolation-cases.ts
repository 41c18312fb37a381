/**
 * Passing and violating fixtures of the controls that keep keys, PINs, clusters, tiers and
 * networks apart (docs/policy.md): each is a realistic mistake an auditor would try on a copy of
 * a shipped environment.
 */
import { resourceAt, type Case } from "./fixtures.js";

export const ISOLATION_CASES: Case[] = [
  // The root's token pointed at the online network HSM's partition.
  {
    id: "LCA-KEY-05",
    pass: "production",
    env: (d) => {
      d.rootOfTrust.hsm.tokenLabel = "lanic-ca-issuing";
    },
    finding: "LCA-KEY-05:token:online:issuing",
    found: "the root token label 'lanic-ca-issuing' is also online partition 'issuing' of HSM 'online'",
  },
  // The pilot as it was shipped: the OCSP signer's key in the CA key's partition.
  {
    id: "LCA-HSM-03",
    pass: "pilot",
    env: (d) => {
      d.hsm.partitions = [{ ...d.hsm.partitions[0], keys: [...d.hsm.partitions[0].keys, ...d.hsm.partitions[1].keys] }];
      d.issuingCas[0].ocsp.partition = "issuing";
    },
    finding: "LCA-HSM-03:grant:issuing:lanic/ocsp-signer-lao-gov-pilot-ca-1",
    found: "lanic/ocsp-signer-lao-gov-pilot-ca-1 (ocsp-signer) is granted 'lao-gov-pilot-ca-1-ocsp' in partition 'issuing', so it holds the PIN that unlocks CA key 'lao-gov-pilot-ca-1'",
  },
  // A backup site whose HSM appliance was left out: a finding, not a stack trace.
  {
    id: "LCA-HSM-04",
    pass: "production",
    env: (d) => {
      d.hsm.members = d.hsm.members.filter((m: { site: string }) => m.site !== "backup");
    },
    finding: "LCA-HSM-04:grant:backup/issuing-ca-lao-gov-tls-ca-1:lao-gov-tls-ca-1-2026",
    found: "backup/issuing-ca-lao-gov-tls-ca-1 is granted 'lao-gov-tls-ca-1-2026' but HSM 'online' has no member at site 'backup'",
  },
  // No audit log inspector appointed: nobody reviews the IA and RA logs.
  {
    id: "LCA-SOD-02",
    pass: "production",
    env: (d) => {
      delete d.roles["audit-log-inspector"];
    },
    finding: "LCA-SOD-02:role:audit-log-inspector",
    found: "no group holds the audit-log-inspector role",
  },
  // Pod Security lowered on the RA's namespace by hand.
  {
    id: "LCA-WKL-04",
    pass: "production",
    model: (b) => {
      resourceAt(b, "production/production-lanic/zone-ra/namespace").metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged";
    },
    finding: "LCA-WKL-04:namespace:production-lanic:lanic-ca-ra",
    found: "namespace 'lanic-ca-ra' (stack production-lanic) enforces Pod Security 'privileged'",
  },
  // Production downgraded to staging: the production controls would silently drop.
  {
    id: "LCA-TIER-01",
    pass: "staging",
    model: (b) => {
      const prod = structuredClone(b.model.environment);
      Object.assign(prod, { publication: { repositoryBaseUrl: "http://repository.ca.gov.la", ocspUrl: "http://ocsp.ca.gov.la" } });
      b.model.environment = prod;
    },
    finding: "LCA-TIER-01:tier",
    found: "tier staging, but the environment is production: its repository is published at repository.ca.gov.la, a production name; its OCSP is published at ocsp.ca.gov.la, a production name",
  },
  // Production's primary site on staging's cluster.
  {
    id: "LCA-CLU-01",
    pass: "production",
    env: (d) => {
      d.sites[0].kubernetes = { ...d.sites[0].kubernetes, context: "lanic-ca-staging-vte", server: "https://api.ca-staging-vte.k8s.lanic.gov.la:6443" };
    },
    finding: "LCA-CLU-01:tier-shared:lanic:staging/lanic",
    found: "site 'lanic' (production) is on the cluster of staging/lanic (staging): server https://api.ca-staging-vte.k8s.lanic.gov.la:6443",
  },
  // The RA front end opened to 0.0.0.0/0 as a "government network".
  {
    id: "LCA-NET-06",
    pass: "production",
    env: (d) => {
      d.ra.governmentNetworks = ["0.0.0.0/0"];
    },
    finding: "LCA-NET-06:government-network:lanic:lanic/ra-frontend:0.0.0.0/0",
    found: "'0.0.0.0/0' is declared a government network for lanic/ra-frontend: that is every address on the internet",
  },
  // OCSP over https in the AIA: a TLS loop for relying parties.
  {
    id: "LCA-URL-01",
    pass: "production",
    env: (d) => {
      d.va.url = "https://ocsp.ca.gov.la";
    },
    finding: "LCA-URL-01:ca:lao-gov-tls-ca-1:ocsp",
    found: "ocsp URL of lao-gov-tls-ca-1: 'https://ocsp.ca.gov.la' is https, not plain http",
  },
  // A root key the ceremonies refuse: today synth's ceremony rendering caught it, check did not.
  {
    id: "LCA-CER-01",
    pass: "production",
    env: (d) => {
      d.rootOfTrust.keyAlgorithm = "ECDSA_P256";
    },
    finding: "LCA-CER-01:root-key",
    found: "root key ECDSA_P256",
  },
  // An OCSP responder key the ocsp-signing profile does not allow.
  {
    id: "LCA-OCSP-02",
    pass: "production",
    env: (d) => {
      d.hsm.partitions.find((p: { name: string }) => p.name === "ocsp").keys[0].algorithm = "RSA_2048";
    },
    finding: "LCA-OCSP-02:key:lao-gov-signing-ca-1-ocsp",
    found: "OCSP signing key 'lao-gov-signing-ca-1-ocsp' of 'lao-gov-signing-ca-1' is RSA_2048; profile 'ocsp-signing' allows ECDSA_P256, ECDSA_P384, RSA_3072, RSA_4096",
  },
  // The RA service started without its TLS identity: the front ends' "mTLS" is a declaration only.
  {
    id: "LCA-NET-07",
    pass: "production",
    model: (b) => {
      const pod = resourceAt(b, "production/production-lanic/registration-authority/service/deployment").spec.template.spec;
      pod.volume = pod.volume.filter((v: { name: string }) => v.name !== "tls");
    },
    finding: "LCA-NET-07:flow:lanic:lanic/ra-frontend->lanic/ra:8443",
    found: "mTLS flow 'applications and vetting to the RA' (port 8443): lanic/ra mounts no TLS identity with a client CA",
  },
];
