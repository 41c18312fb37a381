/**
 * The ceremony runner (the thin shell around x509.ts / lint.ts): parse the file strictly, check
 * every input exists and no output does, take the transcript files, rebuild the activation
 * secret from the custodians' shares, open the HSM, then lint → sign → verify, write each output
 * with flag `wx`, and have OpenSSL (through zx, arguments only through `${}`) show and verify
 * what was produced. Every step is shown on screen and recorded in the transcript.
 */
import "reflect-metadata";
import { accessSync, constants, existsSync, openSync, readFileSync, writeSync, closeSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AuthorityKeyIdentifier, BasicConstraints, Certificate, CertificatePolicies, ExtendedKeyUsage, KeyUsage, KeyUsageFlags, Name, SubjectKeyIdentifier } from "@peculiar/asn1-x509";
import type { Pkcs11Signer, Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import { ALGORITHMS } from "@lanic-ca/pki-services/pkcs11/index";
import { KEY_ALGORITHMS } from "@lanic-ca/pki-services/config/schema";
import { $ } from "zx";
import pc from "picocolors";
import { initUserPin, openToken } from "./hsm.js";
import { keyAlgorithmOf, lintTbsCertificate, lintTbsCrl, type CertKind, type IssuerFacts } from "./lint.js";
import { Prompter, type PromptStreams } from "./prompt.js";
import { collectShares, formatShare, generateSecret, loadRegister, makeRegister, secretToPin, shareFingerprint, splitSecret } from "./quorum.js";
import { CeremonyFileError, LIMITS, isOffline, loadCeremonyFile, type CeremonyFile, type Subject } from "./schema.js";
import { Transcript } from "./transcript.js";
import {
  EKU,
  OID,
  assembleSigned,
  buildCsrInfo,
  buildTbsCertificate,
  buildTbsCrl,
  encodeName,
  fromPem,
  keyIdentifier,
  pem,
  randomSerial,
  readCsr,
  readTbsCertificate,
  sha256Hex,
  signatureHash,
  splitSigned,
  spkiSha256,
  verifySignature,
  type CertificateTemplate,
  type EkuName,
} from "./x509.js";

const DAY = 86_400_000;

export class CeremonyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CeremonyError";
  }
}

export interface RunOptions {
  /** The ceremony YAML file. */
  readonly file: string;
  /** Where shares and PINs are typed. @default process.stdin */
  readonly input?: PromptStreams["input"];
  /** The custodians' screen. @default process.stderr */
  readonly output?: NodeJS.WritableStream;
  /** People present besides the custodians (recorded in the transcript), e.g. "ia-operator:Name". */
  readonly participants?: readonly { role: string; name: string }[];
  /** Restrict to one type (the `ceremony split` subcommand accepts only quorum-split). */
  readonly expectType?: CeremonyFile["type"];
  readonly now?: () => Date;
}

export interface RunResult {
  readonly type: CeremonyFile["type"];
  readonly status: "succeeded";
  readonly transcript: { json: string; md: string };
  /** Hash of the transcript's last entry (write it in the paper log). */
  readonly head: string;
  /** Output name → absolute path. */
  readonly outputs: Record<string, string>;
  /** SPKI SHA-256 of the key generated or used. */
  readonly spkiSha256?: string;
}

/** Writes `data` to a new file; refuses an existing one (open flag wx). */
export function writeExclusive(path: string, data: string | Uint8Array, mode = 0o644): void {
  const fd = openSync(path, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
  } finally {
    closeSync(fd);
  }
}

const truncSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

interface CertInfo {
  readonly der: Buffer;
  readonly tbs: Buffer;
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly spki: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectKeyId?: Buffer;
  readonly cert: Certificate;
}

function readCertificate(path: string): CertInfo {
  const der = fromPem(readFileSync(path), "CERTIFICATE");
  const { tbs } = splitSigned(der);
  const f = readTbsCertificate(tbs);
  const cert = AsnConvert.parse(der, Certificate);
  const skiExt = cert.tbsCertificate.extensions?.find((e) => e.extnID === "2.5.29.14");
  return {
    der,
    tbs,
    subject: f.subject,
    issuer: f.issuer,
    spki: f.spki,
    notBefore: cert.tbsCertificate.validity.notBefore.getTime(),
    notAfter: cert.tbsCertificate.validity.notAfter.getTime(),
    subjectKeyId: skiExt ? Buffer.from(AsnConvert.parse(skiExt.extnValue, SubjectKeyIdentifier).buffer) : undefined,
    cert,
  };
}

