/**
 * `lanic-ca lab up|status|down` through the real executable (dist/bin, `npm run build` first):
 * the dev CA made from its ceremonies on SoftHSM, every role started on 127.0.0.1, a certificate
 * issued through the issuing CA's mTLS API with the RA's client identity, checked with openssl
 * (chain, OCSP, CRL), revoked, and the operators' PKCS#12 files opened by openssl.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI = join(process.cwd(), "dist/bin/lanic-ca.js");
let work: string;
let dir: string;
let state: {
  ports: Record<string, number>;
  files: Record<string, string>;
  issuingCa: string;
  operators: { role: string; name: string; p12: string }[];
  processes: { name: string; pid: number }[];
};

const lab = (...args: string[]) => spawnSync(process.execPath, [CLI, "lab", ...args, "--dir", dir], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 590_000 });
const openssl = (args: string[]) => spawnSync("openssl", args, { encoding: "utf8", cwd: work });

function callCa(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const t = state.files.raClientTls;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `https://127.0.0.1:${state.ports.issuingCa}${path}`,
      {
        method,
        key: readFileSync(join(t, "tls.key")),
        cert: readFileSync(join(t, "tls.crt")),
        ca: readFileSync(join(t, "ca.crt")),
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let s = "";
        res.on("data", (d) => (s += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(s) as Record<string, unknown> }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function ocspStatus(certFile: string, want: string): Promise<string> {
  let out = "";
  for (let i = 0; i < 60; i++) {
    const r = openssl(["ocsp", "-timeout", "10", "-url", `http://127.0.0.1:${state.ports.ocsp}`, "-issuer", state.files.issuingCaCert, "-CAfile", state.files.rootCert, "-cert", certFile]);
    out = r.stdout + r.stderr;
    if (out.includes(`${certFile}: ${want}`)) return out;
    await new Promise((s) => setTimeout(s, 500));
  }
  return out;
}

beforeAll(() => {
  expect(existsSync(CLI), "build first: npm run build").toBe(true);
  work = mkdtempSync(join(tmpdir(), "lab-test-"));
  dir = join(work, "lab");
  const up = lab("up", "--json");
  expect(up.stderr).toBe("");
  expect(up.status).toBe(0);
  state = JSON.parse(up.stdout);
}, 600_000);

afterAll(() => {
  if (dir && existsSync(join(dir, "lab.json"))) lab("down");
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("lanic-ca lab", () => {
  it("up: the ceremonies made a root and an issuing CA that openssl chains, and the lab folder says it is not for production", () => {
    expect(openssl(["verify", "-x509_strict", "-CAfile", state.files.rootCert, state.files.issuingCaCert]).stdout.trim()).toBe(`${state.files.issuingCaCert}: OK`);
    expect(readFileSync(join(dir, "README-LAB-ONLY-NOT-FOR-PRODUCTION.txt"), "utf8")).toContain("LAB ONLY — NOT FOR PRODUCTION");
    expect(readFileSync(join(dir, "secrets", "custodian-shares-LAB-ONLY.txt"), "utf8")).toMatch(/^# LAB ONLY — NOT FOR PRODUCTION.*\ndev\/dev-1:/);
    for (const n of ["01-quorum-split", "05-dev-ca-1-intermediate", "08-ca-crl"]) {
      const v = spawnSync(process.execPath, [CLI, "ceremony", "verify-transcript", join(dir, "ceremonies", `${n}.transcript.json`)], { encoding: "utf8" });
      expect(v.status, v.stdout + v.stderr).toBe(0);
    }
    expect(state.processes.map((p) => p.name)).toEqual(["repository", "ocsp-responder", "issuing-zone", "ra-backend", "ra-applicant", "ra-console"]);
  });

  it("status: every process runs and its port answers; a second up is refused while it runs", () => {
    const s = lab("status", "--json");
    expect(s.status).toBe(0);
    const services = JSON.parse(s.stdout).services as { name: string; running: boolean; listening: boolean }[];
    expect(services.map((v) => [v.name, v.running, v.listening])).toEqual([
      ["repository", true, true],
      ["ocsp-responder", true, true],
      ["issuing-zone", true, true],
      ["ra-backend", true, true],
      ["ra-applicant", true, true],
      ["ra-console", true, true],
    ]);
    const again = lab("up");
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`lab: the lab in ${dir} is already running (repository pid ${state.processes[0].pid}`);
  });

  it("issues through the issuing CA's mTLS API; openssl verifies the chain, OCSP says good, then revoked, and the CRL lists it", async () => {
    const key = join(work, "leaf.key");
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    // the lab runs the dev signing CA (TLS is issued by dev-tls-ca-1, ADR 0070): an operator's client certificate
    const csr = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/C=LA/O=Lab Test/CN=Lab Operator"], { encoding: "utf8", env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
    const r = await callCa("POST", "/v1/certificates", { profile: "operator-client", csr, validityDays: 30 });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const cert = join(work, "leaf.pem");
    writeFileSync(cert, r.json.certificate as string);
    expect(openssl(["verify", "-CAfile", state.files.rootCert, "-untrusted", state.files.issuingCaCert, cert]).stdout.trim()).toBe(`${cert}: OK`);
    // The AIA and CDP in the certificate name the lab's repository and responder.
    const text = openssl(["x509", "-in", cert, "-noout", "-text"]).stdout;
    expect(text).toContain(`OCSP - URI:http://127.0.0.1:${state.ports.ocsp}`);
    expect(text).toContain(`URI:http://127.0.0.1:${state.ports.repository}/crl/${state.issuingCa}.crl`);
    expect(await ocspStatus(cert, "good")).toContain(`${cert}: good`);

    const rv = await callCa("POST", `/v1/certificates/${r.json.serial}/revoke`, { reason: "keyCompromise" });
    expect(rv.status).toBe(200);
    const out = await ocspStatus(cert, "revoked");
    expect(out).toContain(`${cert}: revoked`);
    expect(out).toContain("Response verify OK");
    let crlText = "";
    for (let i = 0; i < 40 && !crlText.includes(String(r.json.serial).toUpperCase()); i++) {
      await new Promise((s) => setTimeout(s, 500));
      execFileSync("curl", ["-sf", "-o", join(work, "ca.crl"), `http://127.0.0.1:${state.ports.repository}/crl/${state.issuingCa}.crl`]);
      crlText = openssl(["crl", "-inform", "DER", "-in", join(work, "ca.crl"), "-noout", "-text", "-CAfile", state.files.issuingCaCert]).stdout;
    }
    expect(crlText).toContain(String(r.json.serial).toUpperCase());
  }, 120_000);

  it("the operators' PKCS#12 files open with the lab password and hold a client certificate of their role under the lab CA", () => {
    const password = readFileSync(join(dir, "secrets", "operator-p12-password"), "utf8").trim();
    expect(state.operators.map((o) => o.role)).toEqual(["vetting-officer", "vetting-approver", "vetting-approver", "vetting-manager", "ra-operator"]);
    for (const o of state.operators) {
      const pem = join(work, "op.pem");
      const r = openssl(["pkcs12", "-in", o.p12, "-passin", `pass:${password}`, "-clcerts", "-nokeys", "-out", pem]);
      expect(r.status, r.stderr).toBe(0);
      expect(openssl(["x509", "-in", pem, "-noout", "-subject", "-ext", "extendedKeyUsage"]).stdout).toMatch(new RegExp(`OU = ${o.role}, CN = ${o.name}[\\s\\S]*TLS Web Client Authentication`));
      expect(openssl(["verify", "-CAfile", state.files.rootCert, "-untrusted", state.files.issuingCaCert, pem]).stdout.trim()).toBe(`${pem}: OK`);
      expect(openssl(["pkcs12", "-in", o.p12, "-passin", "pass:wrong", "-nokeys"]).status).not.toBe(0);
    }
  });

  it("status exits 1 naming a role that died; down stops the rest; up starts the same CA again on the same ports", () => {
    const zone = state.processes.find((p) => p.name === "issuing-zone")!;
    process.kill(zone.pid, "SIGKILL");
    spawnSync("sleep", ["0.5"]);
    const s = lab("status");
    expect(s.status).toBe(1);
    expect(s.stdout).toMatch(/stopped +issuing-zone/);
    expect(s.stderr).toContain(`lab: stopped: issuing-zone (see ${join(dir, "logs", "issuing-zone.log")})`);
    const d = lab("down");
    expect(d.stdout.trim()).toBe("stopped: repository, ocsp-responder, ra-backend, ra-applicant, ra-console");
    for (const p of state.processes) expect(() => process.kill(p.pid, 0)).toThrow();
    expect(lab("status").stdout.trim()).toBe(`lab in ${dir}: stopped`);
    const up = lab("up");
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain("lab is up (started again)");
    expect(up.stdout).toContain(`http://127.0.0.1:${state.ports.repository}`);
    const d2 = lab("down", "--purge");
    expect(d2.stdout.trim()).toBe("stopped: repository, ocsp-responder, issuing-zone, ra-backend, ra-applicant, ra-console; lab folder deleted");
    expect(existsSync(dir)).toBe(false);
  }, 200_000);
});
