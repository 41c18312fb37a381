/**
 * The full ceremony sequence against SoftHSM, in a temp dir: split, root key, root certificate,
 * issuing CA key in a second token, intermediate, CA CRL, cross-certificate — OpenSSL verifies
 * the chains — then the refusal cases. Shares and PINs go through the prompt's input stream
 * (what a custodian types), never arguments.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openToken } from "../../scripts/ceremony/hsm.js";
import { formatShare, generateSecret, splitSecret } from "../../scripts/ceremony/quorum.js";
import { verifyTranscript } from "../../scripts/ceremony/transcript.js";
import { CeremonyWorkspace, sharesOnScreen } from "./helpers.js";

const custodians = [
  { id: "c1", name: "Custodian One" },
  { id: "c2", name: "Custodian Two" },
  { id: "c3", name: "Custodian Three" },
];
const ws = new CeremonyWorkspace();
let dir: string;
let library: string;
const ROOT_TOKEN = "test-root";
const ONLINE_TOKEN = "test-online";
let shares: string[] = [];

const quorum = () => ({ threshold: 2, custodians, register: "register.json" });
const rootHsm = () => ({ library, tokenLabel: ROOT_TOKEN });
const rootKey = { label: "test-root-key", algorithm: "ECDSA_P384" };

const write = (name: string, doc: Record<string, unknown>) => ws.write(name, doc);
const run = (name: string, lines: string[], doc: Record<string, unknown>) => ws.run(name, lines, doc);
const refusal = (name: string, lines: string[], doc: Record<string, unknown>) => ws.refusal(name, lines, doc);
const openssl = (...args: string[]) => ws.openssl(args);

beforeAll(() => {
  ws.setUp([
    { label: ROOT_TOKEN, pin: "transport-pin", soPin: "so-pin-123" },
    { label: ONLINE_TOKEN, pin: "online-pin" },
  ]);
  ({ dir, library } = ws);
});
afterAll(() => ws.tearDown());

describe("the full ceremony sequence against SoftHSM", () => {
  it("split: sets a random PIN on the offline token and gives each custodian a share", async () => {
    const { result, screen } = await run("split.yaml", ["so-pin-123", "", "", "", "", "", ""], {
      type: "quorum-split",
      hsm: rootHsm(),
      quorum: quorum(),
      mode: "initialise",
      outputs: { transcript: "split.transcript" },
    });
    shares = sharesOnScreen(screen);
    expect(shares.map((s) => s.split(":")[0])).toEqual(["dev/c1", "dev/c2", "dev/c3"]);
    const reg = JSON.parse(readFileSync(join(dir, "register.json"), "utf8"));
    expect(reg.threshold).toBe(2);
    expect(reg.custodians.map((c: { id: string }) => c.id)).toEqual(["c1", "c2", "c3"]);
    // The transport PIN no longer opens the token, and the shares are not in the transcript.
    await expect(openToken(rootHsm(), "transport-pin")).rejects.toThrow(/CKR_PIN_INCORRECT/);
    const transcript = readFileSync(result.transcript.json, "utf8");
    for (const s of shares) expect(transcript).not.toContain(s.split(":")[1]);
    expect(verifyTranscript(result.transcript.json, { markdownPath: result.transcript.md }).ok).toBe(true);
  });

  it("root-key: generates the root key in the offline HSM and outputs its public key", async () => {
    const { result, screen } = await run("root-key.yaml", [shares[0], shares[2]], {
      type: "root-key",
      hsm: rootHsm(),
      quorum: quorum(),
      key: rootKey,
      outputs: { publicKey: "root.pub.pem", transcript: "root-key.transcript" },
    });
    expect(result.spkiSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(screen).toContain(result.spkiSha256!);
    const fromOpenssl = execFileSync("sh", ["-c", 'openssl pkey -pubin -in "$1" -outform DER | sha256sum', "sh", join(dir, "root.pub.pem")], { encoding: "utf8" });
    expect(fromOpenssl.split(" ")[0]).toBe(result.spkiSha256);
    const t = JSON.parse(readFileSync(result.transcript.json, "utf8"));
    expect(t.entries.filter((e: { kind: string }) => e.kind === "participant").map((e: { summary: string }) => e.summary)).toEqual([
      "Test Auditor (system-auditor)",
      "custodian c1 (Custodian One) entered a valid share",
      "custodian c3 (Custodian Three) entered a valid share",
    ]);
  });

  it("root-certificate: self-signed, verified by OpenSSL", async () => {
    await run("root-cert.yaml", [shares[1], shares[2]], {
      type: "root-certificate",
      hsm: rootHsm(),
      quorum: quorum(),
      key: rootKey,
      inputs: { publicKey: "root.pub.pem" },
      certificate: { subject: { CN: "Test Root CA", O: "LANIC (test)", C: "LA" }, notBefore: "signing-time", validityDays: 3653 },
      outputs: { certificate: "root.pem", transcript: "root-cert.transcript" },
    });
    expect(openssl("verify", "-x509_strict", "-CAfile", "root.pem", "root.pem").trim()).toBe("root.pem: OK");
    const text = openssl("x509", "-in", "root.pem", "-noout", "-text");
    expect(text).toContain("CA:TRUE");
    expect(text).not.toContain("Extended Key Usage");
    expect(text).toContain("Certificate Sign, CRL Sign");
  });

  it("issuing-ca-key: key and CSR in the second (online) token", async () => {
    await run("ca-key.yaml", ["online-pin"], {
      type: "issuing-ca-key",
      hsm: { library, tokenLabel: ONLINE_TOKEN },
      key: { label: "test-ca-1", algorithm: "ECDSA_P256", generate: true },
      csr: { subject: { CN: "Test Issuing CA 1", O: "LANIC (test)", C: "LA" } },
      outputs: { publicKey: "ca.pub.pem", csr: "ca.csr.pem", transcript: "ca-key.transcript" },
    });
    expect(openssl("req", "-in", "ca.csr.pem", "-noout", "-verify")).toBe("");
  });

  it("intermediate: the root signs the issuing CA's CSR; OpenSSL verifies the chain", async () => {
    await run("intermediate.yaml", [shares[0], shares[1]], {
      type: "intermediate",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem", csr: "ca.csr.pem" },
      certificate: {
        subject: { CN: "Test Issuing CA 1", O: "LANIC (test)", C: "LA" },
        keyAlgorithm: "ECDSA_P256",
        notBefore: "signing-time",
        validityDays: 1826,
        pathLength: 0,
        extendedKeyUsage: ["serverAuth", "clientAuth"],
        policies: ["2.23.140.1.2.2", "2.16.418.1.1.1"],
        crlUrl: "http://repository.test/crl/root.crl",
        issuerUrl: "http://repository.test/certs/root.der",
      },
      outputs: { certificate: "ca.pem", transcript: "intermediate.transcript" },
    });
    expect(openssl("verify", "-x509_strict", "-CAfile", "root.pem", "ca.pem").trim()).toBe("ca.pem: OK");
    expect(openssl("x509", "-in", "ca.pem", "-noout", "-text")).toContain("CA:TRUE, pathlen:0");
  });

  it("ca-crl: the root's CRL of CA certificates, verified by OpenSSL", async () => {
    await run("crl.yaml", [shares[2], shares[0]], {
      type: "ca-crl",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem" },
      crl: { number: 1, thisUpdate: "signing-time", nextUpdateDays: 365, revoked: [{ serial: "0a1b2c", revocationDate: "2026-01-01T00:00:00Z", reason: "cessationOfOperation" }] },
      outputs: { crl: "root.crl.pem", transcript: "crl.transcript" },
    });
    expect(openssl("crl", "-in", "root.crl.pem", "-CAfile", "root.pem", "-noout")).toBe("");
    expect(openssl("verify", "-x509_strict", "-crl_check", "-CAfile", "root.pem", "-CRLfile", "root.crl.pem", "ca.pem").trim()).toBe("ca.pem: OK");
  });

  it("cross-certificate: the Lao root cross-certifies another root (rollover / switch); OpenSSL builds both paths", async () => {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", "new.key", "-out", "new-root.pem", "-subj", "/C=LA/O=LANIC (test)/CN=Test Root CA 2", "-days", "3653");
    await run("cross.yaml", [shares[1], shares[0]], {
      type: "cross-certificate",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem", subjectCertificate: "new-root.pem" },
      certificate: { notBefore: "signing-time", validityDays: 1826, extendedKeyUsage: [], policies: ["2.16.418.1.1.1"], crlUrl: "http://repository.test/crl/root.crl", issuerUrl: "http://repository.test/certs/root.der" },
      outputs: { certificate: "cross.pem", transcript: "cross.transcript" },
    });
    expect(openssl("verify", "-x509_strict", "-CAfile", "root.pem", "cross.pem").trim()).toBe("cross.pem: OK");
    expect(openssl("x509", "-in", "cross.pem", "-noout", "-pubkey")).toBe(openssl("x509", "-in", "new-root.pem", "-noout", "-pubkey"));
    // A leaf under the new root verifies both with the new root as anchor and through the cross-certificate to the Lao root.
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf.test");
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "new-root.pem", "-CAkey", "new.key", "-days", "30", "-out", "leaf.pem");
    expect(openssl("verify", "-CAfile", "new-root.pem", "leaf.pem").trim()).toBe("leaf.pem: OK");
    expect(openssl("verify", "-CAfile", "root.pem", "-untrusted", "cross.pem", "leaf.pem").trim()).toBe("leaf.pem: OK");
  });

  it("verify-transcript accepts every transcript and detects an edit to JSON or Markdown", () => {
    for (const n of ["split", "root-key", "root-cert", "ca-key", "intermediate", "crl", "cross"]) {
      const r = verifyTranscript(join(dir, `${n}.transcript.json`), { markdownPath: join(dir, `${n}.transcript.md`) });
      expect(r.problems).toEqual([]);
      expect(r.status).toBe("succeeded");
    }
    const json = join(dir, "intermediate.transcript.json");
    const doc = JSON.parse(readFileSync(json, "utf8"));
    const i = doc.entries.findIndex((e: { kind: string }) => e.kind === "certificate");
    doc.entries[i].data.serial = "01";
    writeFileSync(join(dir, "edited.json"), JSON.stringify(doc));
    expect(verifyTranscript(join(dir, "edited.json")).problems).toEqual([`entry ${i + 1} (certificate: ${doc.entries[i].summary}): hash mismatch, the entry was edited after it was written`]);
    const dropped = JSON.parse(readFileSync(json, "utf8"));
    dropped.entries.splice(2, 1);
    writeFileSync(join(dir, "dropped.json"), JSON.stringify(dropped));
    expect(verifyTranscript(join(dir, "dropped.json")).problems[0]).toBe("entry 3: sequence number is 4 (an entry was removed, added or moved)");
    const md = readFileSync(join(dir, "intermediate.transcript.md"), "utf8");
    writeFileSync(join(dir, "edited.md"), md.replace("ceremony succeeded", "ceremony succeeded (witnessed)"));
    expect(verifyTranscript(json, { markdownPath: join(dir, "edited.md") }).problems).toEqual([`${join(dir, "edited.md")}: the Markdown differs from the rendering of the JSON transcript (it was edited)`]);
  });
});

/** `ceremony`'s commands through a compiled entry, in a child process with piped stdin. */
function ceremonyCli(main: string) {
  const cli = (args: string[], input = "") => spawnSync(process.execPath, [main, ...args], { cwd: dir, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  /** Runs a CRL ceremony (shares typed on stdin) and checks its transcript verifies. */
  const crlCeremony = (name: string, number: number, typed: string[]) => {
    expect(existsSync(main), "build first: npm run build").toBe(true);
    write(`${name}-crl.yaml`, {
      type: "ca-crl",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem" },
      crl: { number, thisUpdate: "signing-time", nextUpdateDays: 30 },
      outputs: { crl: `${name}.crl.pem`, transcript: `${name}.transcript` },
    });
    const r = cli(["ceremony", `${name}-crl.yaml`, "--json"], typed.map((t) => `${t}\n`).join(""));
    expect(r.stderr).toContain("Ceremony succeeded.");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).outputs.crl).toBe(join(dir, `${name}.crl.pem`));
    const ok = cli(["ceremony", "verify-transcript", `${name}.transcript.json`, "--json"]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).ok).toBe(true);
  };
  return { cli, crlCeremony };
}

