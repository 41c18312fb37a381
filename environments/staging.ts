/**
 * Staging: production's shape on one LANIC site, with a test offline root and the staging
 * partitions of the production HSM model. Used for rehearsals of ceremonies and upgrades.
 */
import { CP_POLICY_OID, CP_PROFILES, CP_VERSION } from "./cp.js";
import { LANIC_LOCATION, kube, trustedRoleGroups, workloadSizes } from "./common.js";
import type { EnvironmentInput } from "./schema.js";

export default {
  name: "staging",
  tier: "staging",
  description: "Rehearsal environment in LANIC: production's components, test root, one site",
  cpCps: { version: CP_VERSION, policyOid: CP_POLICY_OID, url: "https://repository.staging.ca.gov.la/cps/1.0" },
  sites: [{ name: "lanic", role: "primary", location: LANIC_LOCATION, kubernetes: kube("lanic-ca-staging-vte", "10.110.0.0/16") }],
  images: {
    pkiServices: "registry.lanic.gov.la/lanic-ca/pki-services@sha256:4f6c1b0d2a9e8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99",
    auditCollector: "registry.lanic.gov.la/mirror/fluent-bit@sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
  },
  hsm: {
    type: "network",
    vendor: "Thales",
    model: "Luna Network HSM 7 (A700)",
    certification: { scheme: "FIPS 140-3", level: 3, certificate: "CMVP certificate number recorded at acceptance" },
    pkcs11Library: "/opt/hsm/lib/libCryptoki2_64.so",
    clientCertificateSecret: "hsm-client-cert",
    members: [{ name: "staging-hsm-1", site: "lanic", address: "10.20.11.11", port: 1792 }],
    partitions: [
      {
        name: "issuing",
        tokenLabel: "lanic-ca-stg-issuing",
        pinSecret: "hsm-pin-issuing",
        keys: [
          { label: "stg-signing-ca-1", purpose: "issuing-ca", ca: "stg-signing-ca-1", algorithm: "RSA_3072" },
          { label: "stg-signing-ca-1-ocsp", purpose: "ocsp-signing", ca: "stg-signing-ca-1", algorithm: "ECDSA_P256" },
        ],
      },
    ],
  },
  rootOfTrust: {
    type: "offline",
    name: "stg-root-ca",
    subject: { CN: "Lao Government Staging Root CA", O: "Ministry of Technology and Communications", C: "LA" },
    keyAlgorithm: "ECDSA_P384",
    keyLabel: "stg-root-ca",
    validityDays: 3653,
    intermediateValidityDays: 1826,
    caCrlNextUpdateDays: 365,
    hsm: {
      vendor: "Thales",
      model: "Luna PCIe HSM 7 (offline)",
      certification: { scheme: "FIPS 140-3", level: 3, certificate: "CMVP certificate number recorded at acceptance" },
      pkcs11Library: "/opt/hsm/lib/libCryptoki2_64.so",
      tokenLabel: "stg-root",
    },
    custodians: {
      quorum: 2,
      members: [
        { id: "custodian-1", name: "Staging custodian 1" },
        { id: "custodian-2", name: "Staging custodian 2" },
        { id: "custodian-3", name: "Staging custodian 3" },
      ],
    },
    site: "lanic",
  },
  issuingCas: [
    {
      name: "stg-signing-ca-1",
      subject: { CN: "Lao Government Staging Signing CA 1", O: "Ministry of Technology and Communications", C: "LA" },
      keyAlgorithm: "RSA_3072",
      partition: "issuing",
      keyLabel: "stg-signing-ca-1",
      profiles: ["ex-officio-signing", "organisation-signing", "tls-server", "smime", "operator-client", "ocsp-signing"],
      maxValidityDays: 365,
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "issuing", keyLabel: "stg-signing-ca-1-ocsp" },
    },
  ],
  profiles: CP_PROFILES,
  ra: { url: "https://ra.staging.ca.gov.la", governmentNetworks: ["10.60.0.0/14"], bulkUploadMaxRows: 10000 },
  va: { url: "http://ocsp.staging.ca.gov.la" },
  repository: { baseUrl: "http://repository.staging.ca.gov.la" },
  database: {
    instances: 2,
    storageSize: "20Gi",
    storageClass: "lanic-ssd-encrypted",
    image: "ghcr.io/cloudnative-pg/postgresql@sha256:1b0c9e3f5a7d2c4e6f8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d1e",
  },
  auditLog: {
    sink: { type: "syslog-tls", address: "10.20.30.41", port: 6514 },
    retentionDays: 730,
    integrityCheckIntervalDays: 7,
  },
  roles: trustedRoleGroups("staging"),
  workloads: workloadSizes(2, "small"),
  continuity: { rpoMinutes: 60, rtoHours: 24 },
} satisfies EnvironmentInput;
