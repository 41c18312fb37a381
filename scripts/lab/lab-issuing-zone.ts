#!/usr/bin/env node
/**
 * LAB ONLY — the issuing zone of `lanic-ca lab up` in one process: the issuing CA (HTTPS, mTLS,
 * only the RA's client certificate may issue or revoke), its CRL publisher (watching, pushing to
 * the repository's publish port) and its OCSP signer (pushing to the responder's publish port).
 *
 * In production these are three workloads sharing the CA database (PostgreSQL). The lab keeps
 * the database in PGlite, which admits one connection: the three share it in one process
 * (docs/adr/0065-lab-on-one-machine.md). Each uses the same service classes as its role.
 *
 * `node lab-issuing-zone.js <lab dir>`; the HSM PIN is read from `<lab dir>/secrets/hsm-pin-dev`
 * (never from the environment: /proc/<pid>/environ keeps it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hsmDigestSigner } from "@lanic-ca/pki-services/crl/digest-signer";
import { CrlPublisher } from "@lanic-ca/pki-services/crl/publisher";
import { OcspSigner } from "@lanic-ca/pki-services/ocsp/signer";
import { publishFile, pushOcspResponses } from "@lanic-ca/pki-services/repository/client";
import { clientTls, readCertificate } from "@lanic-ca/pki-services/roles/common";
import { readConfigFile } from "@lanic-ca/pki-services/config/load";
import { serveIssuingCa } from "@lanic-ca/pki-services/issuing-ca/http";
import { IssuingCa } from "@lanic-ca/pki-services/issuing-ca/service";
import { openDatabase } from "@lanic-ca/pki-services/storage/db";
import { readLabState } from "./state.js";

const log = (line: Record<string, unknown>): void => console.log(JSON.stringify({ at: new Date().toISOString(), role: "lab-issuing-zone", ...line }));

async function main(dir: string): Promise<void> {
  const state = readLabState(dir);
  const { config, source } = readConfigFile(state.files.caConfig);
  const pin = readFileSync(join(dir, "secrets", "hsm-pin-dev"), "utf8").trim();
  const db = await openDatabase({ url: state.files.caDatabase });
  const ca = await IssuingCa.start({ config, db, pin, caCertificate: readCertificate(state.files.issuingCaCert), poolSize: 4, configSource: source });
  const tlsDir = join(dir, "tls");
  const srv = await serveIssuingCa(ca, {
    host: "127.0.0.1",
    port: state.ports.issuingCa,
    identity: { kind: "mtls", key: readFileSync(join(tlsDir, "server.key")), cert: readFileSync(join(tlsDir, "server.pem")), clientCa: readFileSync(join(tlsDir, "ca.pem")) },
  });
  log({ event: "listening", service: "issuing-ca", port: srv.port });

  // One session pool for the three: a second Pkcs11Token on the slot would close the others'
  // sessions when closed (C_CloseAllSessions is per slot and process).
  const token = ca.token;
  const caSigner = await token.signer(config.hsm.keyLabel, config.keyAlgorithm);
  const responder = config.ocsp.responder!;
  const ocspSigner = await token.signer(responder.hsm.keyLabel, responder.keyAlgorithm ?? config.keyAlgorithm);
  const crlTls = clientTls(join(dir, "tls", `crl-publisher-${config.name}`));
  const ocspTls = clientTls(join(dir, "tls", `ocsp-signer-${config.name}`));
  const caCert = readCertificate(state.files.issuingCaCert);
  const crl = new CrlPublisher({
    config,
    db,
    signer: hsmDigestSigner(caSigner),
    caCertificate: caCert,
    outDir: join(dir, "crl-out"),
    publish: (file, name) => publishFile(config.publish!.repositoryUrl!, crlTls, `crl/${name}`, file),
  });
  const ocsp = new OcspSigner({
    config,
    db,
    signer: hsmDigestSigner(ocspSigner),
    responderCertificate: readCertificate(responder.certificatePath),
    caCertificate: caCert,
    push: (r) => pushOcspResponses(config.publish!.ocspResponderUrl!, ocspTls, r),
  });
  await ocsp.checkResponderCertificate();
  const ac = new AbortController();
  // A CRL within seconds of a revocation (ADR 0050), pre-signed OCSP responses (ADR 0013).
  const crlRun = crl.watch({
    pollSeconds: 2,
    signal: ac.signal,
    onPublished: (p) => log({ event: "crl.published", crlNumber: p.crlNumber.toString(), entries: p.entries }),
    onError: (e) => log({ event: "crl.publish.failed", error: e instanceof Error ? e.message : String(e) }),
  });
  const ocspRun = ocsp.run({
    pollSeconds: 1,
    signal: ac.signal,
    onPass: (r) => {
      if (r.signed) log({ event: "ocsp.signed", ...r });
    },
    onError: (e) => log({ event: "ocsp.sign.failed", error: e instanceof Error ? e.message : String(e) }),
  });
  log({ event: "started", services: ["issuing-ca", "crl-publisher", "ocsp-signer"] });
  const stop = async () => {
    ac.abort();
    await Promise.allSettled([crlRun, ocspRun]);
    await srv.close();
    await ca.stop();
    await db.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
}

main(process.argv[2] ?? ".lab").catch((err: Error) => {
  console.error(`lab-issuing-zone: ${err.stack ?? err.message}`);
  process.exit(1);
});
