/**
 * Who is calling the RA backend (ADR 0060). Every connection is mTLS. The peer is either
 *   - an RA frontend (its CN in `frontendClients`): it terminated the human's TLS connection and
 *     forwards the operator's verified client certificate in the RFC 9440 `Client-Cert` header,
 *     which the backend verifies again against the operator CA; without that header the caller is
 *     an applicant (anonymous, authorised per application by its access token or enrollment code);
 *   - an operator or a government system calling directly with its own client certificate.
 * An operator's trusted roles are the OU values of its operator-client certificate that name an
 * RA role (NCSSR 2.2: roles from the credential, checked against what each action needs).
 */
import "reflect-metadata";
import { X509Certificate as NodeX509 } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { ROLES, type Role } from "./states.js";

export interface Actor {
  /** What the audit log records as the actor: the person's subject DN without the role OUs, so a
   *  person holding two certificates (two roles) is one identity for the four-eyes rule. */
  readonly id: string;
  readonly kind: "operator" | "applicant" | "system";
  readonly roles: ReadonlySet<Role>;
  /** Serial of the operator certificate (hex). */
  readonly certSerial?: string;
  /** The frontend that forwarded the request, when one did. */
  readonly via?: string;
}

export const APPLICANT_ID = "applicant";
export const applicantActor = (via?: string): Actor => ({ id: APPLICANT_ID, kind: "applicant", roles: new Set(), via });
export const SYSTEM_ACTOR: Actor = { id: "system:ra", kind: "system", roles: new Set() };

export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

const EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const RDN_SHORT: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.5": "serialNumber",
  "2.5.4.12": "title",
  "1.2.840.113549.1.9.1": "E",
};

/** RFC 4514 escaping of one attribute value. */
const escapeDn = (v: string): string =>
  v
    .replace(/[\\,+"<>;=]/g, "\\$&")
    .replace(/^[ #]/, "\\$&")
    .replace(/ $/, "\\ ");

/** Splits PEM text holding one or more certificates into DER. */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
}

/**
 * The operator a certificate names, with its roles. `trustAnchors`: when given, the certificate
 * must be issued by one of them and valid now (a forwarded certificate); a TLS peer's chain was
 * already verified by the handshake.
 */
export function operatorFromCertificate(der: Buffer, o: { policyOid?: string; trustAnchors?: readonly Buffer[]; via?: string; now?: Date }): Actor {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der);
  } catch (err) {
    throw new AuthError(401, `the client certificate cannot be read: ${(err as Error).message}`);
  }
  if (o.trustAnchors) {
    const node = new NodeX509(der);
    const now = o.now ?? new Date();
    const anchor = o.trustAnchors.map((a) => new NodeX509(a)).find((a) => node.checkIssued(a) && node.verify(a.publicKey));
    if (!anchor) throw new AuthError(401, `the forwarded client certificate (${node.subject.replace(/\n/g, ", ")}) is not issued by the operator CA`);
    if (now < new Date(node.validFrom) || now > new Date(node.validTo)) throw new AuthError(401, `the forwarded client certificate is not valid now (${node.validFrom} to ${node.validTo})`);
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku?.usages.map(String).includes(EKU_CLIENT_AUTH)) throw new AuthError(403, "the client certificate has no clientAuth extended key usage");
  if (o.policyOid) {
    const pol = cert.getExtension(x509.CertificatePolicyExtension);
    if (!pol?.policies.includes(o.policyOid)) throw new AuthError(403, `the client certificate is not an operator-client certificate (certificatePolicies lacks ${o.policyOid})`);
  }
  const rdns = cert.subjectName.toJSON();
  const roles = new Set<Role>();
  const parts: string[] = [];
  for (const rdn of rdns) {
    for (const [type, values] of Object.entries(rdn)) {
      const short = RDN_SHORT[type] ?? type;
      for (const v of values) {
        if (short === "OU" && (ROLES as readonly string[]).includes(v)) roles.add(v as Role);
        else parts.push(`${short}=${escapeDn(v)}`);
      }
    }
  }
  return { id: parts.join(","), kind: "operator", roles, certSerial: cert.serialNumber.toLowerCase(), via: o.via };
}

/** RFC 9440 Client-Cert: the DER certificate as a byte sequence `:base64:`. */
export function parseClientCertHeader(v: string): Buffer {
  const m = /^:([A-Za-z0-9+/=]+):$/.exec(v.trim());
  if (!m) throw new AuthError(401, "the Client-Cert header is not an RFC 9440 byte sequence (:base64:)");
  return Buffer.from(m[1], "base64");
}

export const clientCertHeader = (der: Buffer): string => `:${der.toString("base64")}:`;

export function requireRole(actor: Actor, roles: readonly Role[], what: string): void {
  if (actor.kind !== "operator") throw new AuthError(401, `${what} needs an operator client certificate with the role ${roles.join(" or ")}`);
  if (!roles.some((r) => actor.roles.has(r))) {
    throw new AuthError(403, `${actor.id} may not ${what}: it needs the role ${roles.join(" or ")} (its certificate gives: ${[...actor.roles].join(", ") || "none"})`);
  }
}
