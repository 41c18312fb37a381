/**
 * Several public responders behind one name (a headless Service): the signer's push reaches
 * every one of them, each checked against the host name's certificate; a responder that is
 * down changes the joined instance id (so it gets everything once it is back), and the push
 * fails only when none took it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OcspPushTrust } from "../src/ocsp/push-trust.js";
import { ResponseCache, serveOcspPublish } from "../src/ocsp/server.js";
import { pushOcspResponses } from "../src/repository/client.js";
import { createLabTls } from "../src/lab/tls.js";

describe("OCSP push to every responder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pki-push-"));
  const tls = createLabTls(dir);
  const opts = { key: tls.server.key, cert: tls.server.cert, clientCa: tls.ca, allowedClients: ["ocsp-signer-ca-1"], trust: new OcspPushTrust({ "ca-1": tls.ca }) };
  const a = new ResponseCache();
  const b = new ResponseCache();
  const sa = await serveOcspPublish(a, { host: "127.0.0.1", port: 0, ...opts });
  const sb = await serveOcspPublish(b, { host: "127.0.0.2", port: sa.port, ...opts });
  const client = tls.client("ocsp-signer-ca-1");
  // "localhost" is the name on the server certificate; here it stands for the headless Service.
  const both = async () => ["127.0.0.2", "127.0.0.1"];
  const base = `https://localhost:${sa.port}`;
  afterAll(async () => {
    await sa.close().catch(() => undefined);
    await sb.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reaches each address and joins their instance ids in address order", async () => {
    expect(await pushOcspResponses(base, client, [], both)).toEqual({ instance: `${a.instance},${b.instance}` });
  });

  it("checks each responder's certificate against the host name", async () => {
    await expect(pushOcspResponses(`https://not-the-name.test:${sa.port}`, client, [], both)).rejects.toThrow(/not-the-name\.test/);
  });

  it("a responder down changes the id; none up is an error", async () => {
    await sb.close();
    expect(await pushOcspResponses(base, client, [], both)).toEqual({ instance: `${a.instance},unreachable:127.0.0.2` });
    await sa.close();
    await expect(pushOcspResponses(base, client, [], both)).rejects.toThrow(/ECONNREFUSED/);
  });
});
