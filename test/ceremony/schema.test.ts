import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadEnvironment, ENVIRONMENT_NAMES } from "../../environments/index.js";
import { renderCeremonyFiles } from "../../scripts/ceremony/render.js";
import { CeremonyFile, CeremonyFileError, parseCeremonyText } from "../../scripts/ceremony/schema.js";
import { CEREMONY_TYPES } from "../../scripts/ceremony/types.js";

const ROOT_CERT = `type: root-certificate
environment: dev
description: test
hsm: { library: /usr/lib/softhsm/libsofthsm2.so, tokenLabel: root }
quorum:
  threshold: 2
  custodians: [{ id: c1, name: One }, { id: c2, name: Two }, { id: c3, name: Three }]
  register: register.json
key: { label: root, algorithm: ECDSA_P384 }
inputs: { publicKey: root.pub.pem }
certificate:
  subject: { CN: Test Root, O: Test, C: LA }
  notBefore: signing-time
  validityDays: 3653
outputs: { certificate: root.pem, transcript: root-cert }
`;

const F = "ceremonies/root.yaml";
const refused = (text: string) => {
  try {
    parseCeremonyText(text, F);
  } catch (err) {
    expect(err).toBeInstanceOf(CeremonyFileError);
    return (err as CeremonyFileError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("accepted");
};

describe("ceremony files are parsed strictly, before any HSM is touched", () => {
  it("the zod-free list of types the CLI's help names is the schema's union, in order", () => {
    expect(CeremonyFile.options.map((o) => o.shape.type.value)).toEqual([...CEREMONY_TYPES]);
  });

  it("accepts a valid root-certificate file", () => {
    expect(parseCeremonyText(ROOT_CERT, F).type).toBe("root-certificate");
  });

  it.each([
    ["an unknown key", ROOT_CERT.replace("validityDays: 3653", "validityDays: 3653\n  extendedKeyUsage: [serverAuth]"), "certificate.extendedKeyUsage: unknown key 'extendedKeyUsage' (not allowed here)"],
    ["a validity over the BR limit", ROOT_CERT.replace("validityDays: 3653", "validityDays: 9133"), "certificate.validityDays: 9133 days is more than 9132, the maximum for a root certificate (BR 7.1.2.1.1)"],
    ["a validity under the BR minimum", ROOT_CERT.replace("validityDays: 3653", "validityDays: 365"), "certificate.validityDays: 365 days is less than 2922, the minimum for a root certificate (BR 7.1.2.1.1)"],
    ["a missing field", ROOT_CERT.replace("  notBefore: signing-time\n", ""), "certificate.notBefore: Invalid input"],
    ["a weak root key", ROOT_CERT.replace("algorithm: ECDSA_P384", "algorithm: RSA_2048"), "key.algorithm: RSA_2048 is not allowed for a root key; allowed: ECDSA_P384, RSA_4096 (CP/CPS 6.1.5, BR 6.1.5, MRSP 5.1)"],
    ["a quorum of one", ROOT_CERT.replace("threshold: 2", "threshold: 1"), "quorum.threshold: 1 is below 2: the offline HSM needs multi-person control (BR 5.2.2, 6.2.2)"],
    ["a quorum larger than the custodians", ROOT_CERT.replace("threshold: 2", "threshold: 4"), "quorum.threshold: 4 is more than the 3 custodians"],
    [
      "an unknown ceremony type",
      ROOT_CERT.replace("type: root-certificate", "type: root-cert"),
      'type: must be one of "quorum-split", "root-key", "root-certificate", "intermediate", "cross-certificate", "ca-crl", "issuing-ca-key", "external-csr", "external-certificate-import", "key-backup", "key-restore" (got "root-cert")',
    ],
    ["a bad country", ROOT_CERT.replace("C: LA", "C: Laos"), 'certificate.subject.C: an ISO 3166-1 alpha-2 code, e.g. LA (got "Laos")'],
  ])("refuses %s", (_what, text, message) => {
    expect(refused(text)).toEqual([message]);
  });

  it("refuses a duplicate YAML key", () => {
    expect(refused(ROOT_CERT.replace("environment: dev", "environment: dev\nenvironment: prod"))[0]).toMatch(/^line 3: Map keys must be unique/);
  });

  it("names the file in the error message", () => {
    expect(() => parseCeremonyText(ROOT_CERT.replace("validityDays: 3653", "validityDays: 9200"), F)).toThrow(
      "ceremonies/root.yaml: invalid ceremony file (1 problem):\n  - ceremonies/root.yaml: certificate.validityDays: 9200 days is more than 9132, the maximum for a root certificate (BR 7.1.2.1.1)",
    );
  });

  const CRL = ROOT_CERT.replace("type: root-certificate", "type: ca-crl")
    .replace("key: { label: root, algorithm: ECDSA_P384 }", "issuerKey: { label: root, algorithm: ECDSA_P384 }")
    .replace("inputs: { publicKey: root.pub.pem }", "inputs: { issuerCertificate: root.pem }")
    .replace(/certificate:\n( {2}.*\n)+/, "crl: { number: 1, thisUpdate: signing-time, nextUpdateDays: 366 }\n")
    .replace("outputs: { certificate: root.pem, transcript: root-cert }", "outputs: { crl: root.crl, transcript: crl }");
  it("refuses a CA CRL valid for more than 12 months (BR 4.9.7)", () => {
    expect(refused(CRL)).toEqual(["crl.nextUpdateDays: 366 days is more than 365: a CRL of CA certificates is re-issued at least every 12 months (BR 4.9.7)"]);
    expect(parseCeremonyText(CRL.replace("366", "365"), F).type).toBe("ca-crl");
  });
});

describe("renderCeremonyFiles", () => {
  it.each(ENVIRONMENT_NAMES)("renders strictly valid files for %s", (name) => {
    const env = loadEnvironment(name);
    const files = renderCeremonyFiles(env);
    expect(files[0].path).toBe("README.md");
    for (const f of files.filter((x) => x.path.endsWith(".yaml"))) {
      const c = parseCeremonyText(f.content, f.path);
      expect(c.environment).toBe(name);
    }
  });

  it("carries the environment's names, limits and URLs into the ceremonies (production)", () => {
    const env = loadEnvironment("production");
    const files = Object.fromEntries(renderCeremonyFiles(env).map((f) => [f.path, f.path.endsWith(".yaml") ? parse(f.content) : f.content]));
    expect(Object.keys(files)).toEqual([
      "README.md",
      "01-quorum-split.yaml",
      "02-root-key.yaml",
      "03-root-certificate.yaml",
      "04-lao-gov-signing-ca-1-key.yaml",
      "05-lao-gov-signing-ca-1-intermediate.yaml",
      "06-lao-gov-tls-ca-1-key.yaml",
      "07-lao-gov-tls-ca-1-intermediate.yaml",
      "08-ca-crl.yaml",
      "09-lao-gov-root-ca-key-backup.yaml",
      "10-lao-gov-signing-ca-1-key-backup.yaml",
      "11-lao-gov-tls-ca-1-key-backup.yaml",
      "restore-lao-gov-root-ca-key.yaml",
      "restore-lao-gov-signing-ca-1-key.yaml",
      "restore-lao-gov-tls-ca-1-key.yaml",
    ]);
    // Every CA key generated for backup, backed up with a copy at each site (ADR 0082, BR 5.7.1.1 (11)).
    expect(files["02-root-key.yaml"].key.backup).toBe(true);
    expect(files["04-lao-gov-signing-ca-1-key.yaml"].key.backup).toBe(true);
    expect(files["09-lao-gov-root-ca-key-backup.yaml"].custodians.threshold).toBe(3);
    expect(files["10-lao-gov-signing-ca-1-key-backup.yaml"].quorum).toBeUndefined();
    expect(files["11-lao-gov-tls-ca-1-key-backup.yaml"].copies.map((c: { id: string }) => c.id)).toEqual(["lanic-key-safe", "backup-key-safe"]);
    expect(files["restore-lao-gov-root-ca-key.yaml"].inputs.media).toBe("lao-gov-root-ca.key-backup.json");
    expect(files["03-root-certificate.yaml"].certificate).toEqual({
      subject: { CN: "Lao Government Root CA 2026", O: "Ministry of Technology and Communications", C: "LA" },
      notBefore: "signing-time",
      validityDays: 5479,
    });
    expect(files["02-root-key.yaml"].quorum.threshold).toBe(3);
    const tls = files["07-lao-gov-tls-ca-1-intermediate.yaml"].certificate;
    expect(tls.crlUrl).toBe("http://repository.ca.gov.la/crl/lao-gov-root-ca.crl");
    expect(tls.issuerUrl).toBe("http://repository.ca.gov.la/certs/lao-gov-root-ca.der");
    // every policy its leaves assert (RFC 5280 6.1: a non-empty tree under -explicit_policy), the
    // reserved identifier first (BR 7.1.2.10.5)
    expect(tls.policies).toEqual(["2.23.140.1.2.2", env.cpCps.policyOid, "2.16.418.1.1.2.3"]);
    expect(tls.extendedKeyUsage).toEqual(["serverAuth"]);
    expect(files["08-ca-crl.yaml"].crl.nextUpdateDays).toBe(365);
    // No root OCSP responder (ADR 0072); the README points at the cross-certificate template.
    expect(files["README.md"]).toContain("`lanic-ca ceremony template cross-certificate --environment production ...`");
  });

  it("renders the external-CSR ceremonies for the pilot", () => {
    const files = renderCeremonyFiles(loadEnvironment("pilot")).map((f) => f.path);
    expect(files).toEqual([
      "README.md",
      "01-lao-gov-pilot-ca-1-external-csr.yaml",
      "02-lao-gov-pilot-ca-1-external-import.yaml",
      // our CA key under the external root is backed up too, by the custodians the pilot declares (ADR 0082)
      "03-lao-gov-pilot-ca-1-key-backup.yaml",
      "restore-lao-gov-pilot-ca-1-key.yaml",
    ]);
  });
});
