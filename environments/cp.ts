/**
 * The certificate profiles of the Lao Government CA's CP/CPS, shared by every environment.
 *
 * OIDs: the CP arc sits under the Lao PDR country arc 2.16.418 (joint-iso-itu-t country,
 * ISO 3166 numeric 418); the allocation 2.16.418.1.1 is to be confirmed by MTC before the first
 * production ceremony. TLS and S/MIME certificates also carry the CA/Browser Forum reserved OIDs
 * (BR 7.1.6.1; S/MIME BR 7.1.6.1).
 */
import type { EnvironmentInput } from "./schema.js";

export const CP_ARC = "2.16.418.1.1";
export const CP_POLICY_OID = `${CP_ARC}.1`;
export const CP_VERSION = "1.0";
/** The TSA policy (RFC 3161 2.4.2 TSTInfo.policy): the time-stamping practice in the CP arc. */
export const TSA_POLICY_OID = `${CP_ARC}.4.1`;

type Profiles = EnvironmentInput["profiles"];

const anyKey = ["RSA_2048", "RSA_3072", "RSA_4096", "ECDSA_P256", "ECDSA_P384"] as const;

export const CP_PROFILES: Profiles = {
  "ex-officio-signing": {
    kind: "ex-officio-signing",
    description: "Ex-officio certificate of a government position: signs internal approvals and e-Office documents",
    maxValidityDays: 365, // the source documents: certificates are valid one year
    allowedKeyAlgorithms: [...anyKey],
    keyUsage: ["digitalSignature", "nonRepudiation"],
    extendedKeyUsage: ["documentSigning", "clientAuth"],
    policyOids: [`${CP_ARC}.2.1`],
    subject: { required: ["CN", "title", "O", "C"], optional: ["OU", "serialNumber", "E"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: true, required: false },
  },
  "organisation-signing": {
    kind: "organisation-signing",
    description: "Organisation certificate of a company licensed by a ministry (business licence number in organizationIdentifier)",
    maxValidityDays: 365,
    allowedKeyAlgorithms: [...anyKey],
    keyUsage: ["digitalSignature", "nonRepudiation"],
    extendedKeyUsage: ["documentSigning", "clientAuth"],
    policyOids: [`${CP_ARC}.2.2`],
    subject: { required: ["CN", "O", "organizationIdentifier", "C"], optional: ["L", "ST", "OU"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: true, required: false },
  },
  "tls-server": {
    kind: "tls-server",
    description: "TLS server certificate for government web sites (organisation validated)",
    maxValidityDays: 100, // BR 6.3.2: 200 days from 2026-03-15, 100 days from 2027-03-15
    allowedKeyAlgorithms: [...anyKey],
    keyUsage: ["digitalSignature", "keyEncipherment"],
    extendedKeyUsage: ["serverAuth"],
    policyOids: ["2.23.140.1.2.2", `${CP_ARC}.2.3`], // BR 7.1.6.1 organization-validated
    subject: { required: ["CN", "O", "C"], optional: ["L", "ST"], countries: ["LA"] },
    subjectAltNames: { dns: true, email: false, required: true }, // BR 7.1.2.7.12
  },
  smime: {
    kind: "smime",
    description: "S/MIME certificate for government mailboxes (sponsor validated)",
    maxValidityDays: 365,
    allowedKeyAlgorithms: [...anyKey],
    keyUsage: ["digitalSignature", "keyEncipherment"],
    extendedKeyUsage: ["emailProtection"],
    policyOids: ["2.23.140.1.5.3.3", `${CP_ARC}.2.4`], // S/MIME BR 7.1.6.1 sponsor-validated strict
    subject: { required: ["CN", "O", "C"], optional: ["OU", "title", "E"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: true, required: true },
  },
  "operator-client": {
    kind: "operator-client",
    description: "mTLS client certificate of a trusted-role operator or of a CA service (RA → issuing CA)",
    maxValidityDays: 365,
    allowedKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384", "RSA_3072", "RSA_4096"],
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: ["clientAuth"],
    policyOids: [`${CP_ARC}.3.1`],
    subject: { required: ["CN", "O", "C"], optional: ["OU", "title"], countries: ["LA"] },
    subjectAltNames: { dns: false, email: true, required: false },
  },
  "ocsp-signing": {
    kind: "ocsp-signing",
    description: "Delegated OCSP responder certificate (RFC 6960 4.2.2.2), key in the HSM",
    maxValidityDays: 90,
    allowedKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384", "RSA_3072", "RSA_4096"],
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: ["ocspSigning"],
    policyOids: [`${CP_ARC}.3.2`],
    subject: { required: ["CN", "O", "C"], optional: [], countries: ["LA"] },
    subjectAltNames: { dns: false, email: false, required: false },
    ocspNoCheck: true,
  },
  "time-stamping": {
    kind: "time-stamping",
    description: "The time-stamping authority's certificate (RFC 3161 2.3), key in the HSM",
    maxValidityDays: 365,
    allowedKeyAlgorithms: ["RSA_3072", "RSA_4096", "ECDSA_P256", "ECDSA_P384"],
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: ["timeStamping"], // alone and critical (RFC 3161 2.3)
    policyOids: [`${CP_ARC}.3.3`],
    subject: { required: ["CN", "O", "C"], optional: [], countries: ["LA"] },
    subjectAltNames: { dns: false, email: false, required: false },
  },
};