function issuerFacts(c: CertInfo, signer: Pkcs11Signer): IssuerFacts {
  if (!signer.spki.equals(c.spki))
    throw new CeremonyError(
      `the HSM key "${signer.label}" (SPKI SHA-256 ${spkiSha256(signer.spki)}) is not the key of the issuer certificate (SPKI SHA-256 ${spkiSha256(c.spki)})`,
    );
  return { subject: c.subject, notAfter: c.notAfter, subjectKeyId: c.subjectKeyId ?? keyIdentifier(c.spki), signatureAlgorithm: signer.signatureAlgorithm };
}

function nameValues(der: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const short: Record<string, string> = { "2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN" };
  for (const rdn of AsnConvert.parse(Buffer.from(der), Name)) for (const a of rdn) out[short[a.type] ?? a.type] = a.value.toString();
  return out;
}

const sameSubject = (der: Uint8Array, s: Subject) => {
  const v = nameValues(der);
  return v.C === s.C && v.O === s.O && v.CN === s.CN && v.OU === s.OU && Object.keys(v).length === Object.keys(s).filter((k) => (s as Record<string, unknown>)[k] !== undefined).length;
};

const ekuOids = (names: readonly EkuName[]) => names.map((n) => EKU[n]);

export async function runCeremony(options: RunOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const output = options.output ?? process.stderr;
  const file = options.file;
  const say = (t: string) => output.write(`${t}\n`);

  // 1. The file, strictly. Nothing else happens if it is wrong.
  const c = loadCeremonyFile(file);
  if (options.expectType && c.type !== options.expectType)
    throw new CeremonyFileError(file, [{ path: "type", message: `'${c.type}' cannot be run by this command; expected '${options.expectType}'` }]);
  const dir = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));

  // 2. Inputs readable, outputs absent — before any HSM is touched.
  const inputs: Record<string, string> = {};
  const addIn = (k: string, p: string | undefined) => p && (inputs[k] = abs(p));
  if ("inputs" in c) for (const [k, v] of Object.entries(c.inputs)) addIn(`inputs.${k}`, v as string | undefined);
  if (isOffline(c) && !(c.type === "quorum-split" && c.mode === "initialise")) {
    addIn("quorum.register", c.type === "quorum-split" ? c.previousRegister : c.quorum.register);
  }
  for (const [k, p] of Object.entries(inputs)) {
    try {
      accessSync(p, constants.R_OK);
    } catch {
      throw new CeremonyFileError(file, [{ path: k, message: `input ${p} does not exist or is not readable` }]);
    }
  }
  const outputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.outputs)) if (k !== "transcript") outputs[k] = abs(v);
  if (c.type === "quorum-split") outputs.register = abs(c.quorum.register);
  const transcriptBase = abs(c.outputs.transcript);
  const claims = [...Object.entries(outputs).map(([k, p]) => [k === "register" ? "quorum.register" : `outputs.${k}`, p]), ["outputs.transcript", `${transcriptBase}.json`], ["outputs.transcript", `${transcriptBase}.md`]];
  for (const [k, p] of claims)
    if (existsSync(p)) throw new CeremonyFileError(file, [{ path: k, message: `${p} already exists; a ceremony never overwrites a file (outputs are created with flag wx)` }]);

  // 3. The transcript.
  const t = new Transcript({ output, now });
  t.claim(transcriptBase);
  const prompter = new Prompter({ input: options.input ?? process.stdin, output });
  let token: Pkcs11Token | undefined;
  say(pc.bold(`\nCeremony ${c.type} — environment ${c.environment}`));
  say(pc.dim(c.description));
  t.add("begin", `${c.type} ceremony for ${c.environment}`, {
    type: c.type,
    environment: c.environment,
    description: c.description,
    file: resolve(file),
    fileSha256: sha256Hex(readFileSync(file)),
    hsm: c.hsm,
    tool: "lanic-ca ceremony",
    node: process.version,
  });
  for (const p of options.participants ?? []) t.add("participant", `${p.name} (${p.role})`, { role: p.role, name: p.name });
  const result: { outputs: Record<string, string>; spkiSha256?: string } = { outputs };

  try {
    for (const [k, p] of Object.entries(inputs)) t.add("input", `${k}: ${p}`, { name: k, path: p, sha256: sha256Hex(readFileSync(p)) });

    // 4. Quorum (offline) or partition PIN (online).
    let pin: string | undefined;
    if (isOffline(c) && c.type !== "quorum-split") {
      const regPath = inputs["quorum.register"];
      const register = await t.step(`Reading the share register (${c.quorum.threshold} of ${c.quorum.custodians.length} custodians)`, () =>
        loadRegister(regPath, { environment: c.environment, tokenLabel: c.hsm.tokenLabel, quorum: c.quorum }),
      );
      const { secret } = await t.step(`Collecting ${register.threshold} custodians' shares`, () => collectShares(prompter, register, regPath, t));
      pin = secretToPin(secret);
      secret.fill(0);
    } else if (!isOffline(c)) {
      pin = await prompter.secret(`PIN of HSM token "${c.hsm.tokenLabel}" (typing is hidden): `);
      if (!pin) throw new CeremonyError("no PIN entered");
    }

    const openHsm = async () => {
      token = await t.step(`Opening HSM token "${c.hsm.tokenLabel}"`, () => openToken(c.hsm, pin!));
      return token;
    };
    const show = async (path: string, kind: "x509" | "crl" | "req") => {
      const r = await $({ quiet: true, nothrow: true })`openssl ${kind} -in ${path} -noout -subject -issuer ${kind === "req" ? "-verify" : kind === "crl" ? "-lastupdate" : "-dates"}`;
      say(pc.dim(r.stdout.trim().replace(/^/gm, "    ")));
    };
    const opensslVerify = (cafile: string, certPath: string) =>
      t.step(`OpenSSL verifies the chain`, async () => {
        const r = await $({ quiet: true, nothrow: true })`openssl verify -x509_strict -CAfile ${cafile} ${certPath}`;
        t.add("check", "openssl verify", { command: ["openssl", "verify", "-x509_strict", "-CAfile", cafile, certPath], exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() });
        if (r.exitCode !== 0) throw new CeremonyError(`openssl verify failed: ${(r.stdout + r.stderr).trim()}`);
      });
    const writeOut = async (name: string, data: string | Uint8Array, kind?: "x509" | "crl" | "req") => {
      const p = outputs[name];
      writeExclusive(p, data);
      t.add("output", `${name}: ${p}`, { name, path: p, sha256: sha256Hex(readFileSync(p)) });
      say(`    ${pc.green("wrote")} ${p}`);
      if (kind) await show(p, kind);
    };
    /** lint → sign → verify (TBS bytes equal), for a certificate. */
    const issue = async (tmpl: CertificateTemplate, signer: Pkcs11Signer, issuerSpki: Buffer, kind: CertKind, issuer: IssuerFacts, pathLength: number | undefined, allowedKeys: readonly string[]) => {
      const tbs = buildTbsCertificate(tmpl);
      await t.step("Linting the to-be-signed certificate", () =>
        lintTbsCertificate(tbs, { kind, signingTime: signingTimeFor(tmpl.notBefore), issuer, pathLength, allowedKeys }),
      );
      const sig = await t.step(`Signing with HSM key "${signer.label}"`, () => signer.sign(tbs));
      const der = assembleSigned(tbs, signer.signatureAlgorithm, sig);
      await t.step("Verifying the signature and that the signed TBS is the linted TBS", () => {
        const back = splitSigned(der);
        if (!back.tbs.equals(tbs)) throw new CeremonyError("the signed certificate's TBS differs from the linted TBS");
        if (!back.signatureAlgorithm.equals(Buffer.from(tmpl.signatureAlgorithm))) throw new CeremonyError("outer signatureAlgorithm differs from the TBS's (RFC 5280 4.1.1.2)");
        if (!verifySignature(back.tbs, back.signatureAlgorithm, back.signature, issuerSpki)) throw new CeremonyError("the signature does not verify with the issuer's public key");
      });
      const subj = readTbsCertificate(tbs);
      t.add("certificate", `certificate ${nameValues(subj.subject).CN} (serial ${subj.serial.toString("hex")})`, {
        subject: nameValues(subj.subject),
        issuer: nameValues(subj.issuer),
        serial: subj.serial.toString("hex"),
        notBefore: tmpl.notBefore.toISOString(),
        notAfter: tmpl.notAfter.toISOString(),
        spkiSha256: spkiSha256(subj.spki),
        sha256: sha256Hex(der),
        pem: pem("CERTIFICATE", der),
      });
      return der;
    };
    // The signing time is "now"; for an explicit notBefore the lint window is checked against now.
    let signingNow = truncSeconds(now());
    const signingTimeFor = (_nb: Date) => signingNow;
    const notBeforeOf = (v: string) => (v === "signing-time" ? (signingNow = truncSeconds(now())) : new Date(v));
    const validity = (nb: Date, days: number) => new Date(nb.getTime() + days * DAY - 1000); // inclusive: exactly `days` days (BR 1.6.4)
    const signerFor = async (tok: Pkcs11Token, label: string, algorithm: (typeof KEY_ALGORITHMS)[number]) => {
      const s = await t.step(`Finding key "${label}" (${algorithm})`, () => tok.signer(label, algorithm));
      t.add("key", `key ${label}: SPKI SHA-256 ${spkiSha256(s.spki)}`, { label, algorithm, token: c.hsm.tokenLabel, spkiSha256: spkiSha256(s.spki) });
      say(`    SPKI SHA-256 ${pc.bold(spkiSha256(s.spki))}`);
      result.spkiSha256 = spkiSha256(s.spki);
      return s;
    };
    const subjectKey = (inp: { csr?: string; publicKey?: string }, expectedSubject: Subject | undefined, expectedAlg: string) =>
      t.step("Reading the subject's key", () => {
        let spki: Buffer;
        if (inp.csr) {
          const csr = readCsr(fromPem(readFileSync(abs(inp.csr)), "CERTIFICATE REQUEST"));
          if (!csr.signatureValid) throw new CeremonyError(`the CSR ${abs(inp.csr)} is not signed by its own key (no proof of possession, RFC 2986 3)`);
          if (expectedSubject && !sameSubject(csr.subject, expectedSubject))
            throw new CeremonyError(`the CSR's subject ${JSON.stringify(nameValues(csr.subject))} differs from the ceremony file's ${JSON.stringify(expectedSubject)}`);
          spki = csr.spki;
        } else spki = fromPem(readFileSync(abs(inp.publicKey!)), "PUBLIC KEY");
        const alg = keyAlgorithmOf(spki);
        if (alg !== expectedAlg) throw new CeremonyError(`the subject key is ${alg}, but the ceremony file says ${expectedAlg}`);
        t.add("key", `subject key: SPKI SHA-256 ${spkiSha256(spki)}`, { algorithm: alg, spkiSha256: spkiSha256(spki) });
        say(`    subject SPKI SHA-256 ${pc.bold(spkiSha256(spki))}`);
        return spki;
      });

    switch (c.type) {
      case "quorum-split": {
        let secret: Buffer;
        if (c.mode === "initialise") {
          const soPin = await prompter.secret(`Security officer PIN of token "${c.hsm.tokenLabel}" (typing is hidden): `);
          if (!soPin) throw new CeremonyError("no security officer PIN entered");
          secret = generateSecret();
          await t.step("Setting a new random activation secret as the token's user PIN (C_InitPIN)", () => initUserPin(c.hsm, soPin, secretToPin(secret)));
        } else {
          const prev = inputs["quorum.register"];
          const old = await t.step("Reading the current share register", () => loadRegister(prev, { environment: c.environment, tokenLabel: c.hsm.tokenLabel }));
          ({ secret } = await t.step(`Collecting ${old.threshold} current custodians' shares`, () => collectShares(prompter, old, prev, t)));
        }
        // The secret opens the token: proves it before anyone walks away with shares of it.
        pin = secretToPin(secret);
        const tok = await openHsm();
        tok.close();
        token = undefined;
        const shares = await t.step(`Splitting the secret: ${c.quorum.threshold} of ${c.quorum.custodians.length} (Shamir, shamir-secret-sharing)`, () =>
          splitSecret(secret, c.quorum.custodians, c.quorum.threshold),
        );
        const register = makeRegister(c.environment, c.hsm.tokenLabel, c.quorum.threshold, c.quorum.custodians, shares, secret, now());
        secret.fill(0);
        for (const [i, cu] of c.quorum.custodians.entries()) {
          await prompter.ask(`\nCustodian ${cu.id} (${cu.name}): alone at the screen, press Enter to see your share `);
          say(`\n    ${pc.bold(formatShare(c.environment, cu.id, shares[i]))}\n`);
          await prompter.ask("Copy it onto your share card, check it, then press Enter to clear the screen ");
          prompter.clearScreen();
          t.add("participant", `custodian ${cu.id} (${cu.name}) received a share`, { role: "key-custodian", custodian: cu.id, name: cu.name, shareSha256: shareFingerprint(shares[i]) });
          shares[i].fill(0);
        }
        await writeOut("register", `${JSON.stringify(register, null, 2)}\n`);
        break;
      }
      case "root-key": {
        const tok = await openHsm();
        const k = await t.step(`Generating ${c.key.algorithm} key pair "${c.key.label}" in the HSM`, () => tok.generateKeyPair(c.key.label, c.key.algorithm));
        const a = await tok.keyAttributes(c.key.label);
        if (!a.sensitive || a.extractable || !a.token) throw new CeremonyError(`key "${c.key.label}" is not a sensitive, non-extractable token object`);
        t.add("key", `root key ${c.key.label}: SPKI SHA-256 ${spkiSha256(k.spki)}`, { label: c.key.label, algorithm: c.key.algorithm, token: c.hsm.tokenLabel, spkiSha256: spkiSha256(k.spki), attributes: a });
        say(`    SPKI SHA-256 ${pc.bold(spkiSha256(k.spki))}`);
        result.spkiSha256 = spkiSha256(k.spki);
        await writeOut("publicKey", pem("PUBLIC KEY", k.spki));
        break;
      }
      case "root-certificate": {
        const tok = await openHsm();
        const signer = await signerFor(tok, c.key.label, c.key.algorithm);
        const expected = fromPem(readFileSync(inputs["inputs.publicKey"]), "PUBLIC KEY");
        if (!expected.equals(signer.spki))
          throw new CeremonyError(`the HSM key "${c.key.label}" (SPKI SHA-256 ${spkiSha256(signer.spki)}) is not the public key in inputs.publicKey (SPKI SHA-256 ${spkiSha256(expected)})`);
        const name = encodeName(c.certificate.subject);
        const ski = keyIdentifier(signer.spki);
        const nb = notBeforeOf(c.certificate.notBefore);
        const na = validity(nb, c.certificate.validityDays);
        const tmpl: CertificateTemplate = {
          serial: randomSerial(), signatureAlgorithm: signer.signatureAlgorithm, issuer: name, subject: name, notBefore: nb, notAfter: na,
          spki: signer.spki, ca: {}, keyUsage: ["keyCertSign", "cRLSign"], subjectKeyId: ski, authorityKeyId: ski,
        };
        const self: IssuerFacts = { subject: name, notAfter: na, subjectKeyId: ski, signatureAlgorithm: signer.signatureAlgorithm };
        const der = await issue(tmpl, signer, signer.spki, "root", self, undefined, LIMITS.rootKeyAlgorithms);
        await writeOut("certificate", pem("CERTIFICATE", der), "x509");
        await opensslVerify(outputs.certificate, outputs.certificate);
        break;
      }
      case "intermediate":
      case "ocsp-signer": {
        const issuerCert = readCertificate(inputs["inputs.issuerCertificate"]);
        const spki = await subjectKey(c.inputs, c.certificate.subject, c.certificate.keyAlgorithm);
        const tok = await openHsm();
        const signer = await signerFor(tok, c.issuerKey.label, c.issuerKey.algorithm);
        const facts = issuerFacts(issuerCert, signer);
        const nb = notBeforeOf(c.certificate.notBefore);
        const common = {
          serial: randomSerial(), signatureAlgorithm: signer.signatureAlgorithm, issuer: issuerCert.subject, subject: encodeName(c.certificate.subject),
          notBefore: nb, notAfter: validity(nb, c.certificate.validityDays), spki, subjectKeyId: keyIdentifier(spki), authorityKeyId: facts.subjectKeyId,
          issuerUrl: c.certificate.issuerUrl,
        };
        const der =
          c.type === "intermediate"
            ? await issue(
                { ...common, ca: { pathLength: c.certificate.pathLength }, keyUsage: ["keyCertSign", "cRLSign"], extendedKeyUsage: ekuOids(c.certificate.extendedKeyUsage),
                  policies: c.certificate.policies, crlUrl: c.certificate.crlUrl, ocspUrl: c.certificate.ocspUrl },
                signer, signer.spki, "subordinate", facts, c.certificate.pathLength, LIMITS.subordinateKeyAlgorithms,
              )
            : await issue(
                { ...common, ca: null, keyUsage: ["digitalSignature"], extendedKeyUsage: [EKU.ocspSigning], ocspNoCheck: true },
                signer, signer.spki, "ocsp-signer", facts, undefined, KEY_ALGORITHMS,
              );
        await writeOut("certificate", pem("CERTIFICATE", der), "x509");
        await opensslVerify(inputs["inputs.issuerCertificate"], outputs.certificate);
        break;
      }
      case "cross-certificate": {
        const issuerCert = readCertificate(inputs["inputs.issuerCertificate"]);
        const subjectCert = readCertificate(inputs["inputs.subjectCertificate"]);
        t.add("key", `cross-certified key: SPKI SHA-256 ${spkiSha256(subjectCert.spki)}`, { subject: nameValues(subjectCert.subject), spkiSha256: spkiSha256(subjectCert.spki) });
        const tok = await openHsm();
        const signer = await signerFor(tok, c.issuerKey.label, c.issuerKey.algorithm);
        const facts = issuerFacts(issuerCert, signer);
        const nb = notBeforeOf(c.certificate.notBefore);
        const tmpl: CertificateTemplate = {
          serial: randomSerial(), signatureAlgorithm: signer.signatureAlgorithm, issuer: issuerCert.subject,
          // BR 7.1.2.2: the same subject and subjectPublicKeyInfo as the existing certificate;
          // its subjectKeyIdentifier too, so that paths build through either certificate.
          subject: subjectCert.subject, spki: subjectCert.spki, subjectKeyId: subjectCert.subjectKeyId ?? keyIdentifier(subjectCert.spki),
          notBefore: nb, notAfter: validity(nb, c.certificate.validityDays), ca: { pathLength: c.certificate.pathLength },
          keyUsage: ["keyCertSign", "cRLSign"], extendedKeyUsage: ekuOids(c.certificate.extendedKeyUsage), authorityKeyId: facts.subjectKeyId,
          policies: c.certificate.policies, crlUrl: c.certificate.crlUrl, issuerUrl: c.certificate.issuerUrl,
        };
        const der = await issue(tmpl, signer, signer.spki, "cross", facts, c.certificate.pathLength, [...new Set([...LIMITS.rootKeyAlgorithms, ...LIMITS.subordinateKeyAlgorithms])]);
        await writeOut("certificate", pem("CERTIFICATE", der), "x509");
        await opensslVerify(inputs["inputs.issuerCertificate"], outputs.certificate);
        break;
      }
      case "ca-crl": {
        const issuerCert = readCertificate(inputs["inputs.issuerCertificate"]);
        const tok = await openHsm();
        const signer = await signerFor(tok, c.issuerKey.label, c.issuerKey.algorithm);
        const facts = issuerFacts(issuerCert, signer);
        const thisUpdate = notBeforeOf(c.crl.thisUpdate);
        const tbs = buildTbsCrl({
          signatureAlgorithm: signer.signatureAlgorithm, issuer: issuerCert.subject, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + c.crl.nextUpdateDays * DAY),
          number: BigInt(c.crl.number), authorityKeyId: facts.subjectKeyId,
          revoked: c.crl.revoked.map((r) => ({ serial: Buffer.from(r.serial.length % 2 ? `0${r.serial}` : r.serial, "hex"), date: new Date(r.revocationDate), reason: r.reason })),
        });
        await t.step("Linting the to-be-signed CRL", () => lintTbsCrl(tbs, { signingTime: signingNow, issuer: facts }));
        const sig = await t.step(`Signing with HSM key "${signer.label}"`, () => signer.sign(tbs));
        const der = assembleSigned(tbs, signer.signatureAlgorithm, sig);
        await t.step("Verifying the signature and that the signed TBS is the linted TBS", () => {
          const back = splitSigned(der);
          if (!back.tbs.equals(tbs)) throw new CeremonyError("the signed CRL's TBS differs from the linted TBS");
          if (!verifySignature(back.tbs, back.signatureAlgorithm, back.signature, issuerCert.spki)) throw new CeremonyError("the CRL signature does not verify with the issuer's public key");
        });
        t.add("crl", `CRL number ${c.crl.number}, ${c.crl.revoked.length} revoked`, {
          number: c.crl.number, thisUpdate: thisUpdate.toISOString(), nextUpdateDays: c.crl.nextUpdateDays, revoked: c.crl.revoked, sha256: sha256Hex(der), pem: pem("X509 CRL", der),
        });
        await writeOut("crl", pem("X509 CRL", der), "crl");
        await t.step("OpenSSL verifies the CRL signature", async () => {
          const r = await $({ quiet: true, nothrow: true })`openssl crl -in ${outputs.crl} -CAfile ${inputs["inputs.issuerCertificate"]} -noout`;
          t.add("check", "openssl crl -CAfile", { exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() });
          if (r.exitCode !== 0 || !/verify OK/.test(r.stderr + r.stdout)) throw new CeremonyError(`openssl crl failed: ${(r.stdout + r.stderr).trim()}`);
        });
        break;
      }
      case "issuing-ca-key":
      case "ocsp-signer-key":
      case "external-csr": {
        const tok = await openHsm();
        if (c.key.generate) await t.step(`Generating ${c.key.algorithm} key pair "${c.key.label}" in the HSM`, () => tok.generateKeyPair(c.key.label, c.key.algorithm));
        const signer = await signerFor(tok, c.key.label, c.key.algorithm);
        const info = buildCsrInfo(encodeName(c.csr.subject), signer.spki);
        const sig = await t.step(`Signing the CSR with HSM key "${signer.label}"`, () => signer.sign(info));
        const der = assembleSigned(info, signer.signatureAlgorithm, sig);
        await t.step("Verifying the CSR's signature", () => {
          if (!splitSigned(der).tbs.equals(info) || !readCsr(der).signatureValid) throw new CeremonyError("the CSR does not verify");
        });
        t.add("csr", `CSR for ${c.csr.subject.CN}`, { subject: c.csr.subject, spkiSha256: spkiSha256(signer.spki), sha256: sha256Hex(der), pem: pem("CERTIFICATE REQUEST", der) });
        await writeOut("publicKey", pem("PUBLIC KEY", signer.spki));
        await writeOut("csr", pem("CERTIFICATE REQUEST", der), "req");
        break;
      }
      case "external-certificate-import": {
        const cert = readCertificate(inputs["inputs.certificate"]);
        const issuerCert = readCertificate(inputs["inputs.issuerCertificate"]);
        await t.step("Checking the external root's certificate", () => {
          const fp = sha256Hex(issuerCert.der);
          if (fp !== c.externalRoot.certificateSha256)
            throw new CeremonyError(`the issuer certificate's SHA-256 ${fp} is not the external root's ${c.externalRoot.certificateSha256} (environment rootOfTrust.certificateSha256)`);
          if (!sameSubject(issuerCert.subject, c.externalRoot.subject)) throw new CeremonyError(`the issuer certificate's subject ${JSON.stringify(nameValues(issuerCert.subject))} is not the external root's`);
        });
        const tok = await openHsm();
        const signer = await signerFor(tok, c.key.label, c.key.algorithm);
        await t.step("Checking the returned certificate against our HSM key and our profile", () => {
          const p = importProblems(cert, issuerCert, signer.spki, c.expect, now());
          if (p.length > 0) throw new CeremonyError(`the returned certificate is refused:\n${p.map((x) => `  - ${x}`).join("\n")}`);
        });
        t.add("certificate", `imported certificate ${nameValues(cert.subject).CN}`, { subject: nameValues(cert.subject), issuer: nameValues(cert.issuer), spkiSha256: spkiSha256(cert.spki), sha256: sha256Hex(cert.der), pem: pem("CERTIFICATE", cert.der) });
        // OpenSSL checks the returned certificate (and the external root, -x509_strict) before it
        // is written as ours: a refused import leaves no certificate behind.
        await opensslVerify(inputs["inputs.issuerCertificate"], inputs["inputs.certificate"]);
        await writeOut("certificate", pem("CERTIFICATE", cert.der), "x509");
        break;
      }
    }
    token?.close();
    token = undefined;
    const head = t.finish("succeeded", { outputs });
    say(`\n${pc.green(pc.bold("Ceremony succeeded."))} Transcript ${t.files!.md}`);
    say(`Last transcript hash (write it in the paper log): ${pc.bold(head)}\n`);
    return { type: c.type, status: "succeeded", transcript: t.files!, head, outputs: result.outputs, spkiSha256: result.spkiSha256 };
  } catch (err) {
    token?.close();
    const head = t.finish("failed", { error: (err as Error).message });
    say(`\n${pc.red(pc.bold("Ceremony failed:"))} ${(err as Error).message}`);
    say(`Transcript ${t.files!.md}, last hash ${head}\n`);
    throw err;
  } finally {
    prompter.close();
  }
}

