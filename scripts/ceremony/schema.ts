/**
 * One declarative YAML file per ceremony (after Boulder's cmd/ceremony), parsed strictly: an
 * unknown key, a missing field or a bad value, and every CP limit (policy/cp-limits.ts, the
 * module the policy checks read), stop the ceremony before anything touches an HSM, with an
 * error naming the file and the field path.
 *
 * Limits are enforced here, on the file, with the section they serve; the linter (lint.ts)
 * enforces them again on the bytes about to be signed.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { EKU_OIDS, KeyAlgorithm } from "@lanic-ca/pki-services/config/schema";
import { formatPath, zodProblems } from "../../environments/load.js";
import { CP_LIMITS } from "../../policy/cp-limits.js";
import { CEREMONY_TYPES } from "./types.js";
import { LineCounter, parseDocument } from "yaml";

// Limits: policy/cp-limits.ts (CP_LIMITS), the one place the policy checks read them too.

/** BR 7.1.2.10.6: key purposes a CA certificate that asserts serverAuth MUST NOT carry. */
export const EKU_FORBIDDEN_WITH_SERVER_AUTH = ["codeSigning", "emailProtection", "timeStamping", "ocspSigning"] as const;

// ---------------------------------------------------------------- building blocks
const Name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lower-case DNS label (a-z, 0-9, '-')")
  .max(40);
/** A file path, relative to the ceremony file's directory. */
const FilePath = z
  .string()
  .min(1)
  .regex(/^[^\0]+$/, "a file path");
