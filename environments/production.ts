/**
 * Production: the Lao PDR's own root ("master plan"), two issuing CAs, LANIC primary site in
 * Vientiane and a backup site in a second Lao data center.
 */
import { CP_POLICY_OID, CP_PROFILES, CP_VERSION, TSA_POLICY_OID } from "./cp.js";
import {
  BACKUP_LOCATION,
  CNPG_POSTGRES_IMAGE,
  kube,
  LANIC_LOCATION,
  LAO_NTP_SOURCES,
  LUNA_CERTIFICATION,
  LUNA_PCIE_CEREMONY_LIBRARY,
  LUNA_PKCS11_LIBRARY,
  RELEASED_IMAGES,
  trustedRoleGroups,
  workloadSizes,
  databaseBackups,
} from "./common.js";
import type { EnvironmentInput } from "./schema.js";

export default {
  name: "production",
  tier: "production",
  description: "Lao Government CA: own offline root, issuing CAs in LANIC with a backup site",
  cpCps: { version: CP_VERSION, policyOid: CP_POLICY_OID, url: "https://repository.ca.gov.la/cps/1.0" },
  sites: [
    { name: "lanic", role: "primary", location: LANIC_LOCATION, kubernetes: kube("lanic-ca-prod-vte", "10.100.0.0/16", "https://api.ca-prod-vte.k8s.lanic.gov.la:6443") },
    { name: "backup", role: "backup", location: BACKUP_LOCATION, kubernetes: kube("lanic-ca-prod-lpq", "10.140.0.0/16", "https://api.ca-prod-lpq.k8s.lanic.gov.la:6443") },
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
      { name: "lanic-hsm-1", site: "lanic", address: "10.20.10.11", port: 1792 },
      { name: "lanic-hsm-2", site: "lanic", address: "10.20.10.12", port: 1792 },
      { name: "backup-hsm-1", site: "backup", address: "10.40.10.11", port: 1792 },
    ],
    partitions: [
      // One partition (one PIN) per CA key: a PIN unlocks a whole partition, so each CA's
      // signers can use their own CA key only (LCA-HSM-03).
      {
        name: "issuing",
        tokenLabel: "lanic-ca-issuing",
        pinSecret: "hsm-pin-issuing",
        serialNumber: "1238712",
        keys: [{ label: "lao-gov-signing-ca-1-2026", purpose: "issuing-ca", ca: "lao-gov-signing-ca-1", algorithm: "RSA_3072" }],
      },
      {
        name: "tls-issuing",
        tokenLabel: "lanic-ca-tls-issuing",
        pinSecret: "hsm-pin-tls-issuing",
        serialNumber: "1238713",
        keys: [{ label: "lao-gov-tls-ca-1-2026", purpose: "issuing-ca", ca: "lao-gov-tls-ca-1", algorithm: "ECDSA_P384" }],
      },
      {
        name: "ocsp",
        tokenLabel: "lanic-ca-ocsp",
        pinSecret: "hsm-pin-ocsp",
        serialNumber: "1238714",
        keys: [
          { label: "lao-gov-signing-ca-1-ocsp", purpose: "ocsp-signing", ca: "lao-gov-signing-ca-1", algorithm: "ECDSA_P256" },
          { label: "lao-gov-tls-ca-1-ocsp", purpose: "ocsp-signing", ca: "lao-gov-tls-ca-1", algorithm: "ECDSA_P256" },
        ],
      },
      {
        // The TSA's key in a partition of its own: its PIN unlocks nothing else.
        name: "tsa",
        tokenLabel: "lanic-ca-tsa",
        pinSecret: "hsm-pin-tsa",
        keys: [{ label: "lao-gov-tsa-1-2026", purpose: "time-stamping", ca: "lao-gov-signing-ca-1", algorithm: "RSA_3072" }],
      },
    ],
  },
  rootOfTrust: {
    type: "offline",
    name: "lao-gov-root-ca",
    subject: { CN: "Lao Government Root CA 2026", O: "Ministry of Technology and Communications", C: "LA" },
    keyAlgorithm: "ECDSA_P384",
    keyLabel: "lao-gov-root-ca-2026",
    validityDays: 5479, // 15 years (BR 7.1.2.1.1 allows ≤ 25; MRSP 7.4 removes roots after 15 years of key age)
    intermediateValidityDays: 1826, // 5 years
    caCrlNextUpdateDays: 365,
    hsm: {
      vendor: "Thales",
      model: "Luna PCIe HSM 7 (offline, air-gapped)",
      certification: LUNA_CERTIFICATION,
      pkcs11Library: LUNA_PCIE_CEREMONY_LIBRARY,
      tokenLabel: "lao-gov-root",
      serialNumber: "1541027",
      attachment: "pcie",
    },
    custodians: {
      quorum: 3,
      members: [
        { id: "custodian-1", name: "Key custodian 1 (MTC)" },
        { id: "custodian-2", name: "Key custodian 2 (MTC)" },
        { id: "custodian-3", name: "Key custodian 3 (LANIC)" },
        { id: "custodian-4", name: "Key custodian 4 (LANIC)" },
        { id: "custodian-5", name: "Key custodian 5 (Ministry of Public Security)" },
      ],
    },
    site: "lanic",
  },
  issuingCas: [
    {
      name: "lao-gov-signing-ca-1",
      subject: { CN: "Lao Government Signing CA 1", O: "Ministry of Technology and Communications", C: "LA" },
      keyAlgorithm: "RSA_3072",
      partition: "issuing",
      keyLabel: "lao-gov-signing-ca-1-2026",
      profiles: ["ex-officio-signing", "organisation-signing", "smime", "operator-client", "ocsp-signing", "time-stamping"],
      maxValidityDays: 365,
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "ocsp", keyLabel: "lao-gov-signing-ca-1-ocsp" },
    },
    {
      name: "lao-gov-tls-ca-1",
      subject: { CN: "Lao Government TLS CA 1", O: "Ministry of Technology and Communications", C: "LA" },
      keyAlgorithm: "ECDSA_P384",
      partition: "tls-issuing",
      keyLabel: "lao-gov-tls-ca-1-2026",
      profiles: ["tls-server", "ocsp-signing"],
      maxValidityDays: 100,
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "ocsp", keyLabel: "lao-gov-tls-ca-1-ocsp" },
    },
  ],
  profiles: CP_PROFILES,
  ra: { url: "https://ra.ca.gov.la", governmentNetworks: ["10.60.0.0/14"], bulkUploadMaxRows: 10000 },
  va: { url: "http://ocsp.ca.gov.la" },
  tsa: {
    name: "lao-gov-tsa-1",
    url: "http://tsa.ca.gov.la",
    ca: "lao-gov-signing-ca-1",
    profile: "time-stamping",
    partition: "tsa",
    keyLabel: "lao-gov-tsa-1-2026",
    keyAlgorithm: "RSA_3072",
    policyOid: TSA_POLICY_OID,
    accuracy: { seconds: 1 },
    ntp: { sources: LAO_NTP_SOURCES },
  },
  repository: { baseUrl: "http://repository.ca.gov.la" },
  database: {
    instances: 3,
    storageSize: "100Gi",
    storageClass: "lanic-ssd-encrypted",
    replicationAddresses: { lanic: { ca: "10.20.50.10", ra: "10.20.50.11", tsa: "10.20.50.12" }, backup: { ca: "10.40.50.10", ra: "10.40.50.11", tsa: "10.40.50.12" } },
    image: CNPG_POSTGRES_IMAGE,
    backup: databaseBackups("production", 2557, [
      { site: "lanic", endpoint: "https://s3.lanic.gov.la", address: "10.20.60.10" },
      { site: "backup", endpoint: "https://s3.lpq.lanic.gov.la", address: "10.40.60.10" },
    ]),
  },
  auditLog: {
    sink: { type: "syslog-tls", address: "10.20.30.40", port: 6514 },
    retentionDays: 2557, // 7 years by our CP (BR 5.4.3 minimum is 2)
    integrityCheckIntervalDays: 1,
  },
  roles: trustedRoleGroups("production"),
  workloads: workloadSizes(2, "large"),
  continuity: { rpoMinutes: 5, rtoHours: 4 },
} satisfies EnvironmentInput;
