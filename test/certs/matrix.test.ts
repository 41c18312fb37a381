/**
 * The verification matrix: every profile of the CP × every key family it allows (ECDSA, RSA),
 * under one CA hierarchy per CA key family. The root and the issuing CAs are made by the dev
 * environment's ceremony files exactly as synth renders them (the ceremonies' code path: render →
 * lint → SoftHSM); the leaves are issued by the issuing CA's issuance code (the start-up coverage
 * check, compileProfile, prepareCertificate with its pre-issuance lint, signCertificate). Each
 * leaf is then checked by three independent verifiers, as relying parties would:
 * - OpenSSL: `verify -x509_strict -purpose … -policy_check -explicit_policy -policy <OID>`;
 * - GnuTLS: `certtool --verify-chain --verify-purpose <EKU OID>`;
 * - NSS: `vfychain -pp -pp -u <usage> -o <OID>` (libpkix, required policy).
 * and the status side: the issuing CA's CRL (crl/encode.ts) with `openssl crl` and
 * `verify -crl_check`, an OCSP response (ocsp/protocol.ts) with `openssl ocsp`.
 * One hierarchy per CA key family is reused for every leaf (runtime).
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EKU_OIDS, type KeyAlgorithm, type Profile } from "@lanic-ca/pki-services/config/schema";
import { writeCrl } from "@lanic-ca/pki-services/crl/encode";
import { hsmDigestSigner } from "@lanic-ca/pki-services/crl/digest-signer";
import { issuerHashes, ocspResponse, publicKeyBits, responseData } from "@lanic-ca/pki-services/ocsp/protocol";
import { Pkcs11Token, type Pkcs11Signer } from "@lanic-ca/pki-services/pkcs11/index";
import { compileProfile, issuerCoverageProblems, issuerFromCertificate, issuerPublicKey, parseCsr, prepareCertificate, randomSerial, signCertificate, toPem } from "@lanic-ca/pki-services/pki/index";
import dev from "../../environments/dev.js";
import { parseEnvironment, type EnvironmentInput } from "../../environments/index.js";
import { renderCeremonyFiles } from "../../scripts/ceremony/render.js";
import { CeremonyWorkspace, sharesOnScreen } from "../ceremony/helpers.js";

const ws = new CeremonyWorkspace();
const PIN = "online-pin-1";
const SO = "root-so-pin-1";

/** One CA hierarchy per CA key family: the dev environment with its keys of that family. */
const HIERARCHIES = {
  ecdsa: { root: "ECDSA_P384", ca: "ECDSA_P256" },
  rsa: { root: "RSA_4096", ca: "RSA_3072" },
} as const satisfies Record<string, { root: KeyAlgorithm; ca: KeyAlgorithm }>;
type H = keyof typeof HIERARCHIES;

function environment(h: H): EnvironmentInput {
  const d = structuredClone(dev) as EnvironmentInput;
  const { root, ca } = HIERARCHIES[h];
  if (d.rootOfTrust.type !== "offline") throw new Error("dev has an offline root");
  d.rootOfTrust.keyAlgorithm = root;
  d.rootOfTrust.hsm.tokenLabel = `matrix-root-${h}`;
  const part = d.hsm.partitions.find((p) => p.name === "dev")!;
  part.tokenLabel = `matrix-online-${h}`;
  for (const k of part.keys) if (k.purpose === "issuing-ca") k.algorithm = ca;
  for (const c of d.issuingCas) c.keyAlgorithm = ca;
  return d;
}

