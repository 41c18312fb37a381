/** The OCSP test bed and the `openssl ocsp` checks (RFC 6960, ADR 0051), shared by the one-process
 *  responder (ocsp.test.ts) and the clustered one (ocsp-cluster.test.ts). */
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { hsmDigestSigner } from "../src/crl/digest-signer.js";
import { responderCsr } from "../src/ocsp/responder-cert.js";
import { OcspSigner } from "../src/ocsp/signer.js";
import { pushOcspResponses, type MtlsClientIdentity } from "../src/repository/client.js";
import type { Pkcs11Signer } from "../src/pkcs11/index.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { createTestCa, type TestCa } from "./fixtures.js";

export interface OcspTestBed {
  readonly ca: TestCa;
  readonly db: Database;
  readonly issuing: IssuingCa;
  /** The delegated responder's key in SoftHSM and its certificate, issued through profile "ocsp". */
  readonly responderSigner: Pkcs11Signer;
  readonly responderPem: string;
  readonly responderDer: Buffer;
  /** An OCSP signer over the test CA that pushes over mTLS to `publishUrl`. */
  signer(publishUrl: string, client: MtlsClientIdentity): OcspSigner;
}

/** A test CA (SoftHSM, PGlite in memory) with its delegated OCSP responder. */
export async function createOcspTestBed(dir: string): Promise<OcspTestBed> {
  const ca = await createTestCa(dir);
  const db = await openDatabase({ url: "memory://" });
  const issuing = await IssuingCa.start({ config: ca.config, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 2 });
  await ca.token.generateKeyPair("ocsp-issuing-ca-1", "ECDSA_P256");
  const responderSigner = await ca.token.signer("ocsp-issuing-ca-1", "ECDSA_P256");
  const r = await issuing.issue({ profile: "ocsp", csr: await responderCsr(responderSigner, "CN=LANIC OCSP issuing-ca-1,O=MTC,C=LA"), validityDays: 30 }, "lanic-ra");
  const responderDer = Buffer.from(r.certificate.replace(/-----[^-]+-----|\s/g, ""), "base64");
  return {
    ca,
    db,
    issuing,
    responderSigner,
    responderPem: r.certificate,
    responderDer,
    signer: (publishUrl, client) =>
      new OcspSigner({
        config: ca.config,
        db,
        signer: hsmDigestSigner(responderSigner),
        responderCertificate: responderDer,
        caCertificate: Buffer.from(ca.caCert.rawData),
        push: (resps) => pushOcspResponses(publishUrl, client, resps),
      }),
  };
}

export type Run = { status: number; stdout: string; stderr: string };

/** Async: a responder in this process would deadlock under a blocking spawnSync. */
export function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 20_000 }, (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

export interface OcspCheckContext {
  /** `openssl ocsp` against the responder, issuer and trust anchors set, `args` added. */
  ocsp(args: string[]): Promise<Run>;
  readonly certs: Record<"good" | "revoked" | "later", { serial: string; file: string }>;
  /** Revokes `later` (superseded) and runs one signer pass (which pushes it). */
  revokeLater(): Promise<void>;
}

/** Each check asks `repeat` times, each over a new connection (openssl closes it), so that a
 *  clustered responder is asked by more than one of its processes (the kernel picks which;
 *  ocsp-cluster.test.ts shows with x-ocsp-worker that every process answers). */
export function describeOpensslChecks(title: string, get: () => OcspCheckContext, repeat = 1): void {
  const ask = async (args: string[], check: (r: Run) => void) => {
    for (let i = 0; i < repeat; i++) check(await get().ocsp(args));
  };
  describe(title, () => {
    it("good, with the delegated responder certificate verified", async () => {
      const { good } = get().certs;
      await ask(["-cert", good.file], (r) => {
        expect(r.stdout).toContain(`${good.file}: good`);
        expect(r.stderr).toContain("Response verify OK");
        expect(r.stdout).toMatch(/This Update: .*\n\s+Next Update: /);
      });
    });

    it("revoked, with its reason", async () => {
      const { revoked } = get().certs;
      await ask(["-cert", revoked.file], (r) => {
        expect(r.stdout).toContain(`${revoked.file}: revoked`);
        expect(r.stdout).toContain("Reason: keyCompromise");
        expect(r.stderr).toContain("Response verify OK");
      });
    });

    it("a serial never issued is never good: unauthorized (RFC 6960 2.3, BR 4.9.9)", async () => {
      await ask(["-serial", "0x4242424242424242424242424242"], (r) => {
        expect(r.stdout + r.stderr).toContain("Responder Error: unauthorized (6)");
        expect(r.stdout).not.toContain(": good");
      });
    });

    it("SHA-256 CertIDs, and a nonce in the request (RFC 8954) are answered", async () => {
      const { good } = get().certs;
      await ask(["-sha256", "-cert", good.file], (r) => {
        expect(r.stdout).toContain(`${good.file}: good`);
        expect(r.stderr).toContain("Response verify OK");
        expect(r.stderr).toContain("WARNING: no nonce in response"); // pre-signed: not echoed, by design
      });
    });

    it("a revocation is reflected after the next signer pass (≤ 30 s)", async () => {
      const { later } = get().certs;
      await get().revokeLater();
      await ask(["-cert", later.file], (r) => {
        expect(r.stdout).toContain(`${later.file}: revoked`);
        expect(r.stdout).toContain("Reason: superseded");
      });
    });
  });
}
