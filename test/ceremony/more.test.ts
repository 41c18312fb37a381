/**
 * The ceremonies sequence.test.ts does not cover, against SoftHSM with OpenSSL as the
 * independent verifier:
 * - the dev ceremony files exactly as synth renders them, run in their README's order (so the
 *   renderer and the tool cannot drift apart);
 * - an RSA_4096 root (one keygen in its own token) with an intermediate under it;
 * - the cross-certificate template (renderCrossCertificateFile, `ceremony template`), run;
 * - the pilot path: external-csr with the rendered RSA_3072 key, an OpenSSL-made external root
 *   that signs it, the import, and the import's refusals;
 * - the no-echo share prompt on a real pseudo-terminal (util-linux `script`).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { loadEnvironment } from "../../environments/index.js";
import { renderCeremonyFiles, renderCrossCertificateFile } from "../../scripts/ceremony/render.js";
import { parseCeremonyText } from "../../scripts/ceremony/schema.js";
import { verifyTranscript } from "../../scripts/ceremony/transcript.js";
import { CeremonyWorkspace, sharesOnScreen, stripAnsi } from "./helpers.js";

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ws = new CeremonyWorkspace();
const DEV_SO_PIN = "dev-so-pin-1";
const DEV_ONLINE_PIN = "dev-online-pin";
const DEV_ONLINE_SO_PIN = "dev-online-so-pin";
const PILOT_PIN = "pilot-online-pin";
const RSA_ROOT_TOKEN = "rsa-root";
const RSA_SO_PIN = "rsa-so-pin";

const devFiles = renderCeremonyFiles(loadEnvironment("dev"));
const pilotFiles = renderCeremonyFiles(loadEnvironment("pilot"));
const rendered = (files: typeof devFiles, path: string): Doc => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`${path} is not rendered (have ${files.map((x) => x.path).join(", ")})`);
  return parse(f.content) as Doc;
};
// Token labels as the rendered files state them.
const DEV_ROOT_TOKEN = rendered(devFiles, "01-quorum-split.yaml").hsm.tokenLabel as string;
const DEV_ONLINE_TOKEN = rendered(devFiles, "04-dev-ca-1-key.yaml").hsm.tokenLabel as string;
const PILOT_TOKEN = rendered(pilotFiles, "01-lao-gov-pilot-ca-1-external-csr.yaml").hsm.tokenLabel as string;

let devDir: string;
let pilotDir: string;
let devShares: string[] = [];
const devOk = () => expect(devShares.length, "the rendered dev sequence must have run first").toBe(3);

beforeAll(() => {
  ws.setUp(
    [
      { label: DEV_ROOT_TOKEN, pin: "transport-pin", soPin: DEV_SO_PIN },
      { label: DEV_ONLINE_TOKEN, pin: DEV_ONLINE_PIN, soPin: DEV_ONLINE_SO_PIN },
      { label: PILOT_TOKEN, pin: PILOT_PIN },
      { label: RSA_ROOT_TOKEN, pin: "transport-pin", soPin: RSA_SO_PIN },
    ],
    "ceremony-more-",
  );
  devDir = join(ws.dir, "dev");
  pilotDir = join(ws.dir, "pilot");
  mkdirSync(devDir);
  mkdirSync(pilotDir);
});
afterAll(() => ws.tearDown());

const dn = (path: string, which: "subject" | "issuer", cwd: string) =>
  ws
    .openssl(["x509", "-in", path, "-noout", `-${which}`], cwd)
    .trim()
    .replace(/^(subject|issuer)=/, "");

describe("the dev ceremony files, exactly as synth renders them, against SoftHSM", () => {
  it("runs every rendered file in the README's order; OpenSSL verifies the chain and the CA CRL", async () => {
    expect(ws.library, "the dev environment states this PKCS#11 library").toBe(rendered(devFiles, "02-root-key.yaml").hsm.library);
    for (const f of devFiles) writeFileSync(join(devDir, f.path), f.content, { flag: "wx" });
    const readme = readFileSync(join(devDir, "README.md"), "utf8");
    const order = [...readme.matchAll(/`lanic-ca ceremony (?:split )?(\S+\.yaml)`/g)].map((m) => m[1]);
    expect(order).toEqual(devFiles.filter((f) => f.path.endsWith(".yaml")).map((f) => f.path));
    expect(order).toEqual([
      "01-quorum-split.yaml",
      "02-root-key.yaml",
      "03-root-certificate.yaml",
      "04-dev-ca-1-key.yaml",
      "05-dev-ca-1-intermediate.yaml",
      "06-dev-tls-ca-1-key.yaml",
      "07-dev-tls-ca-1-intermediate.yaml",
      "08-ca-crl.yaml",
      "09-dev-root-ca-key-backup.yaml",
      "10-dev-ca-1-key-backup.yaml",
      "11-dev-tls-ca-1-key-backup.yaml",
      // after the loss of an HSM only (test/ceremony/key-backup.test.ts runs a restore)
      "restore-dev-root-ca-key.yaml",
      "restore-dev-ca-1-key.yaml",
      "restore-dev-tls-ca-1-key.yaml",
    ]);
    let k = 0;
    for (const path of order.filter((p) => !p.startsWith("restore-"))) {
      const c = parse(readFileSync(join(devDir, path), "utf8")) as Doc;
      const activation = () => (c.quorum ? [devShares[k % 3], devShares[++k % 3]] : [DEV_ONLINE_PIN]);
      const lines =
        c.type === "quorum-split"
          ? [DEV_SO_PIN, ...c.quorum.custodians.flatMap(() => ["", ""])]
          : c.type === "issuing-ca-key"
            ? [DEV_ONLINE_PIN]
            : c.type === "key-backup"
              ? [...activation(), c.quorum ? DEV_SO_PIN : DEV_ONLINE_SO_PIN, ...c.custodians.members.flatMap(() => ["", ""])]
              : activation();
      const { result, screen } = await ws.runFile(join(devDir, path), lines);
      if (c.type === "quorum-split") devShares = sharesOnScreen(screen, "dev");
      expect(result.status).toBe("succeeded");
      expect(verifyTranscript(result.transcript.json, { markdownPath: result.transcript.md }).problems).toEqual([]);
    }
    expect(devShares.map((s) => s.split(":")[0])).toEqual(["dev/dev-1", "dev/dev-2", "dev/dev-3"]);

    const o = (...args: string[]) => ws.openssl(args, devDir);
    expect(o("verify", "-x509_strict", "-CAfile", "dev-root-ca.crt.pem", "-crl_check", "-CRLfile", "dev-root-ca.crl.pem", "dev-ca-1.crt.pem").trim()).toBe("dev-ca-1.crt.pem: OK");
    expect(dn("dev-root-ca.crt.pem", "subject", devDir)).toBe("C = LA, O = LANIC (development), CN = LANIC CA Dev Root");
    expect(dn("dev-ca-1.crt.pem", "subject", devDir)).toBe("C = LA, O = LANIC (development), CN = LANIC CA Dev Issuing CA 1");
    const text = o("x509", "-in", "dev-ca-1.crt.pem", "-noout", "-text");
    expect(text).toContain("CA:TRUE, pathlen:0");
    expect(text).toContain("Policy: 2.16.418.1.1.1");
    // restricted to its purpose (ADR 0070): the union of its profiles' EKUs, its own responder's included
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, E-mail Protection, 1.3.6.1.4.1.311.10.3.12, Time Stamping, OCSP Signing\n/);
    // the TLS CA: serverAuth only, the reserved policy first, then every policy of its leaves (BR 7.1.2.10.5, 7.1.2.10.6)
    const tls = o("x509", "-in", "dev-tls-ca-1.crt.pem", "-noout", "-text");
    expect(tls).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    expect(tls).toMatch(/Policy: 2\.23\.140\.1\.2\.2\n\s+Policy: 2\.16\.418\.1\.1\.1\n\s+Policy: 2\.16\.418\.1\.1\.2\.3\n/);
    expect(text).toContain("URI:http://repository.dev.ca.lanic.la/crl/dev-root-ca.crl");
    expect(text).toContain("CA Issuers - URI:http://repository.dev.ca.lanic.la/certs/dev-root-ca.der");
    // The certified key is the one generated in the online token by 04.
    expect(ws.opensslSpkiSha256(join(devDir, "dev-ca-1.crt.pem"), "x509")).toBe(ws.opensslSpkiSha256(join(devDir, "dev-ca-1.pub.pem"), "pkey"));
  });
});

describe("an RSA_4096 root in SoftHSM: root key, root certificate, one intermediate; OpenSSL verifies the chain", () => {
  const custodians = [
    { id: "r1", name: "RSA Custodian One" },
    { id: "r2", name: "RSA Custodian Two" },
  ];
  const quorum = { threshold: 2, custodians, register: "rsa-register.json" };
  const hsm = () => ({ library: ws.library, tokenLabel: RSA_ROOT_TOKEN });
  const key = { label: "rsa-root-key", algorithm: "RSA_4096" };
  const o = (...args: string[]) => ws.openssl(args, join(ws.dir, "rsa"));

  it("runs split, root-key (one RSA_4096 keygen), root-certificate and intermediate", async () => {
    mkdirSync(join(ws.dir, "rsa"));
    const { screen } = await ws.run("rsa/split.yaml", [RSA_SO_PIN, "", "", "", ""], {
      type: "quorum-split",
      hsm: hsm(),
      quorum,
      mode: "initialise",
      outputs: { transcript: "split.transcript" },
    });
    const shares = sharesOnScreen(screen, "dev");
    expect(shares.map((x) => x.split(":")[0])).toEqual(["dev/r1", "dev/r2"]);
    const k = await ws.run("rsa/root-key.yaml", shares, { type: "root-key", hsm: hsm(), quorum, key, outputs: { publicKey: "root.pub.pem", transcript: "root-key.transcript" } });
    expect(ws.opensslSpkiSha256(join(ws.dir, "rsa/root.pub.pem"), "pkey")).toBe(k.result.spkiSha256);
    await ws.run("rsa/root-cert.yaml", [shares[1], shares[0]], {
      type: "root-certificate",
      hsm: hsm(),
      quorum,
      key,
      inputs: { publicKey: "root.pub.pem" },
      certificate: { subject: { CN: "Test RSA Root CA", O: "LANIC (test)", C: "LA" }, notBefore: "signing-time", validityDays: 3653 },
      outputs: { certificate: "root.pem", transcript: "root-cert.transcript" },
    });
    // The issuing CA's key: made by OpenSSL (the intermediate ceremony takes any CSR with a valid self-signature).
    o("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.csr.pem", "-subj", "/C=LA/O=LANIC (test)/CN=Test Issuing CA under RSA");
    await ws.run("rsa/intermediate.yaml", shares, {
      type: "intermediate",
      hsm: hsm(),
      quorum,
      issuerKey: key,
      inputs: { issuerCertificate: "root.pem", csr: "ca.csr.pem" },
      certificate: {
        subject: { CN: "Test Issuing CA under RSA", O: "LANIC (test)", C: "LA" },
        keyAlgorithm: "ECDSA_P256",
        notBefore: "signing-time",
        validityDays: 1826,
        pathLength: 0,
        extendedKeyUsage: ["clientAuth"],
        policies: ["2.16.418.1.1.1"],
        crlUrl: "http://repository.test/crl/rsa-root.crl",
        issuerUrl: "http://repository.test/certs/rsa-root.der",
      },
      outputs: { certificate: "ca.pem", transcript: "intermediate.transcript" },
    });

    expect(o("verify", "-x509_strict", "-CAfile", "root.pem", "root.pem").trim()).toBe("root.pem: OK");
    expect(o("verify", "-x509_strict", "-CAfile", "root.pem", "ca.pem").trim()).toBe("ca.pem: OK");
    const root = o("x509", "-in", "root.pem", "-noout", "-text");
    expect(root).toContain("Public-Key: (4096 bit)");
    expect(root).toContain("Signature Algorithm: sha384WithRSAEncryption");
    const ca = o("x509", "-in", "ca.pem", "-noout", "-text");
    expect(ca).toContain("Signature Algorithm: sha384WithRSAEncryption");
    expect(ca).toContain("CA:TRUE, pathlen:0");
    // A leaf under the issuing CA verifies through the chain to the RSA root.
    o("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf.test");
    o("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "30", "-out", "leaf.pem");
    expect(o("verify", "-CAfile", "root.pem", "-untrusted", "ca.pem", "leaf.pem").trim()).toBe("leaf.pem: OK");
    for (const n of ["split", "root-key", "root-cert", "intermediate"]) expect(verifyTranscript(join(ws.dir, `rsa/${n}.transcript.json`), { markdownPath: join(ws.dir, `rsa/${n}.transcript.md`) }).problems).toEqual([]);
  });
});

describe("the cross-certificate template (event-driven: not rendered by synth)", () => {
  const dev = loadEnvironment("dev");
  const main = join(process.cwd(), "dist/scripts/ceremony/main.js");

  it("fills what the environment knows and parses strictly, for a root (rollover) and for an issuing CA (switch)", () => {
    const f = renderCrossCertificateFile(dev, { subjectKind: "root", subjectCertificate: "new-root.crt.pem", name: "new-root" });
    expect(f.path).toBe("cross-new-root.yaml");
    const c = parseCeremonyText(f.content, f.path);
    expect(c).toMatchObject({
      type: "cross-certificate",
      environment: "dev",
      hsm: { library: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "dev-root" },
      issuerKey: { label: "dev-root-ca", algorithm: "ECDSA_P384" },
      inputs: { issuerCertificate: "dev-root-ca.crt.pem", subjectCertificate: "new-root.crt.pem" },
      certificate: { validityDays: 1826, extendedKeyUsage: [], policies: ["2.16.418.1.1.1"], crlUrl: "http://repository.dev.ca.lanic.la/crl/dev-root-ca.crl" },
      outputs: { certificate: "cross-new-root.crt.pem", transcript: "cross-new-root.transcript" },
    });
    expect(c.type === "cross-certificate" && "pathLength" in c.certificate).toBe(false);
    const sw = parseCeremonyText(renderCrossCertificateFile(dev, { subjectKind: "issuing-ca", subjectCertificate: "pilot-ca.crt.pem", name: "pilot-ca", validityDays: 1000 }).content, "x");
    expect(sw.type === "cross-certificate" && sw.certificate).toMatchObject({ pathLength: 0, validityDays: 1000 });
  });

  it("refuses an external root, a bad name and a validity over the limit", () => {
    expect(() => renderCrossCertificateFile(loadEnvironment("pilot"), { subjectKind: "root", subjectCertificate: "x.pem", name: "x" })).toThrow(
      "environment pilot: a cross-certificate is signed by an offline root; this environment's root of trust is external (Commercial CA selected by MTC for the pilot (fingerprint recorded at contract))",
    );
    expect(() => renderCrossCertificateFile(dev, { subjectKind: "root", subjectCertificate: "x.pem", name: "../x" })).toThrow("name '../x': expected a lower-case DNS label (a-z, 0-9, '-'), at most 40 characters");
    expect(() => renderCrossCertificateFile(dev, { subjectKind: "root", subjectCertificate: "x.pem", name: "x", validityDays: 4000 })).toThrow(
      "cross-x.yaml: invalid ceremony file (1 problem):\n  - cross-x.yaml: certificate.validityDays: 4000 days is more than 3653, the maximum for a subordinate CA certificate (CP/CPS 6.3.2)",
    );
  });

  it("`lanic-ca ceremony template cross-certificate` writes the file (never overwriting); it runs against SoftHSM and OpenSSL builds both paths", async () => {
    devOk();
    expect(existsSync(main), "build first: npx tsc -b").toBe(true);
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [main, "ceremony", "template", "cross-certificate", "--environment", "dev", ...args], { cwd: devDir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    const args = ["--subject-kind", "root", "--subject-certificate", "new-root.crt.pem", "--name", "new-root"];
    const printed = cli(args);
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(renderCrossCertificateFile(dev, { subjectKind: "root", subjectCertificate: "new-root.crt.pem", name: "new-root" }).content);
    expect(cli([...args, "--out", "."]).stderr.trim()).toBe("wrote cross-new-root.yaml");
    const again = cli([...args, "--out", "."]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("error: EEXIST: file already exists");
    const bad = cli(["--subject-kind", "intermediate", "--subject-certificate", "x.pem", "--name", "x"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe("error: --subject-kind 'intermediate': expected root or issuing-ca");

    const o = (...a: string[]) => ws.openssl(a, devDir);
    o(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-nodes",
      "-keyout",
      "new-root.key",
      "-out",
      "new-root.crt.pem",
      "-subj",
      "/C=LA/O=LANIC (development)/CN=LANIC CA Dev Root 2",
      "-days",
      "3653",
      "-addext",
      "keyUsage = critical, keyCertSign, cRLSign",
    );
    const { result } = await ws.runFile(join(devDir, "cross-new-root.yaml"), [devShares[0], devShares[2]]);
    expect(result.outputs.certificate).toBe(join(devDir, "cross-new-root.crt.pem"));
    expect(o("verify", "-x509_strict", "-CAfile", "dev-root-ca.crt.pem", "cross-new-root.crt.pem").trim()).toBe("cross-new-root.crt.pem: OK");
    expect(dn("cross-new-root.crt.pem", "subject", devDir)).toBe("C = LA, O = LANIC (development), CN = LANIC CA Dev Root 2");
    expect(dn("cross-new-root.crt.pem", "issuer", devDir)).toBe(dn("dev-root-ca.crt.pem", "subject", devDir));
    o("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf2.key", "-out", "leaf2.csr", "-subj", "/CN=leaf.test");
    o("x509", "-req", "-in", "leaf2.csr", "-CA", "new-root.crt.pem", "-CAkey", "new-root.key", "-days", "30", "-out", "leaf2.pem");
    expect(o("verify", "-CAfile", "new-root.crt.pem", "leaf2.pem").trim()).toBe("leaf2.pem: OK");
    expect(o("verify", "-CAfile", "dev-root-ca.crt.pem", "-untrusted", "cross-new-root.crt.pem", "leaf2.pem").trim()).toBe("leaf2.pem: OK");
  });
});

describe("the pilot path: external CSR (RSA_3072 in the online token), an external root, the import", () => {
  const CSR_FILE = "01-lao-gov-pilot-ca-1-external-csr.yaml";
  const IMPORT_FILE = "02-lao-gov-pilot-ca-1-external-import.yaml";
  const SUBJECT = "/C=LA/O=Ministry of Technology and Communications/CN=Lao Government Pilot CA 1";
  let rootSha256 = "";
  const o = (...args: string[]) => ws.openssl(args, pilotDir);
  /** The rendered pilot file with the test's PKCS#11 library (the pilot's Luna client is not here). */
  const pilotDoc = (path: string, patch: (d: Doc) => void = () => {}) => {
    const d = rendered(pilotFiles, path);
    d.hsm.library = ws.library;
    patch(d);
    return d;
  };
  const writeDoc = (name: string, d: Doc) => {
    writeFileSync(join(pilotDir, name), stringify(d), { flag: "wx" });
    return join(pilotDir, name);
  };
  const EXT = [
    "[ca]",
    "basicConstraints = critical, CA:TRUE, pathlen:0",
    "keyUsage = critical, keyCertSign, cRLSign",
    // what the pilot CA's profiles need (ADR 0070): their EKUs and policies
    "extendedKeyUsage = clientAuth, 1.3.6.1.4.1.311.10.3.12, OCSPSigning",
    "certificatePolicies = 2.16.418.1.1.1, 2.16.418.1.1.2.1, 2.16.418.1.1.2.2, 2.16.418.1.1.3.1",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid:always",
    "crlDistributionPoints = URI:http://crl.pilot-partner.test/root.crl",
    "authorityInfoAccess = caIssuers;URI:http://certs.pilot-partner.test/root.der",
    "[bad]",
    "basicConstraints = critical, CA:TRUE, pathlen:1",
    "keyUsage = digitalSignature, keyCertSign",
    "extendedKeyUsage = anyExtendedKeyUsage",
    "certificatePolicies = 2.23.140.1.2.2",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid:always",
    "",
  ].join("\n");
  /** The external root (or an impostor) signs `csr` as OpenSSL's `x509 -req` does. */
  const sign = (csr: string, out: string, { ca = "external-root", days = 1826, section = "ca", hash = "sha384" } = {}) =>
    o("x509", "-req", "-in", csr, "-CA", `${ca}.crt.pem`, "-CAkey", `${ca}.key`, `-${hash}`, "-days", String(days), "-extfile", "ext.cnf", "-extensions", section, "-out", out);
  const importRefusal = async (name: string, certificate: string, issuerCertificate = "external-root.crt.pem", declaredSha256 = rootSha256) => {
    const d = pilotDoc(IMPORT_FILE, (x) => {
      x.externalRoot.certificateSha256 = declaredSha256;
      x.inputs = { certificate, issuerCertificate };
      x.outputs = { certificate: `${name}.crt.pem`, transcript: `${name}.transcript` };
    });
    try {
      await ws.runFile(writeDoc(`${name}.yaml`, d), [PILOT_PIN]);
    } catch (err) {
      expect(existsSync(join(pilotDir, `${name}.crt.pem`)), "nothing is written on a refusal").toBe(false);
      expect(verifyTranscript(join(pilotDir, `${name}.transcript.json`)).status).toBe("failed");
      return (err as Error).message;
    }
    throw new Error(`${name} was not refused`);
  };

  it("external-csr: the rendered file generates the RSA_3072 key in the token; openssl req -verify checks the CSR and its subject", async () => {
    const d = pilotDoc(CSR_FILE);
    expect(d.key).toEqual({ label: "lao-gov-pilot-ca-1", algorithm: "RSA_3072", generate: true, backup: true });
    const { result } = await ws.runFile(writeDoc(CSR_FILE, d), [PILOT_PIN]);
    const v = ws.opensslStatus(["req", "-in", "lao-gov-pilot-ca-1.csr.pem", "-noout", "-verify", "-subject"], pilotDir);
    expect(v.status).toBe(0);
    expect(v.stderr.trim()).toBe("Certificate request self-signature verify OK");
    expect(v.stdout.trim()).toBe("subject=C = LA, O = Ministry of Technology and Communications, CN = Lao Government Pilot CA 1");
    const text = o("req", "-in", "lao-gov-pilot-ca-1.csr.pem", "-noout", "-text");
    expect(text).toContain("Public-Key: (3072 bit)");
    expect(text).toContain("Signature Algorithm: sha256WithRSAEncryption");
    expect(ws.opensslSpkiSha256(join(pilotDir, "lao-gov-pilot-ca-1.pub.pem"), "pkey")).toBe(result.spkiSha256);
    expect(ws.opensslSpkiSha256(join(pilotDir, "lao-gov-pilot-ca-1.csr.pem"), "req")).toBe(result.spkiSha256);
  });

  it("intermediate: the dev root (ECDSA_P384) certifies that RSA_3072 CSR too (production's TLS CA algorithm)", async () => {
    devOk();
    const root = rendered(devFiles, "03-root-certificate.yaml"); // its key: the root key reference, without key-generation options
    const subject = rendered(pilotFiles, CSR_FILE).csr.subject;
    await ws.run("dev/rsa-intermediate.yaml", [devShares[0], devShares[2]], {
      type: "intermediate",
      hsm: root.hsm,
      quorum: root.quorum,
      issuerKey: root.key,
      inputs: { issuerCertificate: "dev-root-ca.crt.pem", csr: join(pilotDir, "lao-gov-pilot-ca-1.csr.pem") },
      certificate: {
        subject,
        keyAlgorithm: "RSA_3072",
        notBefore: "signing-time",
        validityDays: 1826,
        pathLength: 0,
        extendedKeyUsage: ["serverAuth"],
        policies: ["2.23.140.1.2.2", "2.16.418.1.1.1"],
        crlUrl: "http://repository.dev.ca.lanic.la/crl/dev-root-ca.crl",
        issuerUrl: "http://repository.dev.ca.lanic.la/certs/dev-root-ca.der",
      },
      outputs: { certificate: "rsa-ca.crt.pem", transcript: "rsa-intermediate.transcript" },
    });
    expect(ws.openssl(["verify", "-x509_strict", "-CAfile", "dev-root-ca.crt.pem", "rsa-ca.crt.pem"], devDir).trim()).toBe("rsa-ca.crt.pem: OK");
    const text = ws.openssl(["x509", "-in", "rsa-ca.crt.pem", "-noout", "-text"], devDir);
    expect(text).toContain("Public-Key: (3072 bit)");
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA384");
    expect(ws.opensslSpkiSha256(join(devDir, "rsa-ca.crt.pem"), "x509")).toBe(ws.opensslSpkiSha256(join(pilotDir, "lao-gov-pilot-ca-1.pub.pem"), "pkey"));
  });

  it("external-certificate-import: accepts the certificate an OpenSSL-made external root returns for our CSR", async () => {
    writeFileSync(join(pilotDir, "ext.cnf"), EXT);
    const ext = rendered(pilotFiles, IMPORT_FILE).externalRoot.subject;
    for (const name of ["external-root", "impostor-root", "no-key-usage-root", "short-lived-root"]) {
      // Same subject for all: only the key (and the extensions) tell them apart.
      o(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt.pem`,
        "-subj",
        `/C=${ext.C}/O=${ext.O}/CN=${ext.CN}`,
        "-days",
        name === "short-lived-root" ? "100" : "7305",
        ...(name === "no-key-usage-root" ? [] : ["-addext", "keyUsage = critical, keyCertSign, cRLSign"]),
      );
    }
    rootSha256 = ws.opensslSha256Der(join(pilotDir, "external-root.crt.pem"));
    sign("lao-gov-pilot-ca-1.csr.pem", "lao-gov-pilot-ca-1.returned.crt.pem");
    const d = pilotDoc(IMPORT_FILE, (x) => (x.externalRoot.certificateSha256 = rootSha256));
    expect(d.inputs).toEqual({ certificate: "lao-gov-pilot-ca-1.returned.crt.pem", issuerCertificate: "external-root.crt.pem" });
    const { result } = await ws.runFile(writeDoc(IMPORT_FILE, d), [PILOT_PIN]);
    expect(result.status).toBe("succeeded");
    expect(readFileSync(result.outputs.certificate, "utf8")).toBe(readFileSync(join(pilotDir, "lao-gov-pilot-ca-1.returned.crt.pem"), "utf8"));
    expect(o("verify", "-x509_strict", "-CAfile", "external-root.crt.pem", "lao-gov-pilot-ca-1.crt.pem").trim()).toBe("lao-gov-pilot-ca-1.crt.pem: OK");
    const t = JSON.parse(readFileSync(result.transcript.json, "utf8")) as { entries: { kind: string; summary: string }[] };
    expect(t.entries.filter((e) => e.kind === "certificate").map((e) => e.summary)).toEqual(["imported certificate Lao Government Pilot CA 1"]);
  });

  it("refuses a returned certificate for a different key", async () => {
    o("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key", "-out", "other.csr", "-subj", SUBJECT);
    sign("other.csr", "other-key.crt.pem");
    const theirs = ws.opensslSpkiSha256(join(pilotDir, "other-key.crt.pem"), "x509");
    const ours = ws.opensslSpkiSha256(join(pilotDir, "lao-gov-pilot-ca-1.pub.pem"), "pkey");
    expect(await importRefusal("refused-other-key", "other-key.crt.pem")).toBe(`the returned certificate is refused:\n  - its public key (SPKI SHA-256 ${theirs}) is not our HSM key (SPKI SHA-256 ${ours})`);
  });

  it("refuses a returned certificate whose extensions break our profile", async () => {
    sign("lao-gov-pilot-ca-1.csr.pem", "bad-extensions.crt.pem", { section: "bad" });
    expect(await importRefusal("refused-extensions", "bad-extensions.crt.pem")).toBe(
      [
        "the returned certificate is refused:",
        "  - pathLenConstraint must be 0, found 1 (CP/CPS 7.1.2)",
        "  - keyUsage must be critical (BR 7.1.2.10.7)",
        "  - keyUsage must assert keyCertSign and cRLSign (BR 7.1.2.10.7)",
        "  - extKeyUsage of a CA must not contain anyExtendedKeyUsage (BR 7.1.2.10.6, MRSP 5.3)",
        ...["2.16.418.1.1.1", "2.16.418.1.1.2.1", "2.16.418.1.1.2.2", "2.16.418.1.1.3.1"].map((o) => `  - certificatePolicies must contain ${o}, a policy its certificates assert (BR 7.1.2.10.5, RFC 5280 6.1)`),
      ].join("\n"),
    );
  });

  it("refuses a returned certificate valid for longer than our limit, or than the external root (CP/CPS 6.3.2)", async () => {
    sign("lao-gov-pilot-ca-1.csr.pem", "too-long.crt.pem", { days: 4000 });
    expect(await importRefusal("refused-validity", "too-long.crt.pem")).toBe("the returned certificate is refused:\n  - its validity of 4000 days is more than 3653 (CP/CPS 6.3.2)");
    sign("lao-gov-pilot-ca-1.csr.pem", "outlives.crt.pem", { ca: "short-lived-root", days: 365 });
    const declared = ws.opensslSha256Der(join(pilotDir, "short-lived-root.crt.pem"));
    expect(await importRefusal("refused-outlives", "outlives.crt.pem", "short-lived-root.crt.pem", declared)).toBe("the returned certificate is refused:\n  - it outlives the external root (CP/CPS 6.3.2)");
  });

  it("refuses a certificate signed with SHA-1 (BR 7.1.3.2)", async () => {
    sign("lao-gov-pilot-ca-1.csr.pem", "sha1.crt.pem", { hash: "sha1" });
    expect(await importRefusal("refused-sha1", "sha1.crt.pem")).toBe("the returned certificate is refused:\n  - its signature algorithm (300906072a8648ce3d0401) is not one BR 7.1.3.2 allows");
  });

  it("refuses, with nothing written, a chain OpenSSL rejects: an external root without keyUsage (-x509_strict)", async () => {
    sign("lao-gov-pilot-ca-1.csr.pem", "no-ku-signed.crt.pem", { ca: "no-key-usage-root" });
    const declared = ws.opensslSha256Der(join(pilotDir, "no-key-usage-root.crt.pem"));
    expect(await importRefusal("refused-no-ku", "no-ku-signed.crt.pem", "no-key-usage-root.crt.pem", declared)).toBe(
      [
        "openssl verify failed: C = US, O = Pilot Partner (WebTrust-audited commercial CA), CN = Pilot Partner Root CA",
        "error 92 at 1 depth lookup: CA cert does not include key usage extension",
        `error ${join(pilotDir, "no-ku-signed.crt.pem")}: verification failed`,
      ].join("\n"),
    );
  });

  it("refuses a certificate not signed by the declared external root, and an issuer certificate that is not it", async () => {
    sign("lao-gov-pilot-ca-1.csr.pem", "impostor-signed.crt.pem", { ca: "impostor-root" });
    expect(await importRefusal("refused-impostor", "impostor-signed.crt.pem")).toBe(
      ["the returned certificate is refused:", "  - it is not signed by the external root's key", "  - its authorityKeyIdentifier is not the external root's subjectKeyIdentifier (RFC 5280 4.2.1.1)"].join("\n"),
    );
    const impostorSha256 = ws.opensslSha256Der(join(pilotDir, "impostor-root.crt.pem"));
    expect(await importRefusal("refused-impostor-root", "impostor-signed.crt.pem", "impostor-root.crt.pem")).toBe(
      `the issuer certificate's SHA-256 ${impostorSha256} is not the external root's ${rootSha256} (environment rootOfTrust.certificateSha256)`,
    );
  });
});

describe("shares typed at the no-echo prompt of a real terminal (pseudo-terminal via util-linux script)", () => {
  const main = join(process.cwd(), "dist/scripts/ceremony/main.js");
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

  /** Runs `args` under `script` (a pty); when a step's `when` appears in the terminal output
   *  (after the previous step), types its `type` and Enter — only once the prompt is shown, as a
   *  custodian would. */
  function underPty(args: string[], cwd: string, steps: { when: RegExp; type: string }[]): Promise<{ status: number | null; screen: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn("script", ["-qefc", args.map(q).join(" "), "/dev/null"], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
      let screen = "";
      let from = 0;
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`timed out; terminal so far:\n${screen}`));
      }, 45_000);
      const onData = (d: Buffer) => {
        screen += d.toString("utf8");
        const s = steps[0];
        if (s?.when.test(screen.slice(from))) {
          steps.shift();
          from = screen.length;
          child.stdin.write(`${s.type}\r`);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("error", reject);
      child.on("close", (status) => {
        clearTimeout(timer);
        child.stdin.end();
        resolve({ status, screen });
      });
    });
  }

  it("accepts the shares, shows '*' for each character typed, and never shows a share", async () => {
    devOk();
    expect(existsSync(main), "build first: npx tsc -b").toBe(true);
    const root = rendered(devFiles, "03-root-certificate.yaml"); // its key: the root key reference, without key-generation options
    ws.write("dev/tty-crl.yaml", {
      type: "ca-crl",
      hsm: root.hsm,
      quorum: root.quorum,
      issuerKey: root.key,
      inputs: { issuerCertificate: "dev-root-ca.crt.pem" },
      crl: { number: 2, thisUpdate: "signing-time", nextUpdateDays: 30 },
      outputs: { crl: "tty.crl.pem", transcript: "tty.transcript" },
    });
    const typed = [devShares[2], devShares[0]];
    const { status, screen } = await underPty([process.execPath, main, "ceremony", "tty-crl.yaml"], devDir, [
      { when: /Share 1 of 2 \(typing is hidden, Enter to finish\): $/, type: typed[0] },
      { when: /Share 2 of 2 \(typing is hidden, Enter to finish\): $/, type: typed[1] },
    ]);
    const plain = stripAnsi(screen);
    expect(status, plain).toBe(0);
    expect(plain).toContain("accepted: dev-3 (Developer 3)");
    expect(plain).toContain("accepted: dev-1 (Developer 1)");
    expect(plain).toContain('Opening HSM token "dev-root"');
    expect(plain).toContain("Ceremony succeeded.");
    for (const s of typed) {
      expect(plain).toContain(`: ${"*".repeat(s.length)}\r\n`);
      const body = s.split(":")[1];
      expect(plain).not.toContain(s);
      expect(plain).not.toContain(body);
      expect(plain).not.toContain(body.slice(0, 9)); // not even its first two groups
    }
    expect(ws.openssl(["crl", "-in", "tty.crl.pem", "-CAfile", "dev-root-ca.crt.pem", "-noout"], devDir)).toBe("");
    const t = JSON.parse(readFileSync(join(devDir, "tty.transcript.json"), "utf8")) as { entries: { kind: string; summary: string }[] };
    expect(t.entries.filter((e) => e.kind === "participant").map((e) => e.summary)).toEqual(["custodian dev-3 (Developer 3) entered a valid share", "custodian dev-1 (Developer 1) entered a valid share"]);
  });

  it("Ctrl-C at the share prompt stops the ceremony before the HSM, without showing the share already typed", async () => {
    devOk();
    const root = rendered(devFiles, "03-root-certificate.yaml"); // its key: the root key reference, without key-generation options
    ws.write("dev/tty-abort.yaml", {
      type: "ca-crl",
      hsm: root.hsm,
      quorum: root.quorum,
      issuerKey: root.key,
      inputs: { issuerCertificate: "dev-root-ca.crt.pem" },
      crl: { number: 3, thisUpdate: "signing-time", nextUpdateDays: 30 },
      outputs: { crl: "tty-abort.crl.pem", transcript: "tty-abort.transcript" },
    });
    const { status, screen } = await underPty([process.execPath, main, "ceremony", "tty-abort.yaml"], devDir, [
      { when: /Share 1 of 2 \(typing is hidden, Enter to finish\): $/, type: devShares[1] },
      { when: /Share 2 of 2 \(typing is hidden, Enter to finish\): $/, type: "\u0003" },
    ]);
    const plain = stripAnsi(screen);
    expect(status, plain).toBe(1);
    expect(plain).toContain("error: quorum not met: 1 of 2 required shares entered (dev-2); nothing was done on the HSM (BR 5.2.2, 6.2.2)");
    expect(plain).not.toContain(devShares[1].split(":")[1]);
    expect(plain).not.toContain('Opening HSM token "dev-root"');
    expect(existsSync(join(devDir, "tty-abort.crl.pem"))).toBe(false);
    expect(verifyTranscript(join(devDir, "tty-abort.transcript.json")).status).toBe("failed");
  });
});