/** What each profile kind is checked for, by each verifier. */
const PURPOSE: Record<string, { openssl: string; eku: string; nss?: number }> = {
  "tls-server": { openssl: "sslserver", eku: EKU_OIDS.serverAuth, nss: 1 },
  smime: { openssl: "smimesign", eku: EKU_OIDS.emailProtection, nss: 4 },
  "operator-client": { openssl: "sslclient", eku: EKU_OIDS.clientAuth, nss: 0 },
  "ex-officio-signing": { openssl: "sslclient", eku: EKU_OIDS.documentSigning, nss: 0 },
  "organisation-signing": { openssl: "sslclient", eku: EKU_OIDS.documentSigning, nss: 0 },
  "ocsp-signing": { openssl: "ocsphelper", eku: EKU_OIDS.ocspSigning, nss: 10 },
  // NSS has no time-stamping usage (vfychain -u): OpenSSL and GnuTLS check it.
  "time-stamping": { openssl: "timestampsign", eku: EKU_OIDS.timeStamping },
};
const SUBJECT: Record<string, [string, string[]]> = {
  "tls-server": ["/C=LA/L=Vientiane/O=Ministry of Technology and Communications/CN=www.mtc.gov.la", ["subjectAltName=DNS:www.mtc.gov.la"]],
  smime: ["/C=LA/O=Ministry of Technology and Communications/CN=Somphone Phommavong", ["subjectAltName=email:somphone@mtc.gov.la"]],
  "operator-client": ["/C=LA/O=Ministry of Technology and Communications/CN=Operator One", []],
  "ex-officio-signing": ["/C=LA/O=ກະຊວງ ເຕັກໂນໂລຊີ ແລະ ການສື່ສານ/title=ຫົວໜ້າກົມ/CN=ສົມພອນ ພົມມະວົງ", []],
  "organisation-signing": ["/C=LA/O=Lao Telecom Co./organizationIdentifier=LIC-0042/CN=Lao Telecom Co.", []],
  "ocsp-signing": ["/C=LA/O=Ministry of Technology and Communications/CN=OCSP Responder", []],
  "time-stamping": ["/C=LA/O=Ministry of Technology and Communications/CN=Time-Stamping Authority", []],
};
const KEY_SPEC: Record<string, string> = { ECDSA_P256: "ec:P-256", ECDSA_P384: "ec:P-384", RSA_2048: "rsa:2048", RSA_3072: "rsa:3072", RSA_4096: "rsa:4096" };
/** The subject keys tried per profile: one per family it allows (the smallest, for runtime). */
const keysFor = (p: Profile): KeyAlgorithm[] =>
  (["ECDSA_P256", "ECDSA_P384"] as const)
    .filter((a) => p.allowedKeyAlgorithms.includes(a))
    .slice(0, 1)
    .concat((["RSA_2048", "RSA_3072", "RSA_4096"] as const).filter((a) => p.allowedKeyAlgorithms.includes(a)).slice(0, 1));

interface Hierarchy {
  dir: string;
  rootPem: string;
  crlPem: string;
  cas: { name: string; pem: string; der: Buffer; signer: Pkcs11Signer; profiles: string[] }[];
  token: Pkcs11Token;
}
const hs: Partial<Record<H, Hierarchy>> = {};
interface Leaf {
  h: H;
  ca: string;
  profile: string;
  key: KeyAlgorithm;
  file: string;
  chain: string;
  serial: Buffer;
  policy?: string;
}
const leaves: Leaf[] = [];

const run = (cmd: string, args: string[], cwd?: string) => spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
function opensslKey(dir: string, alg: KeyAlgorithm): string {
  const file = join(dir, `key-${alg}.pem`);
  try {
    readFileSync(file);
  } catch {
    const spec = KEY_SPEC[alg];
    const args = spec.startsWith("rsa:") ? ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${spec.slice(4)}`] : ["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${spec.slice(3)}`];
    const r = run("openssl", ["genpkey", ...args, "-out", file]);
    if (r.status !== 0) throw new Error(r.stderr);
  }
  return file;
}

async function makeHierarchy(h: H): Promise<Hierarchy> {
  const env = parseEnvironment(environment(h), `matrix:${h}`);
  const dir = join(ws.dir, h);
  mkdirSync(dir);
  const files = renderCeremonyFiles(env).filter((f) => f.path.endsWith(".yaml"));
  let shares: string[] = [];
  let k = 0;
  for (const f of files) {
    const path = join(dir, f.path);
    writeFileSync(path, f.content);
    const type = (parse(f.content) as { type: string }).type;
    // Key backup needs the security officer at the HSM; test/ceremony/key-backup.test.ts runs it.
    if (type === "key-backup" || type === "key-restore") continue;
    const lines = type === "quorum-split" ? [SO, ...Array(6).fill("")] : type === "issuing-ca-key" ? [PIN] : [shares[k % 3], shares[++k % 3]];
    const { result, screen } = await ws.runFile(path, lines);
    if (type === "quorum-split") shares = sharesOnScreen(screen, "dev");
    expect(result.status, f.path).toBe("succeeded");
  }
  const token = await Pkcs11Token.open({ library: ws.library, tokenLabel: `matrix-online-${h}`, pin: PIN, poolSize: 2 });
  const cas = [];
  for (const ca of env.issuingCas) {
    const pem = readFileSync(join(dir, `${ca.name}.crt.pem`), "utf8");
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    cas.push({ name: ca.name, pem, der, signer: await token.signer(ca.keyLabel, ca.keyAlgorithm), profiles: ca.profiles });
  }
  return { dir, rootPem: join(dir, `${env.rootOfTrust.name}.crt.pem`), crlPem: join(dir, `${env.rootOfTrust.name}.crl.pem`), cas, token };
}

