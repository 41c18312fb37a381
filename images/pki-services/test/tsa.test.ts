/**
 * The time-stamping authority (RFC 3161) through the real CLI (`pki-services tsa`), with its key
 * in SoftHSM, its certificate issued by the issuing CA under the time-stamping profile, a real
 * NTP server (chronyd) as its clock source, and OpenSSL as the independent client and verifier:
 * `openssl ts -query/-reply/-verify` for every hash, a CMS signature given a time-stamp, a wrong
 * imprint, a revoked TSA certificate and an unsynchronised clock.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CrlPublisher } from "../src/crl/publisher.js";
import { hsmDigestSigner } from "../src/crl/digest-signer.js";
import { responderCsr } from "../src/ocsp/responder-cert.js";
import { children, content, ctxCons, oid, readTlv, seq, set, tlv } from "../src/pki/der.js";
import { IssuingCa } from "../src/issuing-ca/service.js";
import { openDatabase, type Database } from "../src/storage/db.js";
import { judge, queryNtp } from "../src/tsa/clock.js";
import { summarizeResponse, timeStampRequest, TSA_OID } from "../src/tsa/protocol.js";
import { createTestCa, CP_OID, type TestCa } from "./fixtures.js";
import { freePort, tempDir } from "./helpers.js";

const MAIN = join(import.meta.dirname, "../dist/main.js");
const TSA_POLICY = "1.3.6.1.4.1.99999.1.5.1";
const openssl = (args: string[], input?: Buffer) => spawnSync("openssl", args, { encoding: "utf8", input, env: { ...process.env, OPENSSL_CONF: "/dev/null" } });

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let db: Database;
let issuing: IssuingCa;
let tsaCertPem: string;
let tsaSerial: string;
let chainFile: string;

/** A real NTP server on loopback: chronyd serving its local clock (never touching ours). */
async function startChrony(dir: string, opts: { synchronised: boolean; shiftSeconds?: number; port?: number }): Promise<{ port: number; stop: () => void }> {
  const port = opts.port ?? (await freePort());
  const conf = join(dir, `chrony-${port}.conf`);
  writeFileSync(conf, `${[`port ${port}`, "bindaddress 127.0.0.1", "allow 127.0.0.1", "cmdport 0", `pidfile ${dir}/chronyd-${port}.pid`, ...(opts.synchronised ? ["local stratum 8"] : [])].join("\n")}\n`);
  const args = ["-x", "-d", "-u", "root", "-f", conf];
  const p = opts.shiftSeconds ? spawn("faketime", ["-f", `+${opts.shiftSeconds}s`, "chronyd", ...args], { stdio: "ignore" }) : spawn("chronyd", args, { stdio: "ignore" });
  // ready when it answers (a synchronised server) or after a moment (one that never answers)
  for (let i = 0; i < 60; i++) {
    if (
      await queryNtp({ host: "127.0.0.1", port }, 500).then(
        () => true,
        () => false,
      )
    )
      break;
    if (!opts.synchronised && i >= 2) break;
  }
  return { port, stop: () => p.kill("SIGKILL") };
}

interface RunningTsa {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly out: string[];
  stop(): Promise<void>;
}

async function startTsa(name: string, ntpPort: number, extra: Record<string, unknown> = {}): Promise<RunningTsa> {
  const port = await freePort();
  const config = join(tmp.dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      name,
      environment: "test",
      keyAlgorithm: "RSA_3072",
      hsm: { library: ca.hsm.library, tokenLabel: ca.hsm.tokenLabel, keyLabel: "tsa-1", pinFile: ca.config.hsm.pinFile },
      certificatePath: join(tmp.dir, "tsa.pem"),
      chainPaths: [ca.caFile],
      policyOid: TSA_POLICY,
      accuracy: { seconds: 1 },
      ntp: { sources: [{ host: "127.0.0.1", port: ntpPort }], intervalSeconds: 2 },
      ...extra,
    }),
  );
  const proc = spawn(process.execPath, [MAIN, "tsa", "--config", config, "--db", join(tmp.dir, "tsa-db"), "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, SOFTHSM2_CONF: ca.hsm.conf },
  });
  const out: string[] = [];
  proc.stdout!.on("data", (d: Buffer) => out.push(d.toString()));
  proc.stderr!.on("data", (d: Buffer) => out.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tsa did not start: ${out.join("")}`)), 240_000);
    const check = () => {
      if (out.join("").includes('"listening"')) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stdout!.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`tsa exited with ${code}: ${out.join("")}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    proc,
    out,
    stop: () =>
      new Promise((r) => {
        proc.removeAllListeners("exit");
        proc.once("exit", () => r());
        proc.kill("SIGTERM");
      }),
  };
}

