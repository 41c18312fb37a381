/**
 * Dev: one site, SoftHSM2 tokens inside the signing pods, a throw-away offline root, images by
 * tag. The only tier where a software token is allowed (BR 6.2.7 applies to real CA keys).
 */
import { CP_POLICY_OID, CP_PROFILES, CP_VERSION, TSA_POLICY_OID } from "./cp.js";
import { LANIC_LOCATION, LAO_NTP_SOURCES, kube, trustedRoleGroups, workloadSizes } from "./common.js";
import type { EnvironmentInput } from "./schema.js";

export default {
  name: "dev",
  tier: "dev",
  description: "Developers' environment: SoftHSM2, one replica each, throw-away keys",
  cpCps: { version: CP_VERSION, policyOid: CP_POLICY_OID, url: "http://repository.dev.ca.lanic.la/cps/1.0" },
  sites: [{ name: "lab", role: "primary", location: LANIC_LOCATION, kubernetes: kube("kind-lanic-ca-dev", "10.244.0.0/16") }],
  images: {
    pkiServices: "registry.lanic.gov.la/lanic-ca/pki-services:dev",
    auditCollector: "registry.lanic.gov.la/mirror/fluent-bit:5.0",
  },
  hsm: {
    type: "softhsm",
    vendor: "OpenDNSSEC",
    model: "SoftHSM 2",
    certification: { scheme: "none" },
    pkcs11Library: "/usr/lib/softhsm/libsofthsm2.so",
    clientCertificateSecret: "hsm-client-cert",
    members: [],
    partitions: [
      {
        name: "dev",
        tokenLabel: "lanic-ca-dev",
        pinSecret: "hsm-pin-dev",
        keys: [
          { label: "dev-ca-1", purpose: "issuing-ca", ca: "dev-ca-1", algorithm: "ECDSA_P256" },
          { label: "dev-ca-1-ocsp", purpose: "ocsp-signing", ca: "dev-ca-1", algorithm: "ECDSA_P256" },
          // The TLS issuing CA (ADR 0070), in the same SoftHSM token (one partition per CA key
          // binds staging and production, LCA-HSM-03).
          { label: "dev-tls-ca-1", purpose: "issuing-ca", ca: "dev-tls-ca-1", algorithm: "ECDSA_P256" },
          { label: "dev-tls-ca-1-ocsp", purpose: "ocsp-signing", ca: "dev-tls-ca-1", algorithm: "ECDSA_P256" },
        ],
      },
      {
        name: "dev-tsa",
        tokenLabel: "lanic-ca-dev-tsa",
        pinSecret: "hsm-pin-dev-tsa",
        keys: [{ label: "dev-tsa-1", purpose: "time-stamping", ca: "dev-ca-1", algorithm: "RSA_3072" }],
      },
    ],
  },
  rootOfTrust: {
    type: "offline",
    name: "dev-root-ca",
    subject: { CN: "LANIC CA Dev Root", O: "LANIC (development)", C: "LA" },
    keyAlgorithm: "ECDSA_P384",
    keyLabel: "dev-root-ca",
    validityDays: 3653,
    intermediateValidityDays: 1826,
    caCrlNextUpdateDays: 365,
    hsm: { vendor: "OpenDNSSEC", model: "SoftHSM 2", certification: { scheme: "none" }, pkcs11Library: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "dev-root", serialNumber: "dev-root", attachment: "software" },
    custodians: {
      quorum: 2,
      members: [
        { id: "dev-1", name: "Developer 1" },
        { id: "dev-2", name: "Developer 2" },
        { id: "dev-3", name: "Developer 3" },
      ],
    },
    site: "lab",
  },
  issuingCas: [
    {
      name: "dev-ca-1",
      subject: { CN: "LANIC CA Dev Issuing CA 1", O: "LANIC (development)", C: "LA" },
      keyAlgorithm: "ECDSA_P256",
      partition: "dev",
      keyLabel: "dev-ca-1",
      profiles: ["ex-officio-signing", "organisation-signing", "smime", "operator-client", "ocsp-signing", "time-stamping"],
      maxValidityDays: 365,
      crl: { intervalHours: 1, nextUpdateHours: 24 },
      ocsp: { enabled: true, responseValidityHours: 8, refreshHours: 2, partition: "dev", keyLabel: "dev-ca-1-ocsp" },
    },
    {
      // TLS issuance from a CA restricted to it (BR 7.1.2.10.6, MRSP 5.3; ADR 0070), as in production.
      name: "dev-tls-ca-1",
      subject: { CN: "LANIC CA Dev TLS CA 1", O: "LANIC (development)", C: "LA" },
      keyAlgorithm: "ECDSA_P256",
      partition: "dev",
      keyLabel: "dev-tls-ca-1",
      profiles: ["tls-server", "ocsp-signing"],
      maxValidityDays: 100,
      crl: { intervalHours: 1, nextUpdateHours: 24 },
      ocsp: { enabled: true, responseValidityHours: 8, refreshHours: 2, partition: "dev", keyLabel: "dev-tls-ca-1-ocsp" },
    },
  ],
  profiles: CP_PROFILES,
  ra: { url: "http://ra.dev.ca.lanic.la", governmentNetworks: ["10.60.0.0/14"], bulkUploadMaxRows: 1000 },
  va: { url: "http://ocsp.dev.ca.lanic.la" },
  tsa: {
    name: "dev-tsa-1",
    url: "http://tsa.dev.ca.lanic.la",
    ca: "dev-ca-1",
    profile: "time-stamping",
    partition: "dev-tsa",
    keyLabel: "dev-tsa-1",
    keyAlgorithm: "RSA_3072",
    policyOid: TSA_POLICY_OID,
    accuracy: { seconds: 1 },
    ntp: { sources: LAO_NTP_SOURCES.slice(0, 1) },
  },
  repository: { baseUrl: "http://repository.dev.ca.lanic.la" },
  database: {
    instances: 1,
    storageSize: "5Gi",
    storageClass: "standard",
    image: "ghcr.io/cloudnative-pg/postgresql:15",
  },
  auditLog: {
    sink: { type: "syslog-tls", address: "10.20.30.42", port: 6514 },
    retentionDays: 90,
    integrityCheckIntervalDays: 1,
  },
  roles: trustedRoleGroups("dev"),
  workloads: workloadSizes(1, "small"),
  continuity: { rpoMinutes: 1440, rtoHours: 72 },
} satisfies EnvironmentInput;