describe("the lanic-ca ceremony commands (compiled, in a child process with piped stdin)", () => {
  const { cli, crlCeremony } = ceremonyCli(join(process.cwd(), "dist/scripts/ceremony/main.js"));

  it("runs a ceremony with the shares typed on stdin, and verify-transcript exits non-zero on an edit", () => {
    crlCeremony("cli", 3, [shares[2], shares[1]]);
    writeFileSync(join(dir, "cli.transcript.md"), readFileSync(join(dir, "cli.transcript.md"), "utf8").replace("succeeded", "failed"));
    const bad = cli(["ceremony", "verify-transcript", "cli.transcript.json"]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("the Markdown differs from the rendering of the JSON transcript (it was edited)");
    const few = cli(["ceremony", "split", "cli-crl.yaml"], `${shares[2]}\n`);
    expect(few.status).toBe(1);
    expect(few.stderr).toContain("type: 'ca-crl' cannot be run by this command; expected 'quorum-split'");
  });

  it("runs the same through the compiled lanic-ca (dist/bin: zx, PKCS#11 and the quorum tooling from node_modules)", () => {
    ceremonyCli(join(process.cwd(), "dist/bin/lanic-ca.js")).crlCeremony("bin", 4, [shares[0], shares[2]]);
  });
});

describe("refusals", () => {
  const crl = (name: string) => ({
    type: "ca-crl",
    hsm: rootHsm(),
    quorum: quorum(),
    issuerKey: rootKey,
    inputs: { issuerCertificate: "root.pem" },
    crl: { number: 2, thisUpdate: "signing-time", nextUpdateDays: 30 },
    outputs: { crl: `${name}.crl.pem`, transcript: `${name}.transcript` },
  });

  it("refuses too few shares", async () => {
    expect(await refusal("few.yaml", [shares[0]], crl("few"))).toBe("quorum not met: 1 of 2 required shares entered (c1); nothing was done on the HSM (BR 5.2.2, 6.2.2)");
    expect(existsSync(join(dir, "few.crl.pem"))).toBe(false);
    expect(verifyTranscript(join(dir, "few.transcript.json")).status).toBe("failed");
  });

  it("refuses a repeated custodian", async () => {
    expect(await refusal("repeat.yaml", [shares[1], shares[1]], crl("repeat"))).toBe("share 2: custodian 'c2' has already entered a share; 2 distinct custodians are required (BR 5.2.2, 6.2.2)");
  });

  it("refuses a wrong share (well-formed, but not the one registered for that custodian)", async () => {
    const other = await splitSecret(generateSecret(), custodians, 2);
    expect(await refusal("wrong.yaml", [shares[0], formatShare("dev", "c2", other[1])], crl("wrong"))).toBe(
      `share 2: the share entered for custodian 'c2' is not the one registered for them in ${join(dir, "register.json")}`,
    );
  });

  it("refuses a mistyped share", async () => {
    const typo = shares[2].replace(/:([0-9a-f])/, (_m, c: string) => `:${c === "0" ? "1" : "0"}`);
    expect(await refusal("typo.yaml", [shares[0], typo], crl("typo"))).toBe("share 2: the check digits of the share of 'c3' do not match: mistyped?");
  });

  it("refuses an output that exists, before asking for shares", async () => {
    expect(await refusal("exists.yaml", [], { ...crl("exists"), outputs: { crl: "root.crl.pem", transcript: "exists.transcript" } })).toBe(
      `${join(dir, "exists.yaml")}: invalid ceremony file (1 problem):\n  - ${join(dir, "exists.yaml")}: outputs.crl: ${join(dir, "root.crl.pem")} already exists; a ceremony never overwrites a file (outputs are created with flag wx)`,
    );
    expect(existsSync(join(dir, "exists.transcript.json"))).toBe(false);
  });

  it("refuses an unknown key and a validity over the limit, before the HSM", async () => {
    const bad = { ...crl("unknown"), crl: { number: 2, thisUpdate: "signing-time", nextUpdateDays: 30, nextUpdateHours: 1 } };
    expect(await refusal("unknown.yaml", [], bad)).toBe(
      `${join(dir, "unknown.yaml")}: invalid ceremony file (1 problem):\n  - ${join(dir, "unknown.yaml")}: crl.nextUpdateHours: unknown key 'nextUpdateHours' (not allowed here)`,
    );
    const long = { ...crl("long"), crl: { number: 2, thisUpdate: "signing-time", nextUpdateDays: 400 } };
    expect(await refusal("long.yaml", [], long)).toBe(
      `${join(dir, "long.yaml")}: invalid ceremony file (1 problem):\n  - ${join(dir, "long.yaml")}: crl.nextUpdateDays: 400 days is more than 365: a CRL of CA certificates is re-issued at least every 12 months (BR 4.9.7)`,
    );
    expect(existsSync(join(dir, "long.transcript.json"))).toBe(false);
  });

  it("refuses at lint an intermediate that would outlive the root (CP/CPS 6.3.2)", async () => {
    const msg = await refusal("outlive.yaml", [shares[0], shares[1]], {
      type: "intermediate",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem", publicKey: "ca.pub.pem" },
      certificate: {
        subject: { CN: "Test Issuing CA 1", O: "LANIC (test)", C: "LA" },
        keyAlgorithm: "ECDSA_P256",
        notBefore: "signing-time",
        validityDays: 3653,
        pathLength: 0,
        extendedKeyUsage: ["clientAuth"],
        policies: ["2.16.418.1.1.1"],
        crlUrl: "http://repository.test/crl/root.crl",
        issuerUrl: "http://repository.test/certs/root.der",
      },
      outputs: { certificate: "outlive.pem", transcript: "outlive.transcript" },
    });
    expect(msg).toMatch(/^lint refused the certificate before signing \(1 problem\):\n {2}- notAfter \S+ is after the issuer's notAfter \S+: a certificate must not outlive its issuer \(CP\/CPS 6\.3\.2\)$/);
    expect(existsSync(join(dir, "outlive.pem"))).toBe(false);
  });

  it("refuses at lint a TLS intermediate without the CA/Browser Forum reserved policy (BR 7.1.2.10.5)", async () => {
    const msg = await refusal("tls-no-reserved.yaml", [shares[0], shares[1]], {
      type: "intermediate",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem", publicKey: "ca.pub.pem" },
      certificate: {
        subject: { CN: "Test TLS CA 1", O: "LANIC (test)", C: "LA" },
        keyAlgorithm: "ECDSA_P256",
        notBefore: "signing-time",
        validityDays: 365,
        pathLength: 0,
        extendedKeyUsage: ["serverAuth"],
        policies: ["2.16.418.1.1.1"],
        crlUrl: "http://repository.test/crl/root.crl",
        issuerUrl: "http://repository.test/certs/root.der",
      },
      outputs: { certificate: "tls-no-reserved.pem", transcript: "tls-no-reserved.transcript" },
    });
    expect(msg).toBe(
      "lint refused the certificate before signing (1 problem):\n  - a TLS subordinate CA certificate asserts exactly one CA/Browser Forum reserved policy identifier (2.23.140.1.2.x), found none (BR 7.1.2.10.5)",
    );
  });

  it("refuses at lint an intermediate without extKeyUsage: an issuing CA is restricted to its purpose (BR 7.1.2.10.6, MRSP 5.3)", async () => {
    const msg = await refusal("no-eku.yaml", [shares[0], shares[1]], {
      type: "intermediate",
      hsm: rootHsm(),
      quorum: quorum(),
      issuerKey: rootKey,
      inputs: { issuerCertificate: "root.pem", publicKey: "ca.pub.pem" },
      certificate: {
        subject: { CN: "Test Issuing CA 1", O: "LANIC (test)", C: "LA" },
        keyAlgorithm: "ECDSA_P256",
        notBefore: "signing-time",
        validityDays: 365,
        pathLength: 0,
        extendedKeyUsage: [],
        policies: ["2.16.418.1.1.1"],
        crlUrl: "http://repository.test/crl/root.crl",
        issuerUrl: "http://repository.test/certs/root.der",
      },
      outputs: { certificate: "no-eku.pem", transcript: "no-eku.transcript" },
    });
    expect(msg).toBe(
      "lint refused the certificate before signing (1 problem):\n  - extKeyUsage must be present in a subordinate CA certificate: an issuing CA is restricted to its purpose (BR 7.1.2.10.6, MRSP 5.3, ADR 0070)",
    );
    expect(existsSync(join(dir, "no-eku.pem"))).toBe(false);
  });

  it("reshare: new custodians get new shares of the same PIN; the root key is unchanged", async () => {
    const newCustodians = [custodians[0], custodians[2], { id: "c4", name: "Custodian Four" }];
    const { screen } = await run("reshare.yaml", [shares[0], shares[2], "", "", "", "", "", ""], {
      type: "quorum-split",
      hsm: rootHsm(),
      quorum: { threshold: 2, custodians: newCustodians, register: "register-2.json" },
      mode: "reshare",
      previousRegister: "register.json",
      outputs: { transcript: "reshare.transcript" },
    });
    const fresh = sharesOnScreen(screen);
    expect(fresh.map((s) => s.split(":")[0])).toEqual(["dev/c1", "dev/c3", "dev/c4"]);
    const q2 = { threshold: 2, custodians: newCustodians, register: "register-2.json" };
    // The new shares open the same key: the CRL verifies under the existing root certificate.
    await run("crl-after-reshare.yaml", [fresh[2], fresh[0]], { ...crl("after-reshare"), quorum: q2 });
    expect(openssl("crl", "-in", "after-reshare.crl.pem", "-CAfile", "root.pem", "-noout")).toBe("");
    // The departed custodian's share is refused with the new register.
    expect(await refusal("departed.yaml", [shares[1]], { ...crl("departed"), quorum: q2 })).toBe("share 1: 'c2' is not a custodian of this quorum (c1, c3, c4)");
  });
});