const HttpUrl = z.url().regex(/^http:\/\//, "an http:// URL (BR 7.1.2.10.3, RFC 5280 4.2.1.13: no TLS loop)");
const Oid = z.string().regex(/^[0-2](\.(0|[1-9][0-9]*))+$/, "an OID in dotted form");
const NotBefore = z.union([z.literal("signing-time"), z.iso.datetime()]);
const Days = z.number().int().positive();

export const Subject = z.strictObject({
  CN: z.string().min(1).max(64),
  O: z.string().min(1).max(64),
  C: z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code, e.g. LA"),
  OU: z.string().min(1).max(64).optional(),
});
export type Subject = z.infer<typeof Subject>;

export const Hsm = z.strictObject({
  /** Path of the PKCS#11 library. */
  library: z.string().startsWith("/", "an absolute path"),
  /** CKA token label of the slot holding the key. */
  tokenLabel: z.string().min(1).max(32),
});
export type Hsm = z.infer<typeof Hsm>;

export const KeyRef = z.strictObject({
  /** CKA_LABEL of the key pair. */
  label: z.string().min(1).max(64),
  algorithm: KeyAlgorithm,
});
export type KeyRef = z.infer<typeof KeyRef>;

export const Custodian = z.strictObject({ id: Name, name: z.string().min(1) });
export type Custodian = z.infer<typeof Custodian>;

export const Quorum = z.strictObject({
  /** M: shares needed to open the offline HSM. */
  threshold: z.number().int(),
  /** N: the custodians holding one share each. */
  custodians: z.array(Custodian).min(1),
  /** Share register (public: fingerprints only) written by `ceremony split`. */
  register: FilePath,
});
export type Quorum = z.infer<typeof Quorum>;

/** Extended key usages a ceremony file names, with their OIDs (RFC 5280 4.2.1.12, BR 7.1.2.10.6):
 *  the profiles' (config/schema.ts) and codeSigning, which a CA certificate may name but no profile issues. */
export const EKU = { ...EKU_OIDS, codeSigning: "1.3.6.1.5.5.7.3.3" } as const;
export type EkuName = keyof typeof EKU;
export const ekuOids = (names: readonly EkuName[]): string[] => names.map((n) => EKU[n]);
const EkuName = z.enum(["serverAuth", "clientAuth", "emailProtection", "documentSigning", "codeSigning", "timeStamping", "ocspSigning"]);

const base = {
  /** The environment this ceremony belongs to (environments/<name>.ts). */
  environment: Name,
  description: z.string().min(1),
  hsm: Hsm,
};
const transcript = { transcript: FilePath };

// ---------------------------------------------------------------- ceremony types
export const QuorumSplit = z.strictObject({
  type: z.literal("quorum-split"),
  ...base,
  quorum: Quorum,
  /** initialise: generate a new activation secret and set it as the token's user PIN (SO login).
   *  reshare: rebuild the current secret from M shares and split it for a new set of custodians;
   *  the PIN and the keys are unchanged. */
  mode: z.enum(["initialise", "reshare"]),
  /** The current share register (reshare only). */
  previousRegister: FilePath.optional(),
  outputs: z.strictObject({ ...transcript }),
});

/** A key generated for backup: `CKA_EXTRACTABLE` and `CKA_WRAP_WITH_TRUSTED`, so it can leave
 *  the HSM only wrapped under a trusted key (ADR 0081, 0082). Omitted: never extractable. */
const Backup = { backup: z.boolean().optional() };

export const RootKey = z.strictObject({
  type: z.literal("root-key"),
  ...base,
  quorum: Quorum,
  key: KeyRef.extend(Backup),
  outputs: z.strictObject({ publicKey: FilePath, ...transcript }),
});

export const RootCertificate = z.strictObject({
  type: z.literal("root-certificate"),
  ...base,
  quorum: Quorum,
  key: KeyRef,
  inputs: z.strictObject({
    /** The public key output by the root-key ceremony: the HSM key must be this one. */
    publicKey: FilePath,
  }),
  certificate: z.strictObject({
    subject: Subject,
    notBefore: NotBefore,
    validityDays: Days,
  }),
  outputs: z.strictObject({ certificate: FilePath, ...transcript }),
});

const SubjectKeyInput = z.strictObject({
  issuerCertificate: FilePath,
  /** A CSR (its self-signature is checked) or a bare public key, made in the online HSM. */
  csr: FilePath.optional(),
  publicKey: FilePath.optional(),
});

export const Intermediate = z.strictObject({
  type: z.literal("intermediate"),
  ...base,
  quorum: Quorum,
  issuerKey: KeyRef,
  inputs: SubjectKeyInput,
  certificate: z.strictObject({
    subject: Subject,
    /** The subject key's algorithm, checked against the CSR / public key. */
    keyAlgorithm: KeyAlgorithm,
    notBefore: NotBefore,
    validityDays: Days,
    pathLength: z.number().int().min(0),
    extendedKeyUsage: z.array(EkuName),
    policies: z.array(Oid).min(1),
    crlUrl: HttpUrl,
    issuerUrl: HttpUrl,
    ocspUrl: HttpUrl.optional(),
  }),
  outputs: z.strictObject({ certificate: FilePath, ...transcript }),
});

export const CrossCertificate = z.strictObject({
  type: z.literal("cross-certificate"),
  ...base,
  quorum: Quorum,
  issuerKey: KeyRef,
  inputs: z.strictObject({
    issuerCertificate: FilePath,
    /** The existing CA certificate whose subject and key are cross-certified (BR 7.1.2.2). */
    subjectCertificate: FilePath,
  }),
  certificate: z.strictObject({
    notBefore: NotBefore,
    validityDays: Days,
    /** Omit for a root being cross-certified (BR 7.1.2.1.4: not recommended on roots). */
    pathLength: z.number().int().min(0).optional(),
    extendedKeyUsage: z.array(EkuName),
    policies: z.array(Oid).min(1),
    crlUrl: HttpUrl,
    issuerUrl: HttpUrl,
  }),
  outputs: z.strictObject({ certificate: FilePath, ...transcript }),
});

export const CaCrl = z.strictObject({
  type: z.literal("ca-crl"),
  ...base,
  quorum: Quorum,
  issuerKey: KeyRef,
  inputs: z.strictObject({ issuerCertificate: FilePath }),
  crl: z.strictObject({
    /** cRLNumber (RFC 5280 5.2.3): strictly greater than the last one published. */
    number: z.number().int().positive(),
    thisUpdate: NotBefore,
    nextUpdateDays: Days,
    revoked: z
      .array(
        z.strictObject({
          serial: z.string().regex(/^[0-9a-f]+$/, "the serial in lower-case hex"),
          revocationDate: z.iso.datetime(),
          reason: z.enum(["unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation"]),
        }),
      )
      .default([]),
  }),
  outputs: z.strictObject({ crl: FilePath, ...transcript }),
});

const OnlineKeyCsr = {
  ...base,
  /** The key, in the online HSM partition. `generate: true` makes it (refusing an existing label). */
  key: z.strictObject({ label: z.string().min(1).max(64), algorithm: KeyAlgorithm, generate: z.boolean(), ...Backup }),
  csr: z.strictObject({ subject: Subject }),
  outputs: z.strictObject({ publicKey: FilePath, csr: FilePath, ...transcript }),
};

/** The issuing CA's key pair and CSR, in the online HSM (input of `intermediate`). */
export const IssuingCaKey = z.strictObject({ type: z.literal("issuing-ca-key"), ...OnlineKeyCsr });
/** Pilot: the issuing CA's key pair and CSR for an external root. */
export const ExternalCsr = z.strictObject({ type: z.literal("external-csr"), ...OnlineKeyCsr });

/** Pilot: import of the certificate the external root returned, checked against our HSM key
 *  and our profile. */
export const ExternalCertificateImport = z.strictObject({
  type: z.literal("external-certificate-import"),
  ...base,
  key: KeyRef,
  externalRoot: z.strictObject({
    subject: Subject,
    certificateSha256: z.string().regex(/^[a-f0-9]{64}$/, "64 lower-case hex digits"),
  }),
  inputs: z.strictObject({
    certificate: FilePath,
    /** The external issuer's certificate (the root, or the external intermediate above us). */
    issuerCertificate: FilePath,
  }),
  expect: z.strictObject({
    subject: Subject,
    maxValidityDays: Days,
    pathLength: z.number().int().min(0),
    /** Policy OIDs the certificate must carry (our CP/CPS's). */
    policies: z.array(Oid).min(1),
  }),
  outputs: z.strictObject({ certificate: FilePath, ...transcript }),
});

/** The custodians among whom a key backup's wrapping key is split, M of N (ADR 0082). */
export const WrappingCustodians = z.strictObject({
  threshold: z.number().int(),
  members: z.array(Custodian).min(1),
});
export type WrappingCustodians = z.infer<typeof WrappingCustodians>;

/** Key backup (ADR 0081, 0082): a CA key marked for backup, wrapped under a fresh trusted AES
 *  key that exists afterwards only as the custodians' shares. `quorum` present: the token is the
 *  offline HSM, opened by the custodians' activation shares; absent: an online partition, its
 *  PIN typed. */
export const KeyBackup = z.strictObject({
  type: z.literal("key-backup"),
  ...base,
  quorum: Quorum.optional(),
  key: KeyRef,
  custodians: WrappingCustodians,
  /** Where the copies of the backup media are kept (BR 5.7.1.1 (11): at least one off site). */
  copies: z.array(z.strictObject({ id: Name, location: z.string().min(1) })).min(1),
  outputs: z.strictObject({ media: FilePath, mediaRegister: FilePath, ...transcript }),
});

/** Key restore (ADR 0082): the key from backup media, unwrapped into a token that does not hold
 *  its label, with M of the wrapping key's custodians. */
export const KeyRestore = z.strictObject({
  type: z.literal("key-restore"),
  ...base,
  quorum: Quorum.optional(),
  /** The key expected in the media (label and algorithm are checked against it). */
  key: KeyRef,
  inputs: z.strictObject({ media: FilePath }),
  outputs: z.strictObject({ publicKey: FilePath, ...transcript }),
});

export const CeremonyFile = z.discriminatedUnion("type", [QuorumSplit, RootKey, RootCertificate, Intermediate, CrossCertificate, CaCrl, IssuingCaKey, ExternalCsr, ExternalCertificateImport, KeyBackup, KeyRestore]);
export type CeremonyFile = z.infer<typeof CeremonyFile>;
export type CeremonyType = CeremonyFile["type"];
export type QuorumSplit = z.infer<typeof QuorumSplit>;
export type RootKey = z.infer<typeof RootKey>;
export type RootCertificate = z.infer<typeof RootCertificate>;
export type Intermediate = z.infer<typeof Intermediate>;
export type CrossCertificate = z.infer<typeof CrossCertificate>;
export type CaCrl = z.infer<typeof CaCrl>;
export type IssuingCaKey = z.infer<typeof IssuingCaKey>;
export type ExternalCsr = z.infer<typeof ExternalCsr>;
export type ExternalCertificateImport = z.infer<typeof ExternalCertificateImport>;
export type KeyBackup = z.infer<typeof KeyBackup>;
export type KeyRestore = z.infer<typeof KeyRestore>;
export { CEREMONY_TYPES };

/** Ceremonies that open the offline HSM, and so need the custodians' quorum. */
export type OfflineCeremony = Extract<CeremonyFile, { quorum: Quorum }> | ((KeyBackup | KeyRestore) & { quorum: Quorum });
export const isOffline = (c: CeremonyFile): c is OfflineCeremony => "quorum" in c && c.quorum !== undefined;

// ---------------------------------------------------------------- limits
type Problem = { path: (string | number)[]; message: string };

export function limitProblems(c: CeremonyFile): Problem[] {
  const out: Problem[] = [];
  const oneOf = (path: (string | number)[], value: string, allowed: readonly string[], what: string, cite: string) => {
    if (!allowed.includes(value)) out.push({ path, message: `${value} is not allowed for ${what}; allowed: ${allowed.join(", ")} (${cite})` });
  };
  if (isOffline(c)) {
    const q = c.quorum;
    if (q.threshold < CP_LIMITS.custodianMinQuorum)
      out.push({ path: ["quorum", "threshold"], message: `${q.threshold} is below ${CP_LIMITS.custodianMinQuorum}: the offline HSM needs multi-person control (BR 5.2.2, 6.2.2)` });
    if (q.threshold > q.custodians.length) out.push({ path: ["quorum", "threshold"], message: `${q.threshold} is more than the ${q.custodians.length} custodians` });
    const ids = q.custodians.map((m) => m.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) out.push({ path: ["quorum", "custodians", i, "id"], message: `custodian '${id}' is listed twice` });
    });
  }
  const rootKeyCite = "CP/CPS 6.1.5, BR 6.1.5, MRSP 5.1";
  switch (c.type) {
    case "quorum-split":
      if (c.mode === "reshare" && !c.previousRegister) out.push({ path: ["previousRegister"], message: "required when mode is 'reshare' (the current share register)" });
      if (c.mode === "initialise" && c.previousRegister) out.push({ path: ["previousRegister"], message: "only allowed when mode is 'reshare'" });
      break;
    case "root-key":
      oneOf(["key", "algorithm"], c.key.algorithm, CP_LIMITS.rootKeyAlgorithms, "a root key", rootKeyCite);
      break;
    case "root-certificate": {
      oneOf(["key", "algorithm"], c.key.algorithm, CP_LIMITS.rootKeyAlgorithms, "a root key", rootKeyCite);
      const d = c.certificate.validityDays;
      const { min, max } = CP_LIMITS.rootValidityDays;
      if (d > max) out.push({ path: ["certificate", "validityDays"], message: `${d} days is more than ${max}, the maximum for a root certificate (BR 7.1.2.1.1)` });
      if (d < min) out.push({ path: ["certificate", "validityDays"], message: `${d} days is less than ${min}, the minimum for a root certificate (BR 7.1.2.1.1)` });
      break;
    }
    case "intermediate":
    case "cross-certificate":
    case "ca-crl":
      oneOf(["issuerKey", "algorithm"], c.issuerKey.algorithm, CP_LIMITS.rootKeyAlgorithms, "the offline root's key", rootKeyCite);
      break;
  }
  if (c.type === "intermediate") {
    const n = [c.inputs.csr, c.inputs.publicKey].filter(Boolean).length;
    if (n !== 1) out.push({ path: ["inputs"], message: `exactly one of 'csr' or 'publicKey' is required (found ${n})` });
  }
  if (c.type === "intermediate" || c.type === "cross-certificate") {
    const d = c.certificate.validityDays;
    if (d > CP_LIMITS.subordinateMaxValidityDays)
      out.push({ path: ["certificate", "validityDays"], message: `${d} days is more than ${CP_LIMITS.subordinateMaxValidityDays}, the maximum for a subordinate CA certificate (CP/CPS 6.3.2)` });
    const ekus = c.certificate.extendedKeyUsage;
    ekus.forEach((e, i) => {
      // A non-TLS CA that certifies its own OCSP responder asserts ocspSigning (strict verifiers
      // require the issuer's EKU to cover the responder's, ADR 0070); a TLS CA must not (BR 7.1.2.10.6).
      if (ekus.includes("serverAuth") && (EKU_FORBIDDEN_WITH_SERVER_AUTH as readonly string[]).includes(e))
        out.push({ path: ["certificate", "extendedKeyUsage", i], message: `${e} must not be combined with serverAuth in a CA certificate (BR 7.1.2.10.6)` });
    });
  }
  if (c.type === "intermediate") {
    oneOf(["certificate", "keyAlgorithm"], c.certificate.keyAlgorithm, CP_LIMITS.subordinateKeyAlgorithms, "a subordinate CA key", "CP/CPS 6.1.5, BR 6.1.5, MRSP 5.1");
    if (c.certificate.pathLength !== CP_LIMITS.issuingCaPathLength)
      out.push({ path: ["certificate", "pathLength"], message: `${c.certificate.pathLength} is not allowed: an issuing CA certifies end entities only, pathLength must be 0 (CP/CPS 7.1.2)` });
  }
  if (c.type === "ca-crl" && c.crl.nextUpdateDays > CP_LIMITS.caCrlMaxDays)
    out.push({ path: ["crl", "nextUpdateDays"], message: `${c.crl.nextUpdateDays} days is more than ${CP_LIMITS.caCrlMaxDays}: a CRL of CA certificates is re-issued at least every 12 months (BR 4.9.7)` });
  if (c.type === "key-backup") {
    const w = c.custodians;
    if (w.threshold < CP_LIMITS.custodianMinQuorum)
      out.push({ path: ["custodians", "threshold"], message: `${w.threshold} is below ${CP_LIMITS.custodianMinQuorum}: the wrapping key of a CA key backup needs multi-person control (BR 5.2.2, 6.2.2)` });
    if (w.threshold > w.members.length) out.push({ path: ["custodians", "threshold"], message: `${w.threshold} is more than the ${w.members.length} custodians` });
    const ids = w.members.map((m) => m.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) out.push({ path: ["custodians", "members", i, "id"], message: `custodian '${id}' is listed twice` });
    });
    const copies = c.copies.map((m) => m.id);
    copies.forEach((id, i) => {
      if (copies.indexOf(id) !== i) out.push({ path: ["copies", i, "id"], message: `copy '${id}' is listed twice` });
    });
  }
  if (c.type === "issuing-ca-key" || c.type === "external-csr") oneOf(["key", "algorithm"], c.key.algorithm, CP_LIMITS.subordinateKeyAlgorithms, "a subordinate CA key", "CP/CPS 6.1.5, BR 6.1.5, MRSP 5.1");
  return out;
}

