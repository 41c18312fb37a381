/**
 * Pilot ("Custom CA" phase): an issuing CA run by Laos in LANIC whose certificate is issued by
 * an external, already-trusted root. There is no offline root of our own; the issuing CA's CSR
 * is produced by the external-csr ceremony and the returned certificate imported.
 */
import { CP_POLICY_OID, CP_PROFILES, CP_VERSION } from "./cp.js";
import { BACKUP_LOCATION, CNPG_POSTGRES_IMAGE, kube, LANIC_LOCATION, LUNA_CERTIFICATION, LUNA_PKCS11_LIBRARY, RELEASED_IMAGES, trustedRoleGroups, workloadSizes, databaseBackups } from "./common.js";
import type { EnvironmentInput } from "./schema.js";

export default {
  name: "pilot",
  tier: "production",
  description: "Pilot: Lao issuing CA in LANIC under an external, already-trusted root",
  cpCps: { version: CP_VERSION, policyOid: CP_POLICY_OID, url: "https://repository.ca.gov.la/cps/1.0" },
  sites: [
    { name: "lanic", role: "primary", location: LANIC_LOCATION, kubernetes: kube("lanic-ca-pilot-vte", "10.120.0.0/16", "https://api.ca-pilot-vte.k8s.lanic.gov.la:6443") },
    { name: "backup", role: "backup", location: BACKUP_LOCATION, kubernetes: kube("lanic-ca-pilot-lpq", "10.150.0.0/16", "https://api.ca-pilot-lpq.k8s.lanic.gov.la:6443") },
  ],
  images: RELEASED_IMAGES,
  hsm: {
    type: "network",
    vendor: "Thales",
    model: "Luna Network HSM 7 (A790)",
    certification: LUNA_CERTIFICATION,
    pkcs11Library: LUNA_PKCS11_LIBRARY,
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
        keys: [{ label: "lao-gov-pilot-ca-1", purpose: "issuing-ca", ca: "lao-gov-pilot-ca-1", algorithm: "RSA_3072" }],
      },
      // The OCSP key in its own partition: the OCSP signer's PIN must not unlock the CA key (LCA-HSM-03).
      {
        name: "ocsp",
        tokenLabel: "lanic-ca-pilot-ocsp",
        pinSecret: "hsm-pin-ocsp",
        keys: [{ label: "lao-gov-pilot-ca-1-ocsp", purpose: "ocsp-signing", ca: "lao-gov-pilot-ca-1", algorithm: "ECDSA_P256" }],
      },
    ],
  },
  rootOfTrust: {
    type: "external",
    name: "external-root",
    subject: { CN: "Pilot Partner Root CA", O: "Pilot Partner (WebTrust-audited commercial CA)", C: "US" },
    certificateSha256: "0000000000000000000000000000000000000000000000000000000000000000",
    operator: "Commercial CA selected by MTC for the pilot (fingerprint recorded at contract)",
    // The custodians of the issuing CA key backup (ADR 0082): our keys, even under an external root.
    custodians: {
      quorum: 2,
      members: [
        { id: "custodian-1", name: "Key custodian 1 (MTC)" },
        { id: "custodian-2", name: "Key custodian 2 (MTC)" },
        { id: "custodian-3", name: "Key custodian 3 (LANIC)" },
      ],
    },
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
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "ocsp", keyLabel: "lao-gov-pilot-ca-1-ocsp" },
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
    replicationAddresses: { lanic: { ca: "10.20.52.10", ra: "10.20.52.11" }, backup: { ca: "10.40.52.10", ra: "10.40.52.11" } },
    image: CNPG_POSTGRES_IMAGE,
    backup: databaseBackups("pilot", 2557, [
      { site: "lanic", endpoint: "https://s3.lanic.gov.la", address: "10.20.60.10" },
      { site: "backup", endpoint: "https://s3.lpq.lanic.gov.la", address: "10.40.60.10" },
    ]),
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
