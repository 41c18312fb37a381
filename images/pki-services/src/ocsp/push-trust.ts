/**
 * What the public responder checks before it serves a pushed response (RFC 6960 4.2.2.2,
 * BR 4.9.9): the responder holds no key and no database, so a response is served only when it
 * is a well-formed, successful basic response for one certificate of a CA this responder
 * serves, signed by that CA or by a delegated responder certificate the CA issued (id-kp-
 * OCSPSigning, valid now), and when the client that pushed it is bound to that CA
 * (`ocsp-signer-<ca>` signs for `<ca>` only). Nothing else reaches the cache.
 */
import { createHash, verify as verifySignature, X509Certificate, type KeyObject } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { children, content, DerError, expectTag, oidToString, raw, readTlv, TAG, type Tlv } from "../pki/der.js";
import { issuerHashes, OID, publicKeyBits, type CertIdHash } from "./protocol.js";

/** Hash of each signature algorithm a CA of this project signs with (RFC 5758 3.2, RFC 4055 5). */
const SIGNATURE_HASH: Record<string, "sha256" | "sha384" | "sha512"> = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
const HASH_BY_OID: Record<string, CertIdHash> = { [OID.sha1]: "sha1", [OID.sha256]: "sha256" };
/** BR 4.9.9: an OCSP response is valid for at most 10 days. */
const MAX_VALIDITY_MS = 10 * 24 * 3_600_000;
/** Clock difference tolerated between the signer and the responder. */
const SKEW_MS = 5 * 60_000;

export class PushRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PushRejected";
  }
}

export interface VerifiedResponse {
  /** Cache key: hash ‖ issuer hashes ‖ serial (protocol.ts cacheKey). */
  readonly key: string;
  readonly ca: string;
  readonly serial: string;
  readonly status: "good" | "revoked";
  readonly thisUpdate: number;
  readonly nextUpdate: number;
}

interface Ca {
  readonly name: string;
  readonly cert: X509Certificate;
  readonly subjectDer: Buffer;
  readonly keyHash: Buffer;
  readonly hashes: Record<CertIdHash, { nameHash: string; keyHash: string }>;
}