const post = async (url: string, body: Buffer, type = "application/timestamp-query") => {
  const r = await fetch(url, { method: "POST", body, headers: { "content-type": type } });
  return { status: r.status, type: r.headers.get("content-type"), body: Buffer.from(await r.arrayBuffer()) };
};

let ntp: { port: number; stop: () => void };
let tsa: RunningTsa;

beforeAll(async () => {
  tmp = tempDir("tsa");
  chmodSync(tmp.dir, 0o755);
  ca = await createTestCa(tmp.dir);
  db = await openDatabase({ url: "memory://" });
  const profiles = {
    ...ca.config.profiles,
    tsa: {
      kind: "time-stamping" as const,
      description: "Time-stamping authority",
      maxValidityDays: 365,
      allowedKeyAlgorithms: ["RSA_3072" as const, "ECDSA_P256" as const],
      keyUsage: ["digitalSignature" as const, "nonRepudiation" as const],
      extendedKeyUsage: ["timeStamping" as const],
      policyOids: [CP_OID],
      subject: { required: ["CN" as const, "O" as const, "C" as const], optional: [], countries: ["LA"] },
      subjectAltNames: { dns: false, email: false, required: false },
      ocspNoCheck: false,
    },
  };
  issuing = await IssuingCa.start({ config: { ...ca.config, profiles }, db, pin: ca.hsm.pin, caCertificate: Buffer.from(ca.caCert.rawData), poolSize: 2 });
  await ca.token.generateKeyPair("tsa-1", "RSA_3072");
  const r = await issuing.issue({ profile: "tsa", csr: await responderCsr(await ca.token.signer("tsa-1", "RSA_3072"), "CN=LANIC Test TSA 1,O=MTC,C=LA"), validityDays: 365 }, "lanic-ra");
  tsaCertPem = r.certificate;
  tsaSerial = r.serial;
  writeFileSync(join(tmp.dir, "tsa.pem"), tsaCertPem);
  chainFile = join(tmp.dir, "chain.pem");
  writeFileSync(chainFile, ca.rootPem + ca.caPem);
  ntp = await startChrony(tmp.dir, { synchronised: true });
  tsa = await startTsa("tsa-1", ntp.port);
}, 300_000);

afterAll(async () => {
  await tsa?.stop();
  ntp?.stop();
  await issuing?.stop();
  await db?.close();
  ca?.token.close();
  tmp?.cleanup();
});

function stampFile(data: string, hash: "sha256" | "sha384" | "sha512", extraQuery: string[] = []): { query: string; reply: string } {
  const query = join(tmp.dir, `${hash}-${randomBytes(4).toString("hex")}.tsq`);
  const q = openssl(["ts", "-query", "-data", data, `-${hash}`, "-cert", ...extraQuery, "-out", query]);
  expect(q.status, q.stderr).toBe(0);
  return { query, reply: query.replace(/\.tsq$/, ".tsr") };
}