beforeAll(async () => {
  ws.setUp(
    (Object.keys(HIERARCHIES) as H[]).flatMap((h) => [
      { label: `matrix-root-${h}`, pin: "transport-pin", soPin: SO },
      { label: `matrix-online-${h}`, pin: PIN },
    ]),
    "cert-matrix-",
  );
  const env = parseEnvironment(dev, "dev");
  const urls = (ca: string) => ({ caIssuers: `${env.repository.baseUrl}/certs/${ca}.der`, crl: `${env.repository.baseUrl}/crl/${ca}.crl`, ocsp: env.va.url });
  for (const h of Object.keys(HIERARCHIES) as H[]) {
    const hy = (hs[h] = await makeHierarchy(h));
    for (const ca of hy.cas) {
      writeFileSync(join(hy.dir, `${ca.name}.chain.pem`), ca.pem + readFileSync(hy.rootPem, "utf8"));
      const issuer = issuerFromCertificate(ca.der, HIERARCHIES[h].ca, urls(ca.name));
      for (const name of ca.profiles) {
        const profile = env.profiles[name];
        // what the issuing CA checks at start (issuing-ca/service.ts): its certificate covers the profile
        expect(issuerCoverageProblems(name, profile, issuer), `${h} ${ca.name} ${name}`).toEqual([]);
        const compiled = compileProfile(name, profile, issuer);
        for (const key of keysFor(profile)) {
          const [subj, addext] = SUBJECT[name];
          const csrPem = run("openssl", ["req", "-new", "-utf8", "-key", opensslKey(ws.dir, key), "-subj", subj, "-sha256", ...addext.flatMap((e) => ["-addext", e])]);
          if (csrPem.status !== 0) throw new Error(csrPem.stderr);
          const serial = randomSerial();
          const prepared = prepareCertificate(compiled, parseCsr(csrPem.stdout), { serial, validityDays: Math.min(profile.maxValidityDays, 90) });
          const der = await signCertificate(compiled, prepared, ca.signer, issuerPublicKey(issuer.spki));
          const file = join(hy.dir, `${ca.name}-${name}-${key}.pem`);
          writeFileSync(file, toPem(der, "CERTIFICATE"));
          const chain = join(hy.dir, `${ca.name}-${name}-${key}.chain.pem`);
          writeFileSync(chain, toPem(der, "CERTIFICATE") + ca.pem + readFileSync(hy.rootPem, "utf8"));
          leaves.push({ h, ca: ca.name, profile: name, key, file, chain, serial, policy: profile.policyOids[0] });
        }
      }
    }
  }
}, 240_000);

afterAll(() => {
  for (const h of Object.values(hs)) h?.token.close();
  ws.tearDown();
});

