/**
 * The audit shipper's client end of mTLS (ADR 0036): RFC 5425 frames over TLS with the mounted
 * client certificate, to a server that requires one (as the collector's `tls.verify_client_cert`).
 */
import { createServer, type Server, type TLSSocket } from "node:tls";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyslogShipper, syslogTargetFromEnv } from "../src/audit/syslog.js";
import { createLabTls, type LabTls } from "../src/lab/tls.js";
import { freePort, tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let tls: LabTls;
let other: LabTls;

/** A collector stand-in: TLS, client certificate required; the messages it parsed (RFC 5425 4.3) with the client's CN. */
function collector(port: number): { server: Server; got: { cn: string; message: string }[]; refused: number[] } {
  const got: { cn: string; message: string }[] = [];
  const refused: number[] = [];
  const server = createServer({ key: tls.server.key, cert: tls.server.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let sp = buf.indexOf(0x20); sp > 0; sp = buf.indexOf(0x20)) {
        const len = Number(buf.subarray(0, sp).toString("latin1"));
        if (buf.length < sp + 1 + len) break;
        got.push({ cn: String(s.getPeerCertificate().subject.CN), message: buf.subarray(sp + 1, sp + 1 + len).toString("utf8") });
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  server.on("tlsClientError", () => refused.push(Date.now()));
  server.listen(port, "127.0.0.1");
  return { server, got, refused };
}

const until = async (ok: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(() => {
  tmp = tempDir("audit-syslog");
  tls = createLabTls(join(tmp.dir, "tls"));
  other = createLabTls(join(tmp.dir, "other"));
});
afterAll(() => tmp.cleanup());

describe("audit log lines to the collector over mutual TLS", () => {
  it("reads the target from the mounted files, and refuses an address without a client certificate", () => {
    const c = tls.client("ra");
    for (const [n, v] of Object.entries({ "tls.crt": c.cert, "tls.key": c.key, "ca.crt": c.ca })) writeFileSync(join(tmp.dir, n), v);
    const env = { AUDIT_SYSLOG_ADDR: "audit-collector.lanic-ca-audit.svc:6514", AUDIT_SYSLOG_CERT: join(tmp.dir, "tls.crt"), AUDIT_SYSLOG_KEY: join(tmp.dir, "tls.key"), AUDIT_SYSLOG_CA: join(tmp.dir, "ca.crt") };
    expect(syslogTargetFromEnv(env)).toMatchObject({ host: "audit-collector.lanic-ca-audit.svc", port: 6514, cert: c.cert });
    expect(syslogTargetFromEnv({})).toBeUndefined();
    expect(() => syslogTargetFromEnv({ ...env, AUDIT_SYSLOG_CERT: undefined })).toThrow("AUDIT_SYSLOG_ADDR is set but AUDIT_SYSLOG_CERT is not: the audit collector requires a client certificate (ADR 0036)");
  });

  it("delivers RFC 5424 messages in order with its client certificate, queued while the collector is away", async () => {
    const port = await freePort();
    const shipper = new SyslogShipper({ host: "127.0.0.1", port, ...tls.client("issuing-ca-x"), appName: "issuing-ca" }, { retryMs: 50 });
    shipper.send('{"event":"first"}'); // nobody listens yet: queued, retried
    await new Promise((r) => setTimeout(r, 150));
    const c = collector(port);
    shipper.send('{"event":"second"}');
    await until(() => c.got.length === 2);
    expect(c.got.map((g) => g.cn)).toEqual(["issuing-ca-x", "issuing-ca-x"]);
    expect(c.got.map((g) => g.message)).toEqual([
      expect.stringMatching(/^<110>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ issuing-ca \d+ - - \{"event":"first"\}$/),
      expect.stringMatching(/ issuing-ca \d+ - - \{"event":"second"\}$/),
    ]);
    await shipper.close();
    c.server.close();
  });

  it("is refused by the collector with a certificate from another CA", async () => {
    const port = await freePort();
    const c = collector(port);
    const shipper = new SyslogShipper({ host: "127.0.0.1", port, ...other.client("intruder"), ca: tls.ca }, { retryMs: 50 });
    shipper.send('{"event":"nope"}');
    await until(() => c.refused.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.got).toEqual([]);
    await shipper.close();
    c.server.close();
  });
});