describe("pki-services tsa (RFC 3161) checked with openssl ts", () => {
  it("the TSA certificate carries id-kp-timeStamping alone, critical (RFC 3161 2.3)", () => {
    const t = openssl(["x509", "-noout", "-ext", "extendedKeyUsage"], Buffer.from(tsaCertPem));
    expect(t.stdout).toMatch(/X509v3 Extended Key Usage: critical\n\s+Time Stamping\n/);
    const v = openssl(["verify", "-purpose", "timestampsign", "-x509_strict", "-CAfile", ca.rootFile, "-untrusted", ca.caFile], Buffer.from(tsaCertPem));
    expect(v.stdout + v.stderr).toMatch(/OK/);
  });

  it.each(["sha256", "sha384", "sha512"] as const)("stamps a %s imprint; openssl ts -verify accepts the token with the chain, nonce and policy checked", async (hash) => {
    const data = join(tmp.dir, `doc-${hash}.txt`);
    writeFileSync(data, `e-Office approval ${hash} ${Date.now()}`);
    const { query, reply } = stampFile(data, hash);
    const r = await post(tsa.url, readFileSync(query));
    expect(r.status).toBe(200);
    expect(r.type).toBe("application/timestamp-reply");
    writeFileSync(reply, r.body);
    const text = openssl(["ts", "-reply", "-in", reply, "-text"]).stdout;
    expect(text).toMatch(/Status: Granted\./);
    expect(text).toContain(`Policy OID: ${TSA_POLICY}`);
    expect(text).toContain(`Hash Algorithm: ${hash}`);
    expect(text).toMatch(/Accuracy: 0x01 seconds/);
    expect(text).toMatch(/TSA: DirName:.*CN ?= ?LANIC Test TSA 1/);
    // -queryfile: OpenSSL checks the imprint, the nonce and the policy against the request
    const v = openssl(["ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", chainFile]);
    expect(v.stdout + v.stderr).toMatch(/Verification: OK/);
    const d = openssl(["ts", "-verify", "-data", data, "-in", reply, "-CAfile", chainFile]);
    expect(d.stdout + d.stderr).toMatch(/Verification: OK/);
  });

  it("a wrong imprint does not verify (the token is bound to the data)", async () => {
    const data = join(tmp.dir, "doc-a.txt");
    writeFileSync(data, "original");
    const { query, reply } = stampFile(data, "sha256");
    writeFileSync(reply, (await post(tsa.url, readFileSync(query))).body);
    const other = join(tmp.dir, "doc-b.txt");
    writeFileSync(other, "tampered");
    const v = openssl(["ts", "-verify", "-data", other, "-in", reply, "-CAfile", chainFile]);
    expect(v.stdout + v.stderr).toMatch(/Verification: FAILED/);
    expect(v.stdout + v.stderr).toMatch(/message imprint mismatch/);
  });

  it("without certReq the token holds no certificate, and verifies given the TSA certificate", async () => {
    const data = join(tmp.dir, "doc-nocert.txt");
    writeFileSync(data, "no cert");
    const query = join(tmp.dir, "nocert.tsq");
    expect(openssl(["ts", "-query", "-data", data, "-sha256", "-out", query]).status).toBe(0);
    const reply = join(tmp.dir, "nocert.tsr");
    writeFileSync(reply, (await post(tsa.url, readFileSync(query))).body);
    expect(openssl(["ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", chainFile]).stdout).not.toMatch(/Verification: OK/);
    const v = openssl(["ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", chainFile, "-untrusted", join(tmp.dir, "tsa.pem")]);
    expect(v.stdout + v.stderr).toMatch(/Verification: OK/);
  });

  it("a CMS signature (openssl cms -sign) given a signature time-stamp (CAdES-T) verifies, and so does its token", async () => {
    // The signer: an official's key and a certificate from the issuing CA (ex-officio profile).
    const key = join(tmp.dir, "official.key");
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    const csr = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/C=LA/O=MTC/title=Director/CN=Somphone Phommachanh", "-utf8"], { env: { ...process.env, OPENSSL_CONF: "/dev/null" } }).toString();
    const cert = (await issuing.issue({ profile: "ex-officio", csr }, "lanic-ra")).certificate;
    writeFileSync(join(tmp.dir, "official.pem"), cert);
    const doc = join(tmp.dir, "approval.txt");
    writeFileSync(doc, "Approval 2026/123: the budget is approved.");
    const p7 = join(tmp.dir, "approval.p7s");
    const s = openssl(["cms", "-sign", "-binary", "-in", doc, "-signer", join(tmp.dir, "official.pem"), "-inkey", key, "-outform", "DER", "-out", p7]);
    expect(s.status, s.stderr).toBe(0);
    // CAdES-T: time-stamp the SignerInfo's signature value, add the token as the unsigned
    // attribute id-aa-signatureTimeStampToken (RFC 3161 Appendix A / RFC 5126 6.1.1).
    const cms = readFileSync(p7);
    const top = readTlv(cms, 0);
    const signedData = children(cms, children(cms, children(cms, top)[1])[0]);
    const infosT = signedData[signedData.length - 1];
    const infoT = children(cms, infosT)[0];
    const info = children(cms, infoT);
    const sigValue = content(cms, info[info.length - 1]);
    const r = await post(tsa.url, timeStampRequest({ hash: "sha256", hashedMessage: createHash("sha256").update(sigValue).digest(), nonce: randomBytes(8), certReq: true }));
    const token = summarizeResponse(r.body).token!;
    expect(token).toBeDefined();
    const unsigned = ctxCons(1, seq(oid("1.2.840.113549.1.9.16.2.14"), set(token)));
    const newInfo = seq(...info.map((t) => cms.subarray(t.start, t.end)), unsigned);
    const newSignedData = seq(...signedData.slice(0, -1).map((t) => cms.subarray(t.start, t.end)), set(newInfo));
    const cadesT = seq(oid(TSA_OID.signedData), ctxCons(0, newSignedData));
    const out = join(tmp.dir, "approval-t.p7s");
    writeFileSync(out, cadesT);
    const v = openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", out, "-content", doc, "-CAfile", chainFile, "-purpose", "any", "-out", "/dev/null"]);
    expect(v.stderr).toMatch(/Verification successful/);
    const tokenFile = join(tmp.dir, "approval.tst");
    writeFileSync(tokenFile, token);
    const sigFile = join(tmp.dir, "approval.sig");
    writeFileSync(sigFile, sigValue);
    const tv = openssl(["ts", "-verify", "-token_in", "-in", tokenFile, "-data", sigFile, "-CAfile", chainFile]);
    expect(tv.stdout + tv.stderr).toMatch(/Verification: OK/);
  });

  it("refuses what it must with the right PKIFailureInfo, audited, never a crash", async () => {
    const imprint = createHash("sha256").update("x").digest();
    const cases: [string, Buffer, string][] = [
      [
        "SHA-1 imprint",
        (() => {
          const q = join(tmp.dir, "sha1.tsq");
          openssl(["ts", "-query", "-digest", createHash("sha1").update("x").digest("hex"), "-sha1", "-out", q]);
          return readFileSync(q);
        })(),
        "badAlg",
      ],
      ["an unknown policy", timeStampRequest({ hash: "sha256", hashedMessage: imprint, policy: "1.2.3.4" }), "unacceptedPolicy"],
      ["garbage", Buffer.from("not DER at all"), "badDataFormat"],
      ["a truncated request", timeStampRequest({ hash: "sha256", hashedMessage: imprint }).subarray(0, 20), "badDataFormat"],
      ["an imprint of the wrong length", timeStampRequest({ hash: "sha384", hashedMessage: imprint }), "badDataFormat"],
      [
        "version 2",
        (() => {
          const q = Buffer.from(timeStampRequest({ hash: "sha256", hashedMessage: imprint }));
          q[4] = 2; // 30 LL 02 01 <version>
          return q;
        })(),
        "badRequest",
      ],
      [
        "request extensions",
        (() => {
          const q = timeStampRequest({ hash: "sha256", hashedMessage: imprint });
          const body = q.subarray(readTlv(q, 0).contentStart);
          return seq(body, tlv(0xa0, seq(oid("1.2.3.4"), Buffer.from([0x04, 0x00]))));
        })(),
        "unacceptedExtension",
      ],
    ];
    for (const [what, body, failure] of cases) {
      const r = await post(tsa.url, body);
      expect(r.status, what).toBe(200);
      const s = summarizeResponse(r.body);
      expect(s.status, what).toBe(2);
      expect(s.failure, what).toBe(failure);
      expect(s.text, what).toBeTruthy();
    }
    expect((await post(tsa.url, imprint, "application/octet-stream")).status).toBe(415);
    expect((await post(tsa.url, Buffer.alloc(100_000))).status).toBe(413);
    expect((await fetch(tsa.url)).status).toBe(405);
    // openssl reads the rejection as such
    const rej = join(tmp.dir, "rejected.tsr");
    writeFileSync(rej, (await post(tsa.url, cases[1][1])).body);
    expect(openssl(["ts", "-reply", "-in", rej, "-text"]).stdout).toMatch(/Status: Rejected[\s\S]*policy is not supported/i);
    expect(tsa.proc.exitCode).toBeNull();
  });

  it("gives every token a unique serial, records it and audits it (100 concurrent requests)", async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => post(tsa.url, timeStampRequest({ hash: "sha256", hashedMessage: createHash("sha256").update(`doc ${i}`).digest(), nonce: randomBytes(8) }))));
    const serials = replies.map((r) => {
      const s = summarizeResponse(r.body);
      expect(s.status, s.text).toBe(0);
      const tst = s.token!;
      const file = join(tmp.dir, `c-${randomBytes(4).toString("hex")}.tst`);
      writeFileSync(file, tst);
      const m = /Serial number: (0x[0-9A-F]+)/.exec(openssl(["ts", "-reply", "-token_in", "-in", file, "-token_out", "-text"]).stdout);
      return m![1];
    });
    expect(new Set(serials).size).toBe(100);
    await tsa.stop();
    const tdb = await openDatabase({ url: join(tmp.dir, "tsa-db") });
    try {
      const [{ n }] = await tdb.query<{ n: number }>("SELECT count(*)::int AS n FROM tsa_tokens");
      const [{ a }] = await tdb.query<{ a: number }>("SELECT count(*)::int AS a FROM audit_log WHERE event = 'tsa.stamp'");
      const [{ rj }] = await tdb.query<{ rj: number }>("SELECT count(*)::int AS rj FROM audit_log WHERE event = 'tsa.stamp.rejected'");
      expect(n).toBeGreaterThanOrEqual(100);
      expect(a).toBe(n);
      expect(rj).toBeGreaterThanOrEqual(7);
      const recorded = new Set((await tdb.query<{ serial: string }>("SELECT serial FROM tsa_tokens")).map((r) => BigInt(`0x${r.serial}`)));
      for (const s of serials) expect(recorded.has(BigInt(s))).toBe(true);
    } finally {
      await tdb.close();
    }
    const v = spawnSync(process.execPath, [MAIN, "audit", "verify", "--db", join(tmp.dir, "tsa-db")], { encoding: "utf8" });
    expect(v.stdout).toMatch(/audit log OK/);
    tsa = await startTsa("tsa-1", ntp.port);
  }, 300_000);

  it("a revoked TSA certificate fails verification at the relying party (CRL of the issuing CA)", async () => {
    const data = join(tmp.dir, "doc-revoked.txt");
    writeFileSync(data, "before revocation");
    const { query, reply } = stampFile(data, "sha256");
    const before_ = await post(tsa.url, readFileSync(query)).catch((err: Error) => {
      throw new Error(`${err.message}; tsa output: ${tsa.out.join("")}; exit ${tsa.proc.exitCode}`);
    });
    writeFileSync(reply, before_.body);
    const withoutCrl = join(tmp.dir, "chain-crl-ok.pem");
    const pub = new CrlPublisher({ config: ca.config, db, signer: hsmDigestSigner(ca.signer), caCertificate: Buffer.from(ca.caCert.rawData), outDir: join(tmp.dir), batchSize: 100 });
    const before = await pub.publishOnce();
    writeFileSync(withoutCrl, ca.rootPem + ca.caPem + readFileSync(before.pemPath, "utf8"));
    expect(openssl(["ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", withoutCrl, "-crl_check"]).stdout).toMatch(/Verification: OK/);
    await issuing.revoke(tsaSerial, "keyCompromise", "lanic-ra");
    const after = await pub.publishOnce();
    const withCrl = join(tmp.dir, "chain-crl-revoked.pem");
    writeFileSync(withCrl, ca.rootPem + ca.caPem + readFileSync(after.pemPath, "utf8"));
    const v = openssl(["ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", withCrl, "-crl_check"]);
    expect(v.stdout + v.stderr).toMatch(/Verification: FAILED/);
    expect(v.stdout + v.stderr).toMatch(/certificate revoked/);
  });
});