/** Checks of a certificate returned by an external CA for our issuing CA (pilot). */
export function importProblems(
  cert: CertInfo,
  issuer: CertInfo,
  hsmSpki: Buffer,
  expect: { subject: Subject; maxValidityDays: number; pathLength: number; policies: string[] },
  at: Date,
): string[] {
  const p: string[] = [];
  const { tbs, signatureAlgorithm, signature } = splitSigned(cert.der);
  if (!cert.issuer.equals(issuer.subject)) p.push("its issuer is not the external root's subject (RFC 5280 4.1.2.4)");
  let hashAllowed = true;
  try {
    signatureHash(signatureAlgorithm);
  } catch {
    hashAllowed = false;
    p.push(`its signature algorithm (${signatureAlgorithm.toString("hex")}) is not one BR 7.1.3.2 allows`);
  }
  if (hashAllowed && !verifySignature(tbs, signatureAlgorithm, signature, issuer.spki)) p.push("it is not signed by the external root's key");
  if (!cert.spki.equals(hsmSpki)) p.push(`its public key (SPKI SHA-256 ${spkiSha256(cert.spki)}) is not our HSM key (SPKI SHA-256 ${spkiSha256(hsmSpki)})`);
  if (!sameSubject(cert.subject, expect.subject)) p.push(`its subject ${JSON.stringify(nameValues(cert.subject))} is not ${JSON.stringify(expect.subject)}`);
  const days = (cert.notAfter.getTime() - cert.notBefore.getTime() + 1000) / DAY;
  if (days > expect.maxValidityDays) p.push(`its validity of ${Math.round(days)} days is more than ${expect.maxValidityDays} (CP/CPS 6.3.2)`);
  if (at < cert.notBefore || at > cert.notAfter) p.push("it is not valid now");
  if (cert.notAfter > issuer.notAfter) p.push("it outlives the external root (CP/CPS 6.3.2)");
  const exts = cert.cert.tbsCertificate.extensions ?? [];
  const bc = exts.find((e) => e.extnID === "2.5.29.19");
  const bcv = bc ? AsnConvert.parse(bc.extnValue, BasicConstraints) : undefined;
  if (!bc?.critical || !bcv?.cA) p.push("basicConstraints must be critical with cA TRUE (BR 7.1.2.10.4)");
  else if (bcv.pathLenConstraint !== expect.pathLength) p.push(`pathLenConstraint must be ${expect.pathLength}, found ${bcv.pathLenConstraint ?? "none"} (CP/CPS 7.1.2)`);
  const ku = exts.find((e) => e.extnID === "2.5.29.15");
  const kuv = ku ? AsnConvert.parse(ku.extnValue, KeyUsage).toNumber() : 0;
  if (ku && !ku.critical) p.push("keyUsage must be critical (BR 7.1.2.10.7)");
  if (!(kuv & KeyUsageFlags.keyCertSign) || !(kuv & KeyUsageFlags.cRLSign)) p.push("keyUsage must assert keyCertSign and cRLSign (BR 7.1.2.10.7)");
  const eku = exts.find((e) => e.extnID === OID.extKeyUsage);
  const ekus = eku ? (AsnConvert.parse(eku.extnValue, ExtendedKeyUsage) as unknown as string[]).map(String) : [];
  if (ekus.includes(OID.anyExtendedKeyUsage) || ekus.includes(EKU.ocspSigning))
    p.push("extKeyUsage of a CA must not contain anyExtendedKeyUsage or id-kp-OCSPSigning (BR 7.1.2.10.6)");
  const cp = exts.find((e) => e.extnID === "2.5.29.32");
  const pols = cp ? AsnConvert.parse(cp.extnValue, CertificatePolicies).map((x) => x.policyIdentifier) : [];
  for (const o of expect.policies) if (!pols.includes(o)) p.push(`certificatePolicies must contain our CP/CPS policy ${o} (BR 7.1.2.10.5)`);
  const aki = exts.find((e) => e.extnID === "2.5.29.35");
  if (aki && issuer.subjectKeyId && !Buffer.from(AsnConvert.parse(aki.extnValue, AuthorityKeyIdentifier).keyIdentifier?.buffer ?? new ArrayBuffer(0)).equals(issuer.subjectKeyId))
    p.push("its authorityKeyIdentifier is not the external root's subjectKeyIdentifier (RFC 5280 4.2.1.1)");
  void ALGORITHMS;
  return p;
}