function parseTime(buf: Buffer, t: Tlv, what: string): number {
  const s = buf.toString("latin1", t.contentStart, t.end);
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  if (t.tag !== TAG.GeneralizedTime || !m) throw new DerError(`${what} is not a GeneralizedTime in seconds, Zulu (RFC 6960 4.2.2.1)`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/** The subject Name DER of a certificate (TBSCertificate field 6, or 5 without version). */
function subjectDer(der: Buffer): Buffer {
  const tbs = children(der, children(der, readTlv(der, 0))[0]);
  return raw(der, tbs[tbs[0].tag === 0xa0 ? 5 : 4]);
}

const spkiKeyHash = (k: KeyObject): Buffer =>
  createHash("sha1")
    .update(publicKeyBits(k.export({ type: "spki", format: "der" })))
    .digest();

export class OcspPushTrust {
  private readonly cas = new Map<string, Ca>();
  private readonly byCertId = new Map<string, Ca>();
  /** Delegated responder certificates already checked: DER hex SHA-256 → key, CA, expiry. */
  private readonly delegated = new Map<string, { key: KeyObject; ca: string; keyHash: Buffer; notBefore: number; notAfter: number }>();

  /**
   * @param cas the CA certificates (DER or PEM) this responder serves, by CA name.
   * @param bindings client CN → the CA names it may sign for. @default `ocsp-signer-<ca>` → [`<ca>`]
   */
  constructor(
    cas: Readonly<Record<string, Buffer>>,
    private readonly bindings: ReadonlyMap<string, readonly string[]> = new Map(Object.keys(cas).map((n) => [`ocsp-signer-${n}`, [n]])),
  ) {
    for (const [name, bytes] of Object.entries(cas)) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(bytes);
      } catch (err) {
        throw new Error(`the CA certificate of "${name}" cannot be read: ${(err as Error).message}`);
      }
      if (!cert.ca) throw new Error(`the certificate given for CA "${name}" (${cert.subject.replace(/\n/g, ", ")}) is not a CA certificate (basicConstraints cA)`);
      const der = cert.raw;
      const subject = subjectDer(der);
      const spki = cert.publicKey.export({ type: "spki", format: "der" });
      const ca: Ca = {
        name,
        cert,
        subjectDer: subject,
        keyHash: spkiKeyHash(cert.publicKey),
        hashes: Object.fromEntries(
          (["sha1", "sha256"] as const).map((h) => {
            const x = issuerHashes(h, subject, spki);
            return [h, { nameHash: x.nameHash.toString("hex"), keyHash: x.keyHash.toString("hex") }];
          }),
        ) as Ca["hashes"],
      };
      this.cas.set(name, ca);
      for (const h of ["sha1", "sha256"] as const) this.byCertId.set(`${h}:${ca.hashes[h].nameHash}:${ca.hashes[h].keyHash}`, ca);
    }
    for (const [cn, names] of this.bindings) {
      for (const n of names) if (!this.cas.has(n)) throw new Error(`signer "${cn}" is bound to CA "${n}", whose certificate is not given (known: ${[...this.cas.keys()].join(", ") || "none"})`);
    }
  }

  /** The CA certificates of a mounted folder: `<ca-name>.pem|.crt|.der`, one per CA. */
  static fromDir(dir: string, bindings?: ReadonlyMap<string, readonly string[]>): OcspPushTrust {
    let names: string[];
    try {
      names = readdirSync(dir).filter((f) => /\.(pem|crt|der)$/.test(f));
    } catch (err) {
      throw new Error(`the CA certificates folder ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!names.length) throw new Error(`the CA certificates folder ${dir} holds no <ca-name>.pem: the responder would accept no push`);
    const cas: Record<string, Buffer> = {};
    for (const f of names.sort()) {
      const name = basename(f).replace(/\.(pem|crt|der)$/, "");
      if (Object.hasOwn(cas, name)) throw new Error(`${dir}: two certificates for CA "${name}"`);
      cas[name] = readFileSync(join(dir, f));
    }
    try {
      return new OcspPushTrust(cas, bindings);
    } catch (err) {
      throw new Error(`${dir}: ${(err as Error).message}`);
    }
  }

  get caNames(): string[] {
    return [...this.cas.keys()];
  }

  /** The CA names `caller` may sign for. */
  allowedFor(caller: string): readonly string[] {
    return this.bindings.get(caller) ?? [];
  }

  /** Checks one pushed OCSPResponse (DER); throws {@link PushRejected} naming what is wrong. */
  verify(der: Buffer, caller: string, now = Date.now()): VerifiedResponse {
    try {
      return this.check(der, caller, now);
    } catch (err) {
      if (err instanceof PushRejected) throw err;
      throw new PushRejected(`malformed OCSPResponse: ${(err as Error).message}`);
    }
  }

  private check(der: Buffer, caller: string, now: number): VerifiedResponse {
    const top = expectTag(readTlv(der, 0), TAG.SEQUENCE, "OCSPResponse");
    if (top.end !== der.length) throw new DerError("trailing bytes after OCSPResponse");
    const [statusT, bytesT, ...more] = children(der, top);
    if (statusT?.tag !== 0x0a || statusT.end - statusT.contentStart !== 1) throw new DerError("responseStatus missing");
    if (der[statusT.contentStart] !== 0) throw new PushRejected(`responseStatus ${der[statusT.contentStart]} is not successful: only signed responses are pushed`);
    if (bytesT?.tag !== 0xa0 || more.length) throw new DerError("responseBytes missing");
    const rb = children(der, expectTag(children(der, bytesT)[0] ?? fail("ResponseBytes empty"), TAG.SEQUENCE, "ResponseBytes"));
    if (rb.length !== 2 || oidToString(content(der, expectTag(rb[0], TAG.OID, "responseType"))) !== OID.basic) throw new PushRejected("responseType is not id-pkix-ocsp-basic");
    const basic = content(der, expectTag(rb[1], TAG.OCTET_STRING, "response"));
    const bt = expectTag(readTlv(basic, 0), TAG.SEQUENCE, "BasicOCSPResponse");
    if (bt.end !== basic.length) throw new DerError("trailing bytes after BasicOCSPResponse");
    const [tbsT, algT, sigT, certsT, ...extra] = children(basic, bt);
    if (!tbsT || !algT || !sigT || extra.length) throw new DerError("BasicOCSPResponse has 3 or 4 fields");
    expectTag(tbsT, TAG.SEQUENCE, "tbsResponseData");
    const algOid = oidToString(content(basic, expectTag(children(basic, expectTag(algT, TAG.SEQUENCE, "signatureAlgorithm"))[0] ?? fail("signatureAlgorithm empty"), TAG.OID, "signatureAlgorithm")));
    const hash = SIGNATURE_HASH[algOid];
    if (!hash) throw new PushRejected(`signature algorithm ${algOid} is not one this CA uses (BR 7.1.3.2)`);
    const sigBits = content(basic, expectTag(sigT, TAG.BIT_STRING, "signature"));
    if (sigBits[0] !== 0) throw new DerError("signature BIT STRING has unused bits");

    // ResponseData (RFC 6960 4.2.1)
    const tbs = children(basic, tbsT);
    let i = 0;
    if (tbs[i]?.tag === 0xa0) {
      const v = children(basic, tbs[i++])[0];
      if (!v || v.tag !== TAG.INTEGER || v.end - v.contentStart !== 1 || basic[v.contentStart] !== 0) throw new DerError("only version v1 (0) is defined");
    }
    const rid = tbs[i++] ?? fail("responderID missing");
    parseTime(basic, tbs[i++] ?? fail("producedAt missing"), "producedAt");
    const responses = children(basic, expectTag(tbs[i++] ?? fail("responses missing"), TAG.SEQUENCE, "responses"));
    if (tbs[i]?.tag === 0xa1) i++;
    if (i !== tbs.length) throw new DerError("unexpected field in ResponseData");
    if (responses.length !== 1) throw new PushRejected(`a pre-signed response holds exactly one SingleResponse, not ${responses.length}`);

    const single = children(basic, expectTag(responses[0], TAG.SEQUENCE, "SingleResponse"));
    const certId = children(basic, expectTag(single[0] ?? fail("certID missing"), TAG.SEQUENCE, "CertID"));
    if (certId.length !== 4) throw new DerError("CertID has 4 fields");
    const idHash = HASH_BY_OID[oidToString(content(basic, expectTag(children(basic, expectTag(certId[0], TAG.SEQUENCE, "hashAlgorithm"))[0] ?? fail("hash OID missing"), TAG.OID, "hashAlgorithm")))];
    if (!idHash) throw new PushRejected("CertID hash algorithm is neither SHA-1 nor SHA-256");
    const nameHash = content(basic, expectTag(certId[1], TAG.OCTET_STRING, "issuerNameHash")).toString("hex");
    const keyHash = content(basic, expectTag(certId[2], TAG.OCTET_STRING, "issuerKeyHash")).toString("hex");
    const ca = this.byCertId.get(`${idHash}:${nameHash}:${keyHash}`);
    if (!ca) throw new PushRejected(`its CertID names no CA this responder serves (${this.caNames.join(", ")})`);
    if (!this.allowedFor(caller).includes(ca.name)) {
      throw new PushRejected(`"${caller}" may not push responses for CA "${ca.name}" (it signs for: ${this.allowedFor(caller).join(", ") || "no CA"})`);
    }
    const serialT = expectTag(certId[3], TAG.INTEGER, "serialNumber");
    let s = serialT.contentStart;
    if (serialT.end === s) throw new DerError("empty serialNumber");
    if (basic[s] & 0x80) throw new PushRejected("negative serialNumber (RFC 5280 4.1.2.2)");
    if (serialT.end - s > 1 && basic[s] === 0 && !(basic[s + 1] & 0x80)) throw new DerError("non-minimal serialNumber");
    while (s < serialT.end - 1 && basic[s] === 0) s++;
    if (serialT.end - s > 20) throw new PushRejected("serialNumber longer than 20 octets (RFC 5280 4.1.2.2)");
    if (serialT.end - s === 1 && basic[s] === 0) throw new PushRejected("serialNumber 0 is never issued (RFC 5280 4.1.2.2)");
    const serial = basic.toString("hex", s, serialT.end);

    const certStatus = single[1] ?? fail("certStatus missing");
    const status = certStatus.tag === 0x80 ? "good" : certStatus.tag === 0xa1 ? "revoked" : undefined;
    if (!status) throw new PushRejected("certStatus is neither good nor revoked (this CA never pre-signs unknown, ADR 0051)");
    const thisUpdate = parseTime(basic, single[2] ?? fail("thisUpdate missing"), "thisUpdate");
    const nextT = single[3];
    if (nextT?.tag !== 0xa0) throw new PushRejected("nextUpdate missing (BR 4.9.9 / RFC 5019 2.2.4)");
    const nextUpdate = parseTime(basic, children(basic, nextT)[0] ?? fail("nextUpdate empty"), "nextUpdate");
    if (thisUpdate > now + SKEW_MS) throw new PushRejected(`thisUpdate ${new Date(thisUpdate).toISOString()} is in the future`);
    if (nextUpdate <= now) throw new PushRejected(`nextUpdate ${new Date(nextUpdate).toISOString()} has passed`);
    if (nextUpdate - thisUpdate > MAX_VALIDITY_MS) throw new PushRejected("validity longer than 10 days (BR 4.9.9)");

    // the signer: the CA itself, or a delegated responder certificate it issued (RFC 6960 4.2.2.2)
    const signerKey = this.signerKey(basic, rid, certsT, ca, now);
    const ok = verifySignature(hash, raw(basic, tbsT), signerKey, sigBits.subarray(1));
    if (!ok) throw new PushRejected("its signature does not verify with the responder key");
    return { key: `${idHash}:${nameHash}:${keyHash}:${serial}`, ca: ca.name, serial, status, thisUpdate, nextUpdate };
  }

  private signerKey(basic: Buffer, rid: Tlv, certsT: Tlv | undefined, ca: Ca, now: number): KeyObject {
    let byKey: Buffer | undefined;
    let byName: Buffer | undefined;
    if (rid.tag === 0xa2) byKey = content(basic, expectTag(children(basic, rid)[0] ?? fail("byKey empty"), TAG.OCTET_STRING, "byKey"));
    else if (rid.tag === 0xa1) byName = raw(basic, children(basic, rid)[0] ?? fail("byName empty"));
    else throw new DerError("responderID is neither byName nor byKey");
    if (byKey?.equals(ca.keyHash) || byName?.equals(ca.subjectDer)) return ca.cert.publicKey;
    if (!certsT) throw new PushRejected("it is signed by a delegated responder but carries no responder certificate (RFC 6960 4.2.2.2)");
    if (certsT.tag !== 0xa0) throw new DerError("certs is not [0]");
    const list = children(basic, expectTag(children(basic, certsT)[0] ?? fail("certs empty"), TAG.SEQUENCE, "certs"));
    for (const c of list) {
      const d = this.delegatedCert(raw(basic, c), ca, now);
      if (byKey?.equals(d.keyHash) || byName?.equals(subjectDer(raw(basic, c)))) return d.key;
    }
    throw new PushRejected("no certificate in the response matches its responderID");
  }

  private delegatedCert(der: Buffer, ca: Ca, now: number): { key: KeyObject; keyHash: Buffer } {
    const id = createHash("sha256").update(der).digest("hex");
    let d = this.delegated.get(id);
    if (!d) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(der);
      } catch (err) {
        throw new PushRejected(`its responder certificate cannot be read: ${(err as Error).message}`);
      }
      if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) throw new PushRejected(`its responder certificate (${cert.subject.replace(/\n/g, ", ")}) is not issued by CA "${ca.name}"`);
      if (!(cert.keyUsage ?? []).includes(OCSP_SIGNING)) throw new PushRejected("its responder certificate lacks the id-kp-OCSPSigning extended key usage (RFC 6960 4.2.2.2)");
      d = { key: cert.publicKey, ca: ca.name, keyHash: spkiKeyHash(cert.publicKey), notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
      this.delegated.set(id, d);
    }
    if (d.ca !== ca.name) throw new PushRejected(`its responder certificate is issued by CA "${d.ca}", not "${ca.name}"`);
    if (now < d.notBefore || now > d.notAfter) throw new PushRejected(`its responder certificate is not valid now (${new Date(d.notBefore).toISOString()} to ${new Date(d.notAfter).toISOString()})`);
    return d;
  }
}

function fail(m: string): never {
  throw new DerError(m);
}
