/**
 * Pilot ("Custom CA" phase): an issuing CA run by Laos in LANIC whose certificate is issued by
 * an external, already-trusted root. There is no offline root of our own; the issuing CA's CSR
 * is produced by the external-csr ceremony and the returned certificate imported.
 */
import { CP_POLICY_OID, CP_PROFILES, CP_VERSION } from "./cp.js";
import { BACKUP_LOCATION, LANIC_LOCATION, kube, trustedRoleGroups, workloadSizes } from "./common.js";
import type { EnvironmentInput } from "./schema.js";

export default {
  name: "pilot",
  tier: "production",
  description: "Pilot: Lao issuing CA in LANIC under an external, already-trusted root",
  cpCps: { version: CP_VERSION, policyOid: CP_POLICY_OID, url: "https://repository.ca.gov.la/cps/1.0" },
  sites: [
    { name: "lanic", role: "primary", location: LANIC_LOCATION, kubernetes: kube("lanic-ca-pilot-vte", "10.120.0.0/16") },
    { name: "backup", role: "backup", location: BACKUP_LOCATION, kubernetes: kube("lanic-ca-pilot-lpq", "10.150.0.0/16") },
  ],
  images: {
    pkiServices: "registry.lanic.gov.la/lanic-ca/pki-services@sha256:4f6c1b0d2a9e8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99",
    auditCollector: "registry.lanic.gov.la/mirror/fluent-bit@sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
  },
  hsm: {
    type: "network",
    vendor: "Thales",
    model: "Luna Network HSM 7 (A790)",
    certification: { scheme: "FIPS 140-3", level: 3, certificate: "CMVP certificate number recorded at acceptance" },
    pkcs11Library: "/opt/hsm/lib/libCryptoki2_64.so",
    clientCertificateSecret: "hsm-client-cert",
    members: [
      { name: "pilot-hsm-1", site: "lanic", address: "10.20.12.11", port: 1792 },
      { name: "pilot-hsm-2", site: "backup", address: "10.40.12.11", port: 1792 },
    ],
    partitions: [
      {
        name: "issuing",
        tokenLabel: "lanic-ca-pilot",
        pinSecret: "hsm-pin-issuing",
        keys: [
          { label: "lao-gov-pilot-ca-1", purpose: "issuing-ca", ca: "lao-gov-pilot-ca-1", algorithm: "RSA_3072" },
          { label: "lao-gov-pilot-ca-1-ocsp", purpose: "ocsp-signing", ca: "lao-gov-pilot-ca-1", algorithm: "ECDSA_P256" },
        ],
      },
    ],
  },
  rootOfTrust: {
    type: "external",
    name: "external-root",
    subject: { CN: "Pilot Partner Root CA", O: "Pilot Partner (WebTrust-audited commercial CA)", C: "US" },
    certificateSha256: "0000000000000000000000000000000000000000000000000000000000000000",
    operator: "Commercial CA selected by MTC for the pilot (fingerprint recorded at contract)",
  },
  issuingCas: [
    {
      name: "lao-gov-pilot-ca-1",
      subject: { CN: "Lao Government Pilot CA 1", O: "Ministry of Technology and Communications", C: "LA" },
      keyAlgorithm: "RSA_3072",
      partition: "issuing",
      keyLabel: "lao-gov-pilot-ca-1",
      profiles: ["ex-officio-signing", "organisation-signing", "operator-client", "ocsp-signing"],
      maxValidityDays: 365,
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "issuing", keyLabel: "lao-gov-pilot-ca-1-ocsp" },
    },
  ],
  profiles: CP_PROFILES,
  ra: { url: "https://ra.pilot.ca.gov.la", governmentNetworks: ["10.60.0.0/14"], bulkUploadMaxRows: 10000 },
  va: { url: "http://ocsp.pilot.ca.gov.la" },
  repository: { baseUrl: "http://repository.pilot.ca.gov.la" },
  database: {
    instances: 3,
    storageSize: "50Gi",
    storageClass: "lanic-ssd-encrypted",
    replicationAddresses: { ca: "10.20.52.10", ra: "10.20.52.11" },
    image: "ghcr.io/cloudnative-pg/postgresql@sha256:1b0c9e3f5a7d2c4e6f8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d1e",
  },
  auditLog: {
    sink: { type: "syslog-tls", address: "10.20.30.43", port: 6514 },
    retentionDays: 2557,
    integrityCheckIntervalDays: 1,
  },
  roles: trustedRoleGroups("pilot"),
  workloads: workloadSizes(2, "large"),
  continuity: { rpoMinutes: 5, rtoHours: 4 },
} satisfies EnvironmentInput;