// ---------------------------------------------------------------- parsing
export class CeremonyFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${source}: invalid ceremony file (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  - ${source}: ${p.path}: ${p.message}`).join("\n"));
    this.name = "CeremonyFileError";
  }
}

/** Validates an already-parsed YAML document. */
export function parseCeremony(raw: unknown, source: string): CeremonyFile {
  const result = CeremonyFile.safeParse(raw);
  if (!result.success) {
    throw new CeremonyFileError(source, zodProblems(result.error, raw, `must be one of ${CEREMONY_TYPES.map((t) => JSON.stringify(t)).join(", ")}`));
  }
  const limits = limitProblems(result.data);
  if (limits.length > 0)
    throw new CeremonyFileError(
      source,
      limits.map((p) => ({ path: formatPath(p.path), message: p.message })),
    );
  return result.data;
}

/** Parses YAML text strictly: syntax errors and duplicate keys are refused too. */
export function parseCeremonyText(text: string, source: string): CeremonyFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    throw new CeremonyFileError(
      source,
      doc.errors.map((e) => ({ path: `line ${lineCounter.linePos(e.pos[0]).line}`, message: e.message.split("\n")[0] })),
    );
  }
  return parseCeremony(doc.toJS(), source);
}

export function loadCeremonyFile(path: string): CeremonyFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CeremonyFileError(path, [{ path: "(file)", message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseCeremonyText(text, path);
}
