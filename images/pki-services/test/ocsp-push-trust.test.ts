/**
 * The publish port under hostile pushes: only responses signed by a CA this responder serves (or
 * its delegated responder), for that CA, by a signer bound to it, are served; framing errors
 * stop a push at once, bodies are bounded and streamed, and the public port keeps answering.
 * The signer and CRL publisher loops leave no abort listener behind.
 */
import { createHash } from "node:crypto";
import { getEventListeners } from "node:events";
import https from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsmDigestSigner, type DigestSigner } from "../src/crl/digest-signer.js";
import { CrlPublisher } from "../src/crl/publisher.js";
import { ERROR_RESPONSE, HASH_ALG_DER, issuerHashes, ocspResponse, parseRequest, publicKeyBits, responseData, type ResponseDataInput } from "../src/ocsp/protocol.js";
import { OcspPushTrust } from "../src/ocsp/push-trust.js";
import { ResponseCache, serveOcsp, serveOcspPublish, type Listening } from "../src/ocsp/server.js";
import { OcspSigner } from "../src/ocsp/signer.js";
import { octets, seq, uint } from "../src/pki/der.js";
import { createCaCertificate } from "../src/lab/test-ca.js";
import { issuerFromCertificate } from "../src/pki/index.js";
import { createLabTls, type LabTls } from "../src/lab/tls.js";
import { opensslCsr, URLS } from "./fixtures.js";
import { tempDir } from "./helpers.js";
import { createOcspTestBed, type OcspTestBed } from "./ocsp-checks.js";

let tmp: ReturnType<typeof tempDir>;
let bed: OcspTestBed;
let tls: LabTls;
let cache: ResponseCache;
let pub: Listening;
let small: Listening;
let srv: Listening;
let responderSigner: DigestSigner;
let caSigner: DigestSigner;
let goodSerial: Buffer;
let goodRequest: Buffer;
let noEkuCert: Buffer;
let rootIssuedCert: Buffer;
const H = 3_600_000;

/** A pushed response built by hand: the fields of a genuine one, `over` changed. */
async function make(over: Partial<ResponseDataInput> = {}, o: { certs?: Buffer[]; signer?: DigestSigner; signature?: Buffer } = {}): Promise<Buffer> {
  const s = o.signer ?? responderSigner;
  const issuer = issuerFromCertificate(Buffer.from(bed.ca.caCert.rawData), "ECDSA_P256", URLS);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const tbs = responseData({
    hash: "sha256",
    ...issuerHashes("sha256", issuer.subjectDer, issuer.spki),
    serial: goodSerial,
    status: { status: "good" },
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 24 * H),
    responderKeyHash: createHash("sha1").update(publicKeyBits(s.spki)).digest(),
    ...over,
  });
  const signature = o.signature ?? (await s.signDigest(createHash(s.hash).update(tbs).digest()));
  return ocspResponse(tbs, s.signatureAlgorithm, signature, o.certs ?? [bed.responderDer]);
}

const clients = new Map<string, ReturnType<LabTls["client"]>>();
const clientOf = (cn: string) => clients.get(cn) ?? clients.set(cn, tls.client(cn)).get(cn)!;