describe("the verification matrix: every profile × key family, per CA key family", () => {
  it("covers every profile of the CP with ECDSA and RSA subject keys under an ECDSA and an RSA hierarchy", () => {
    const env = parseEnvironment(dev, "dev");
    const expected = (Object.keys(HIERARCHIES) as H[]).flatMap((h) => env.issuingCas.flatMap((ca) => ca.profiles.flatMap((p) => keysFor(env.profiles[p]).map((k) => `${h}/${ca.name}/${p}/${k}`))));
    expect(leaves.map((l) => `${l.h}/${l.ca}/${l.profile}/${l.key}`)).toEqual(expected);
    expect(new Set(leaves.map((l) => l.profile)).size).toBe(Object.keys(env.profiles).length);
    expect(new Set(leaves.map((l) => l.key.slice(0, 3)))).toEqual(new Set(["ECD", "RSA"]));
  });

  it("OpenSSL: -x509_strict, the profile's purpose, and its policy required explicitly (RFC 5280 6.1)", () => {
    const failed: string[] = [];
    for (const l of leaves) {
      const hy = hs[l.h]!;
      const policy = l.policy ? ["-policy_check", "-explicit_policy", "-policy", l.policy] : [];
      const r = run("openssl", ["verify", "-x509_strict", "-purpose", PURPOSE[l.profile].openssl, ...policy, "-CAfile", hy.rootPem, "-untrusted", join(hy.dir, `${l.ca}.crt.pem`), l.file]);
      if (r.status !== 0 || r.stdout.trim() !== `${l.file}: OK`) failed.push(`${l.h}/${l.ca}/${l.profile}/${l.key}: ${r.stdout}${r.stderr}`);
    }
    expect(failed).toEqual([]);
  });

  it("GnuTLS: certtool --verify-chain --verify-purpose with the profile's EKU", () => {
    const failed: string[] = [];
    const refused: string[] = [];
    for (const l of leaves) {
      const r = run("certtool", ["--verify-chain", `--verify-purpose=${PURPOSE[l.profile].eku}`, "--infile", l.chain]);
      const ok = r.status === 0 && /Chain verification output: Verified/.test(r.stdout);
      // The TLS CA's own responder: GnuTLS checks the purpose along the chain, and BR 7.1.2.10.6
      // forbids id-kp-OCSPSigning in a TLS CA. RFC 6960 4.2.2.2 authorizes the responder by its
      // issuer, and GnuTLS's OCSP verification accepts it (the ocsptool check below; ADR 0070).
      if (l.ca.includes("tls") && l.profile === "ocsp-signing") {
        if (!ok && /does not match the intended purpose/.test(r.stdout)) refused.push(`${l.h}/${l.key}`);
        continue;
      }
      if (!ok)
        failed.push(
          `${l.h}/${l.ca}/${l.profile}/${l.key}: ${r.stdout
            .split("\n")
            .filter((x) => /Verif|Not/.test(x))
            .join(" | ")}${r.stderr}`,
        );
    }
    expect(failed).toEqual([]);
    expect(refused).toEqual(["ecdsa/ECDSA_P256", "ecdsa/RSA_3072", "rsa/ECDSA_P256", "rsa/RSA_3072"]);
  });

  it("NSS: vfychain (libpkix) with the usage and the required policy", () => {
    const failed: string[] = [];
    for (const l of leaves) {
      const usage = PURPOSE[l.profile].nss;
      if (usage === undefined) continue;
      const hy = hs[l.h]!;
      const policy = l.policy ? ["-o", `OID.${l.policy}`] : [];
      const r = run("vfychain", ["-pp", "-pp", "-u", String(usage), ...policy, "-a", l.file, "-a", join(hy.dir, `${l.ca}.crt.pem`), "-t", "-a", hy.rootPem]);
      if (r.status !== 0 || !/Chain is good!/.test(r.stdout + r.stderr)) failed.push(`${l.h}/${l.ca}/${l.profile}/${l.key}: ${(r.stdout + r.stderr).trim()}`);
    }
    expect(failed).toEqual([]);
  });

  it("status: the root's CA CRL and each issuing CA's CRL verify with openssl crl; a revoked leaf fails -crl_check, a good one passes", async () => {
    for (const h of Object.keys(HIERARCHIES) as H[]) {
      const hy = hs[h]!;
      expect(run("openssl", ["crl", "-in", hy.crlPem, "-CAfile", hy.rootPem, "-noout"]).stderr).toContain("verify OK");
      for (const ca of hy.cas) {
        const mine = leaves.filter((l) => l.h === h && l.ca === ca.name);
        const [revoked, good] = mine;
        const out = join(hy.dir, `${ca.name}.crl`);
        const tbsNow = new Date();
        const rows = [{ serial: revoked.serial.toString("hex"), revokedAt: tbsNow.toISOString().replace(/[-:T]/g, "").slice(0, 14), reason: 1, invalidity: null }];
        const issuer = issuerFromCertificate(ca.der, HIERARCHIES[h].ca, { caIssuers: "http://x", crl: "http://x" });
        await writeCrl({
          issuerDer: issuer.subjectDer,
          authorityKeyId: issuer.keyIdentifier,
          crlNumber: 1n,
          thisUpdate: tbsNow,
          nextUpdate: new Date(tbsNow.getTime() + 86_400_000),
          signer: hsmDigestSigner(ca.signer),
          entries: (async function* () {
            yield rows;
          })(),
          out,
        });
        const crl = run("openssl", ["crl", "-inform", "DER", "-in", out, "-CAfile", join(hy.dir, `${ca.name}.chain.pem`), "-noout"]);
        expect(crl.stderr, `${h} ${ca.name}`).toContain("verify OK");
        const crlPem = join(hy.dir, `${ca.name}.crl.pem`);
        run("openssl", ["crl", "-inform", "DER", "-in", out, "-out", crlPem]);
        const both = join(hy.dir, `${ca.name}.crls.pem`);
        writeFileSync(both, readFileSync(crlPem, "utf8") + readFileSync(hy.crlPem, "utf8"));
        const check = (l: Leaf) => run("openssl", ["verify", "-x509_strict", "-crl_check_all", "-CRLfile", both, "-CAfile", hy.rootPem, "-untrusted", join(hy.dir, `${ca.name}.crt.pem`), l.file]);
        expect(check(good).status, check(good).stdout + check(good).stderr).toBe(0);
        expect(check(revoked).stdout + check(revoked).stderr).toMatch(/certificate revoked/);
      }
    }
  });

  it("status: an OCSP response for each CA's leaf, signed by its delegated responder (issued above), verifies with openssl ocsp", async () => {
    for (const h of Object.keys(HIERARCHIES) as H[]) {
      const hy = hs[h]!;
      for (const ca of hy.cas) {
        const responder = leaves.find((l) => l.h === h && l.ca === ca.name && l.profile === "ocsp-signing" && l.key === "ECDSA_P256")!;
        const leaf = leaves.find((l) => l.h === h && l.ca === ca.name && l.profile !== "ocsp-signing")!;
        const responderPem = readFileSync(responder.file, "utf8");
        const responderDer = Buffer.from(responderPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
        const issuer = issuerFromCertificate(ca.der, HIERARCHIES[h].ca, { caIssuers: "http://x", crl: "http://x" });
        const hashes = issuerHashes("sha1", issuer.subjectDer, issuer.spki);
        const responderSpki = issuerFromCertificate(responderDer, "ECDSA_P256", { caIssuers: "http://x", crl: "http://x" }).spki;
        const now = new Date(Math.floor(Date.now() / 1000) * 1000);
        const tbs = responseData({
          hash: "sha1",
          nameHash: hashes.nameHash,
          keyHash: hashes.keyHash,
          serial: leaf.serial,
          status: { status: "good" },
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + 8 * 3600_000),
          responderKeyHash: createHash("sha1").update(publicKeyBits(responderSpki)).digest(),
        });
        // the responder's key is the openssl key the ocsp-signing leaf certified (ECDSA P-256)
        writeFileSync(join(hy.dir, "ocsp.tbs"), tbs);
        expect(run("openssl", ["dgst", "-sha256", "-sign", opensslKey(ws.dir, "ECDSA_P256"), "-binary", "-out", join(hy.dir, "ocsp.sig"), join(hy.dir, "ocsp.tbs")]).status).toBe(0);
        const ecdsaSha256 = Buffer.from("300a06082a8648ce3d040302", "hex");
        const resp = ocspResponse(tbs, ecdsaSha256, readFileSync(join(hy.dir, "ocsp.sig")), [responderDer]);
        const respFile = join(hy.dir, `${ca.name}.ocsp.der`);
        writeFileSync(respFile, resp);
        const r = run("openssl", ["ocsp", "-respin", respFile, "-issuer", join(hy.dir, `${ca.name}.crt.pem`), "-cert", leaf.file, "-CAfile", hy.rootPem, "-verify_other", join(hy.dir, `${ca.name}.crt.pem`)]);
        expect(r.stdout + r.stderr, `${h} ${ca.name}`).toContain("Response verify OK");
        expect(r.stdout).toContain(`${leaf.file}: good`);
        // GnuTLS verifies the response against the CA as its trust anchor: the responder is issued by it with id-kp-OCSPSigning (RFC 6960 4.2.2.2)
        const g = run("ocsptool", ["--verify-response", "--load-trust", join(hy.dir, `${ca.name}.crt.pem`), "--infile", respFile, "--inder"]);
        expect(g.stdout + g.stderr, `${h} ${ca.name}`).toMatch(/Verifying OCSP Response: Success/);
      }
    }
  });
});