describe("the TSA's clock (RFC 3161 2.1, ETSI EN 319 421 7.7.2)", () => {
  it("decides from the measured error bound, the measurement's age and its absence", () => {
    const m = { source: "ntp", offsetMicros: 300, delayMicros: 100, stratum: 2, leap: 0, errorBoundMicros: 900 };
    expect(judge(m, 1_000_000, 1, 48)).toEqual({ synchronised: true });
    expect(judge({ ...m, errorBoundMicros: 1_500_000 }, 1_000_000, 1, 48).reason).toMatch(/exceeds the declared accuracy of 1000\.000 ms/);
    expect(judge(m, 1_000_000, 60, 48).reason).toMatch(/60 s old \(limit 48 s\)/);
    expect(judge(undefined, 1_000_000, 0, 48).reason).toMatch(/no NTP source has answered/);
  });

  it("refuses to stamp (timeNotAvailable) when its NTP source stops answering, says so in its health, and resumes when it is back", async () => {
    const src = await startChrony(tmp.dir, { synchronised: true });
    const t = await startTsa("tsa-clock", src.port, { ntp: { sources: [{ host: "127.0.0.1", port: src.port }], intervalSeconds: 1 } });
    try {
      const req = timeStampRequest({ hash: "sha256", hashedMessage: createHash("sha256").update("clock").digest() });
      const first = summarizeResponse((await post(t.url, req)).body);
      expect(first.status, first.text).toBe(0);
      expect((await fetch(`${t.url}health`)).status).toBe(200);
      src.stop();
      // the last good measurement ages out after 3 intervals
      await new Promise((r) => setTimeout(r, 4_500));
      const s = summarizeResponse((await post(t.url, req)).body);
      expect(s.status).toBe(2);
      expect(s.failure).toBe("timeNotAvailable");
      expect(s.text).toMatch(/not synchronised/);
      const h = await fetch(`${t.url}health`);
      expect(h.status).toBe(503);
      expect(JSON.stringify(await h.json())).toMatch(/did not answer|s old/);
      // the source is back: the next measurement lets the TSA stamp again
      const back = await startChrony(tmp.dir, { synchronised: true, port: src.port });
      try {
        let again = summarizeResponse((await post(t.url, req)).body);
        for (let i = 0; i < 20 && again.status !== 0; i++) {
          await new Promise((r) => setTimeout(r, 500));
          again = summarizeResponse((await post(t.url, req)).body);
        }
        expect(again.status, again.text).toBe(0);
      } finally {
        back.stop();
      }
    } finally {
      await t.stop();
    }
  }, 300_000);

  it("refuses to stamp when the NTP source says the clock is 5 s off (beyond its 1 s accuracy)", async () => {
    const shifted = await startChrony(tmp.dir, { synchronised: true, shiftSeconds: 5 });
    const t = await startTsa("tsa-skew", shifted.port, { ntp: { sources: [{ host: "127.0.0.1", port: shifted.port }], intervalSeconds: 1 } });
    try {
      const s = summarizeResponse((await post(t.url, timeStampRequest({ hash: "sha256", hashedMessage: createHash("sha256").update("skew").digest() }))).body);
      expect(s.status).toBe(2);
      expect(s.failure).toBe("timeNotAvailable");
      expect(s.text).toMatch(/exceeds the declared accuracy of 1000\.000 ms/);
    } finally {
      await t.stop();
      shifted.stop();
    }
  }, 300_000);

  it("refuses to start with a certificate that is not a TSA certificate (RFC 3161 2.3)", async () => {
    const config = join(tmp.dir, "bad-cert.json");
    writeFileSync(
      config,
      JSON.stringify({
        name: "tsa-bad",
        environment: "test",
        keyAlgorithm: "ECDSA_P256",
        hsm: { library: ca.hsm.library, tokenLabel: ca.hsm.tokenLabel, keyLabel: "issuing-ca-1", pinFile: ca.config.hsm.pinFile },
        certificatePath: ca.caFile,
        policyOid: TSA_POLICY,
        accuracy: { seconds: 1 },
        ntp: { sources: [{ host: "127.0.0.1", port: ntp.port }] },
      }),
    );
    const r = spawnSync(process.execPath, [MAIN, "tsa", "--config", config, "--db", "memory://", "--listen", "127.0.0.1:0"], { encoding: "utf8", env: { ...process.env, SOFTHSM2_CONF: ca.hsm.conf }, timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/has no extendedKeyUsage \(RFC 3161 2\.3/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);
});
