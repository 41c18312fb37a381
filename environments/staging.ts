/**
 * Staging: production's shape on one LANIC site, with a test offline root and the staging
 * partitions of the production HSM model. Used for rehearsals of ceremonies and upgrades.
 */
import { CP_POLICY_OID, CP_PROFILES, CP_VERSION, TSA_POLICY_OID } from "./cp.js";
import {
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
  name: "staging",
  tier: "staging",
  description: "Rehearsal environment in LANIC: production's components, test root, one site",
  cpCps: { version: CP_VERSION, policyOid: CP_POLICY_OID, url: "https://repository.staging.ca.gov.la/cps/1.0" },
  sites: [{ name: "lanic", role: "primary", location: LANIC_LOCATION, kubernetes: kube("lanic-ca-staging-vte", "10.110.0.0/16", "https://api.ca-staging-vte.k8s.lanic.gov.la:6443") }],
  images: RELEASED_IMAGES,
  hsm: {
    type: "network",
    vendor: "Thales",
    model: "Luna Network HSM 7 (A700)",
    certification: LUNA_CERTIFICATION,
    pkcs11Library: LUNA_PKCS11_LIBRARY,
    clientCertificateSecret: "hsm-client-cert",
    members: [{ name: "staging-hsm-1", site: "lanic", address: "10.20.11.11", port: 1792 }],
    partitions: [
      {
        name: "issuing",
        tokenLabel: "lanic-ca-stg-issuing",
        pinSecret: "hsm-pin-issuing",
        keys: [{ label: "stg-signing-ca-1", purpose: "issuing-ca", ca: "stg-signing-ca-1", algorithm: "RSA_3072" }],
      },
      {
        name: "tls-issuing",
        tokenLabel: "lanic-ca-stg-tls-issuing",
        pinSecret: "hsm-pin-tls-issuing",
        keys: [{ label: "stg-tls-ca-1", purpose: "issuing-ca", ca: "stg-tls-ca-1", algorithm: "ECDSA_P384" }],
      },
      // The OCSP key in its own partition: the OCSP signer's PIN must not unlock the CA key (LCA-HSM-03).
      {
        name: "ocsp",
        tokenLabel: "lanic-ca-stg-ocsp",
        pinSecret: "hsm-pin-ocsp",
        keys: [
          { label: "stg-signing-ca-1-ocsp", purpose: "ocsp-signing", ca: "stg-signing-ca-1", algorithm: "ECDSA_P256" },
          { label: "stg-tls-ca-1-ocsp", purpose: "ocsp-signing", ca: "stg-tls-ca-1", algorithm: "ECDSA_P256" },
        ],
      },
      {
        name: "tsa",
        tokenLabel: "lanic-ca-stg-tsa",
        pinSecret: "hsm-pin-tsa",
        keys: [{ label: "stg-tsa-1", purpose: "time-stamping", ca: "stg-signing-ca-1", algorithm: "RSA_3072" }],
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
      certification: LUNA_CERTIFICATION,
      pkcs11Library: LUNA_PCIE_CEREMONY_LIBRARY,
      tokenLabel: "stg-root",
      serialNumber: "1541028",
      attachment: "pcie",
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
      profiles: ["ex-officio-signing", "organisation-signing", "smime", "operator-client", "ocsp-signing", "time-stamping"],
      maxValidityDays: 365,
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "ocsp", keyLabel: "stg-signing-ca-1-ocsp" },
    },
    {
      // TLS issuance from a CA restricted to it (BR 7.1.2.10.6, MRSP 5.3; ADR 0070), as in production.
      name: "stg-tls-ca-1",
      subject: { CN: "Lao Government Staging TLS CA 1", O: "Ministry of Technology and Communications", C: "LA" },
      keyAlgorithm: "ECDSA_P384",
      partition: "tls-issuing",
      keyLabel: "stg-tls-ca-1",
      profiles: ["tls-server", "ocsp-signing"],
      maxValidityDays: 100,
      crl: { intervalHours: 24, nextUpdateHours: 168 },
      ocsp: { enabled: true, responseValidityHours: 96, refreshHours: 24, partition: "ocsp", keyLabel: "stg-tls-ca-1-ocsp" },
    },
  ],
  profiles: CP_PROFILES,
  ra: { url: "https://ra.staging.ca.gov.la", governmentNetworks: ["10.60.0.0/14"], bulkUploadMaxRows: 10000 },
  va: { url: "http://ocsp.staging.ca.gov.la" },
  tsa: {
    name: "stg-tsa-1",
    url: "http://tsa.staging.ca.gov.la",
    ca: "stg-signing-ca-1",
    profile: "time-stamping",
    partition: "tsa",
    keyLabel: "stg-tsa-1",
    keyAlgorithm: "RSA_3072",
    policyOid: TSA_POLICY_OID,
    accuracy: { seconds: 1 },
    ntp: { sources: LAO_NTP_SOURCES },
  },
  repository: { baseUrl: "http://repository.staging.ca.gov.la" },
  database: {
    instances: 2,
    storageSize: "20Gi",
    storageClass: "lanic-ssd-encrypted",
    image: CNPG_POSTGRES_IMAGE,
    backup: databaseBackups("staging", 730, [{ site: "lanic", endpoint: "https://s3.lanic.gov.la", address: "10.20.60.10" }]),
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