/** POSTs `body` to the publish port as `cn`; `chunks` sends it chunked (no content-length). */
function push(port: number, cn: string, body: Buffer, o: { contentType?: string; chunked?: boolean; declared?: number } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const id = clientOf(cn);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "content-type": o.contentType ?? "application/octet-stream" };
    if (!o.chunked) headers["content-length"] = o.declared ?? body.length;
    const req = https.request(`https://127.0.0.1:${port}/ocsp`, { method: "POST", key: id.key, cert: id.cert, ca: id.ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
        req.destroy();
      });
    });
    req.on("error", reject);
    if (o.declared !== undefined) return req.write(body.subarray(0, 10));
    const step = 64 * 1024;
    let p = 0;
    const write = () => {
      while (p < body.length) {
        const part = body.subarray(p, p + step);
        p += step;
        if (!req.write(part)) return req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

beforeAll(async () => {
  tmp = tempDir("ocsp-trust");
  bed = await createOcspTestBed(tmp.dir);
  responderSigner = hsmDigestSigner(bed.responderSigner);
  caSigner = hsmDigestSigner(bed.ca.signer);
  const csr = opensslCsr(tmp.dir, "ec:P-256", "/C=LA/O=MTC/title=Director/CN=good");
  const good = await bed.issuing.issue({ profile: "ex-officio", csr }, "lanic-ra");
  goodSerial = Buffer.from(good.serial, "hex");
  const issuer = issuerFromCertificate(Buffer.from(bed.ca.caCert.rawData), "ECDSA_P256", URLS);
  const ih = issuerHashes("sha256", issuer.subjectDer, issuer.spki);
  goodRequest = seq(seq(seq(seq(seq(HASH_ALG_DER.sha256, octets(ih.nameHash), octets(ih.keyHash), uint(goodSerial))))));
  expect(parseRequest(goodRequest).serial).toBe(good.serial);
  // the responder key certified without id-kp-OCSPSigning (profile operator: clientAuth), and by the root instead of the CA
  const { responderCsr } = await import("../src/ocsp/responder-cert.js");
  const noEku = await bed.issuing.issue({ profile: "operator", csr: await responderCsr(bed.responderSigner, "CN=rogue,O=MTC,C=LA") }, "lanic-ra");
  noEkuCert = Buffer.from(noEku.certificate.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const rootSigner = await bed.ca.token.signer("root", "ECDSA_P384");
  rootIssuedCert = Buffer.from(
    (
      await createCaCertificate({
        subject: "CN=LANIC OCSP issuing-ca-1,O=MTC,C=LA",
        subjectSigner: bed.responderSigner,
        issuer: { certificate: bed.ca.rootCert, signer: rootSigner },
        notBefore: new Date("2025-01-01T00:00:00Z"),
        notAfter: new Date("2035-01-01T00:00:00Z"),
        pathLength: 0,
      })
    ).rawData,
  );

  tls = createLabTls(join(tmp.dir, "tls"));
  cache = new ResponseCache();
  // two CAs served: issuing-ca-1, and the root standing for a second CA with its own signer
  const trust = new OcspPushTrust({ "issuing-ca-1": Buffer.from(bed.ca.caCert.rawData), "issuing-ca-2": Buffer.from(bed.ca.rootCert.rawData) });
  const common = { host: "127.0.0.1", port: 0, key: tls.server.key, cert: tls.server.cert, clientCa: tls.ca, allowedClients: ["ocsp-signer-*"], trust };
  pub = await serveOcspPublish(cache, common);
  small = await serveOcspPublish(new ResponseCache(), { ...common, maxPushBytes: 256 * 1024 });
  srv = await serveOcsp(cache, { host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await srv?.close();
  await pub?.close();
  await small?.close();
  await bed?.issuing.stop();
  await bed?.db.close().catch(() => undefined);
  bed?.ca.token.close();
  tmp?.cleanup();
});

describe("the publish port verifies every pushed response", () => {
  it("a genuine response from the delegated responder is served", async () => {
    const r = await push(pub.port, "ocsp-signer-issuing-ca-1", await make());
    expect(r).toMatchObject({ status: 200, json: { accepted: 1, rejected: 0 } });
    const a = await fetch(`http://127.0.0.1:${srv.port}/`, { method: "POST", body: goodRequest });
    expect(a.status).toBe(200);
  });

  it("a response signed by the CA key itself (RFC 6960 4.2.2.2) is served", async () => {
    const r = await push(pub.port, "ocsp-signer-issuing-ca-1", await make({ thisUpdate: new Date(Math.floor(Date.now() / 1000) * 1000 + 1000) }, { signer: caSigner, certs: [] }));
    expect(r).toMatchObject({ status: 200, json: { accepted: 1 } });
  });

  const cases: [string, () => Promise<Buffer>, RegExp, string?][] = [
    // the genuine response's signature carried over to a revoked claim
    [
      "forged: a revoked claim under a good response's signature",
      async () => make({ status: { status: "revoked", revokedAt: new Date(Date.now() - H), reason: 1 } }, { signature: await signatureOf(await make()) }),
      /its signature does not verify/,
    ],
    ["unsigned: an error response", async () => ERROR_RESPONSE.unauthorized, /responseStatus 6 is not successful/],
    ["another CA's CertID", () => make({ nameHash: Buffer.alloc(32, 1), keyHash: Buffer.alloc(32, 2) }), /CertID names no CA this responder serves/],
    ["serial 0", () => make({ serial: Buffer.from([0]) }), /serialNumber 0 is never issued/],
    ["a serial of 21 octets", () => make({ serial: Buffer.alloc(21, 0x11) }), /longer than 20 octets/],
    ["nextUpdate passed", () => make({ thisUpdate: new Date(Date.now() - 30 * H), nextUpdate: new Date(Date.now() - 6 * H) }), /nextUpdate .* has passed/],
    ["valid 11 days", () => make({ nextUpdate: new Date(Date.now() + 11 * 24 * H) }), /longer than 10 days \(BR 4\.9\.9\)/],
    ["thisUpdate a day ahead", () => make({ thisUpdate: new Date(Date.now() + 24 * H), nextUpdate: new Date(Date.now() + 48 * H) }), /thisUpdate .* is in the future/],
    ["responder certificate without id-kp-OCSPSigning", () => make({}, { certs: [noEkuCert] }), /lacks the id-kp-OCSPSigning/],
    ["responder certificate issued by another CA (the root)", () => make({}, { certs: [rootIssuedCert] }), /is not issued by CA "issuing-ca-1"/],
    ["no responder certificate", () => make({}, { certs: [] }), /carries no responder certificate/],
    ["responderID of another key", () => make({ responderKeyHash: Buffer.alloc(20, 9) }), /no certificate in the response matches its responderID/],
    ["a signer bound to another CA", () => make(), /"ocsp-signer-issuing-ca-2" may not push responses for CA "issuing-ca-1" \(it signs for: issuing-ca-2\)/, "ocsp-signer-issuing-ca-2"],
    ["a signer bound to no CA", () => make(), /"ocsp-signer-unknown" may not push responses for CA "issuing-ca-1" \(it signs for: no CA\)/, "ocsp-signer-unknown"],
    ["garbage inside a well-framed SEQUENCE", async () => Buffer.from("3003020100", "hex"), /malformed OCSPResponse/],
  ];
  for (const [name, build, message, cn] of cases) {
    it(`refused with 422, nothing served: ${name}`, async () => {
      const before = cache.get(parseRequest(goodRequest).key)?.der;
      const r = await push(pub.port, cn ?? "ocsp-signer-issuing-ca-1", await build());
      expect(r.status).toBe(422);
      expect(r.json).toMatchObject({ accepted: 0, rejected: 1 });
      expect((r.json.problems as string[])[0]).toMatch(message);
      expect(cache.get(parseRequest(goodRequest).key)?.der).toBe(before);
    });
  }

  it("a push mixing genuine and forged responses keeps the genuine ones and names the others", async () => {
    const body = Buffer.concat([await make({ thisUpdate: new Date(Math.floor(Date.now() / 1000) * 1000 + 2000) }), ERROR_RESPONSE.malformedRequest]);
    const r = await push(pub.port, "ocsp-signer-issuing-ca-1", body);
    expect(r).toMatchObject({ status: 422, json: { accepted: 1, rejected: 1, problems: ["response 1: responseStatus 1 is not successful: only signed responses are pushed"] } });
  });
});

describe("the publish port bounds and streams pushes", () => {
  const framing: [string, () => Promise<Buffer>, number, RegExp, { contentType?: string; chunked?: boolean; declared?: number }?][] = [
    ["8 MB of zeros", async () => Buffer.alloc(8 << 20), 400, /^byte 0: expected an OCSPResponse \(SEQUENCE, 0x30\), found 0x00$/],
    ["a torn push (a response cut short)", async () => (await make()).subarray(0, 200), 400, /^the push ends inside an OCSPResponse \(200 bytes from byte 0\)$/],
    ["junk after a genuine response", async () => Buffer.concat([await make(), Buffer.from("hello")]), 400, /^byte \d+: expected an OCSPResponse .* found 0x68$/],
    ["one item of 70 KB", async () => Buffer.concat([Buffer.from([0x30, 0x83, 0x01, 0x11, 0x70]), Buffer.alloc(70_000)]), 400, /an OCSPResponse of 70005 bytes is larger than the 65536 allowed/],
    ["a declared length over the limit", async () => Buffer.alloc(64), 413, /^a push of 67108865 bytes is larger than the 67108864 allowed$/, { declared: (64 << 20) + 1 }],
    ["the wrong content type", async () => make(), 415, /^content-type must be application\/octet-stream .* not "text\/html"$/, { contentType: "text/html" }],
  ];
  for (const [name, build, status, message, o] of framing) {
    it(`${status}: ${name}`, async () => {
      const r = await push(pub.port, "ocsp-signer-issuing-ca-1", await build(), o);
      expect(r.status).toBe(status);
      expect(String(r.json.error)).toMatch(message);
    });
  }

  it("413 for a chunked body over the limit, answered (not reset) while the client still sends", async () => {
    const one = await make();
    const body = Buffer.concat(Array(Math.ceil((300 * 1024) / one.length)).fill(one));
    const r = await push(small.port, "ocsp-signer-issuing-ca-1", body, { chunked: true });
    expect(r).toEqual({ status: 413, json: { error: "the push is larger than the 262144 bytes allowed" } });
  });

  it("public requests keep being answered while megabytes are pushed (zeros, then genuine responses)", async () => {
    for (const body of [Buffer.alloc(16 << 20), Buffer.concat(Array(2000).fill(await make()))]) {
      let done = false;
      const pushed = push(pub.port, "ocsp-signer-issuing-ca-1", body, { chunked: true }).finally(() => (done = true));
      let worst = 0;
      let answered = 0;
      while (!done) {
        const t0 = performance.now();
        const a = await fetch(`http://127.0.0.1:${srv.port}/`, { method: "POST", body: goodRequest });
        await a.arrayBuffer();
        worst = Math.max(worst, performance.now() - t0);
        answered++;
      }
      const r = await pushed;
      expect([200, 400]).toContain(r.status);
      expect(answered).toBeGreaterThan(0);
      // before: a 16 MB push of zeros held the event loop for seconds
      expect(worst).toBeLessThan(1000);
    }
  }, 60_000);
});

describe("poll loops leave no abort listener behind", () => {
  it("OCSP signer run() and CRL publisher watch() keep one listener over many polls", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const ac = new AbortController();
      const signer = new OcspSigner({ config: bed.ca.config, db: bed.db, signer: responderSigner, responderCertificate: bed.responderDer, caCertificate: Buffer.from(bed.ca.caCert.rawData) });
      let passes = 0;
      const running = signer.run({ pollSeconds: 0.001, signal: ac.signal, onPass: () => passes++ });
      const crl = new CrlPublisher({ config: bed.ca.config, db: bed.db, signer: caSigner, caCertificate: Buffer.from(bed.ca.caCert.rawData), outDir: tmp.dir });
      let polls = 0;
      const watching = crl.watch({ pollSeconds: 0.001, signal: ac.signal, onError: () => polls++, onPublished: () => polls++ });
      const origRevoked = crl.revokedSinceLast.bind(crl);
      crl.revokedSinceLast = async () => {
        polls++;
        return origRevoked();
      };
      while (passes < 30 || polls < 30) await new Promise((r) => setTimeout(r, 20));
      expect(getEventListeners(ac.signal, "abort").length).toBeLessThanOrEqual(2);
      ac.abort();
      await Promise.all([running, watching]);
      expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  }, 60_000);
});

/** The signature BIT STRING contents of a BasicOCSPResponse inside `der` (no unused-bits octet). */
async function signatureOf(der: Buffer): Promise<Buffer> {
  const { children, content, readTlv } = await import("../src/pki/der.js");
  const top = children(der, readTlv(der, 0));
  const rb = children(der, children(der, top[1])[0]);
  const basic = content(der, rb[1]);
  const [, , sigT] = children(basic, readTlv(basic, 0));
  return content(basic, sigT).subarray(1);
}
