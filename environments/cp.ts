/**
 * The certificate profiles of the Lao Government CA's CP/CPS, shared by every environment.
 *
 * OIDs: the CP arc sits under the Lao PDR country arc 2.16.418 (joint-iso-itu-t country,
 * ISO 3166 numeric 418); the allocation 2.16.418.1.1 is to be confirmed by MTC before the first
 * production ceremony. TLS and S/MIME certificates also carry the CA/Browser Forum reserved OIDs
 * (BR 7.1.6.1; S/MIME BR 7.1.6.1).
 */
import type { RaKindInput } from "@lanic-ca/pki-services/ra/config";
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
    // BR 7.1.2.7.11: digitalSignature; keyEncipherment (MAY) for RSA keys only, compiled per key
    // type (RFC 8813 3: never for ECDSA): NSS refuses an RSA TLS server certificate without it
    // (vfychain -u 1: "key usage inadequate", test/certs/matrix.test.ts).
    keyUsage: ["digitalSignature", "keyEncipherment"],
    extendedKeyUsage: ["serverAuth"],
    policyOids: ["2.23.140.1.2.2", `${CP_ARC}.2.3`], // BR 7.1.6.1 organization-validated
    // BR 7.1.2.7.4: O and C, and L or ST (the Lao capital or province of the organisation).
    subject: { required: ["CN", "O", "L", "C"], optional: ["ST"], countries: ["LA"] },
    subjectAltNames: { dns: true, email: false, required: true }, // BR 7.1.2.7.12
  },
  smime: {
    kind: "smime",
    description: "S/MIME certificate for government mailboxes (sponsor validated)",
    maxValidityDays: 365,
    allowedKeyAlgorithms: [...anyKey],
    // keyEncipherment for RSA keys only: an ECDSA key signs (RFC 8813 3); compiled per key type.
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
    policyOids: [], // BR 7.1.2.8.8: SHOULD NOT (the responder is trusted through its issuer)
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

/** What the RA asks for each profile above (ADR 0060): the application fields, each placed in the
 *  certificate by `maps` (subject attribute or subjectAltName) or kept in the RA only, and the
 *  evidence. Declared beside the profiles so a profile and its application change together; the
 *  key algorithms come from the profile ({@link raKinds}). Labels in English and Lao. */
export const CP_RA_KINDS: Record<string, Omit<RaKindInput, "profile" | "allowedKeyAlgorithms">> = {
  "ex-officio-signing": {
    label: { en: "Ex-officio certificate (government position)", lo: "ໃບຢັ້ງຢືນຕາມຕຳແໜ່ງ" },
    fields: {
      holderName: { label: { en: "Name of the position holder", lo: "ຊື່ ແລະ ນາມສະກຸນ ຜູ້ດຳລົງຕຳແໜ່ງ" }, required: true, maps: "CN", maxLength: 64 },
      position: { label: { en: "Position", lo: "ຕຳແໜ່ງ" }, required: true, maps: "title", maxLength: 64 },
      ministry: { label: { en: "Ministry or organisation", lo: "ກະຊວງ / ອົງການ" }, required: true, maps: "O", maxLength: 64 },
      department: { label: { en: "Department", lo: "ກົມ / ພະແນກ" }, required: false, maps: "OU", maxLength: 64 },
      email: { label: { en: "Official email", lo: "ອີເມວທາງການ" }, required: false, maps: "san.email", pattern: "[^@\\s]+@[^@\\s]+\\.[a-z]{2,}", maxLength: 128 },
      country: { label: { en: "Country", lo: "ປະເທດ" }, required: true, maps: "C", fixed: "LA" },
      appointmentReference: { label: { en: "Appointment decision number", lo: "ເລກທີຂໍ້ຕົກລົງແຕ່ງຕັ້ງ" }, required: true, maxLength: 64 },
    },
    evidence: [{ type: "appointment-letter", label: { en: "Appointment letter", lo: "ໜັງສືແຕ່ງຕັ້ງ" }, required: true }],
  },
  "organisation-signing": {
    label: { en: "Organisation certificate (licensed company)", lo: "ໃບຢັ້ງຢືນຂອງອົງກອນ (ບໍລິສັດທີ່ໄດ້ຮັບອະນຸຍາດ)" },
    fields: {
      companyName: { label: { en: "Company name", lo: "ຊື່ບໍລິສັດ" }, required: true, maps: "CN", maxLength: 64 },
      legalName: { label: { en: "Registered legal name", lo: "ຊື່ນິຕິບຸກຄົນທີ່ຈົດທະບຽນ" }, required: true, maps: "O", maxLength: 64 },
      licenceNumber: { label: { en: "Business licence number", lo: "ເລກທີໃບອະນຸຍາດດຳເນີນທຸລະກິດ" }, required: true, maps: "organizationIdentifier", pattern: "[A-Za-z0-9][A-Za-z0-9./-]{0,63}", maxLength: 64 },
      licenceIssuer: { label: { en: "Ministry that issued the licence", lo: "ກະຊວງທີ່ອອກໃບອະນຸຍາດ" }, required: true, maxLength: 128 },
      province: { label: { en: "Province", lo: "ແຂວງ" }, required: false, maps: "ST", maxLength: 64 },
      city: { label: { en: "City / district", lo: "ເມືອງ" }, required: false, maps: "L", maxLength: 64 },
      contactEmail: { label: { en: "Contact email", lo: "ອີເມວຕິດຕໍ່" }, required: true, pattern: "[^@\\s]+@[^@\\s]+\\.[a-z]{2,}", maxLength: 128 },
      country: { label: { en: "Country", lo: "ປະເທດ" }, required: true, maps: "C", fixed: "LA" },
    },
    evidence: [{ type: "business-licence", label: { en: "Business licence", lo: "ໃບອະນຸຍາດດຳເນີນທຸລະກິດ" }, required: true }],
  },
  "tls-server": {
    label: { en: "TLS server certificate", lo: "ໃບຢັ້ງຢືນເຊີບເວີ TLS" },
    fields: {
      hostName: { label: { en: "Host name (FQDN)", lo: "ຊື່ໂຮສ (FQDN)" }, required: true, maps: "CN", pattern: "([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}", maxLength: 64 },
      dnsNames: { label: { en: "All host names, separated by spaces", lo: "ຊື່ໂດເມນທັງໝົດ (ແຍກດ້ວຍຍະຫວ່າງ)" }, required: true, maps: "san.dns", maxLength: 2000 },
      organization: { label: { en: "Organisation", lo: "ອົງກອນ" }, required: true, maps: "O", maxLength: 64 },
      province: { label: { en: "Province", lo: "ແຂວງ" }, required: false, maps: "ST", maxLength: 64 },
      city: { label: { en: "City / district", lo: "ເມືອງ" }, required: false, maps: "L", maxLength: 64 },
      country: { label: { en: "Country", lo: "ປະເທດ" }, required: true, maps: "C", fixed: "LA" },
    },
    evidence: [{ type: "domain-authorisation", label: { en: "Domain authorisation letter", lo: "ໜັງສືອະນຸຍາດໃຊ້ໂດເມນ" }, required: false }],
  },
  smime: {
    label: { en: "S/MIME certificate (government mailbox)", lo: "ໃບຢັ້ງຢືນອີເມວ S/MIME" },
    fields: {
      fullName: { label: { en: "Full name", lo: "ຊື່ ແລະ ນາມສະກຸນ" }, required: true, maps: "CN", maxLength: 64 },
      email: { label: { en: "Mailbox", lo: "ອີເມວ" }, required: true, maps: "san.email", pattern: "[^@\\s]+@[^@\\s]+\\.[a-z]{2,}", maxLength: 128 },
      organization: { label: { en: "Ministry or organisation", lo: "ກະຊວງ / ອົງການ" }, required: true, maps: "O", maxLength: 64 },
      department: { label: { en: "Department", lo: "ກົມ / ພະແນກ" }, required: false, maps: "OU", maxLength: 64 },
      country: { label: { en: "Country", lo: "ປະເທດ" }, required: true, maps: "C", fixed: "LA" },
    },
    evidence: [{ type: "sponsor-letter", label: { en: "Sponsor's letter", lo: "ໜັງສືຮັບຮອງ" }, required: false }],
  },
  "operator-client": {
    label: { en: "Operator client certificate (trusted role)", lo: "ໃບຢັ້ງຢືນຜູ້ປະຕິບັດງານ (ບົດບາດທີ່ໄວ້ວາງໃຈ)" },
    fields: {
      fullName: { label: { en: "Full name", lo: "ຊື່ ແລະ ນາມສະກຸນ" }, required: true, maps: "CN", maxLength: 64 },
      organization: { label: { en: "Organisation", lo: "ອົງກອນ" }, required: true, maps: "O", maxLength: 64 },
      role: { label: { en: "Trusted role", lo: "ບົດບາດ" }, required: true, maps: "OU", pattern: "vetting-officer|vetting-approver|vetting-manager|ra-operator" },
      country: { label: { en: "Country", lo: "ປະເທດ" }, required: true, maps: "C", fixed: "LA" },
    },
    evidence: [{ type: "appointment-letter", label: { en: "Appointment to the trusted role", lo: "ໜັງສືແຕ່ງຕັ້ງບົດບາດ" }, required: true }],
  },
};

/** The RA's kinds for `profiles`: CP_RA_KINDS with each profile's name and key algorithms. */
export function raKinds(profiles: Profiles): Record<string, RaKindInput> {
  return Object.fromEntries(
    Object.entries(CP_RA_KINDS)
      .filter(([name]) => profiles[name])
      .map(([name, k]) => [name, { ...k, profile: name, allowedKeyAlgorithms: [...profiles[name].allowedKeyAlgorithms] }]),
  );
}
