#!/usr/bin/env node
/**
 * pki-services <role>: one program, many roles (issuing-ca, ocsp-responder,
 * crl-publisher, repository), plus `audit verify` and lab helpers.
 */
import { parseArgs } from "node:util";
import { verifyAudit } from "./audit/log.js";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "./config/schema.js";
import { Pkcs11Token } from "./pkcs11/index.js";
import { toPem } from "./pki/pem.js";
import { createSoftHsmToken } from "./lab/softhsm.js";
import { issuingCaMain } from "./roles/issuing-ca.js";
import { openDatabase } from "./storage/db.js";

const USAGE = `usage:
  pki-services issuing-ca --config ca-config.json [--ca-cert issuing-ca.pem] [--db URL|DIR]
                          [--listen HOST:PORT] [--reconcile-grace-seconds N (default 120)] (--tls-key F --tls-cert F --client-ca F | --insecure-test-identity-header)
  pki-services crl-publisher --config ca-config.json [--once] [--out DIR] [--db URL|DIR] [--poll-seconds N]
  pki-services ocsp-responder --sign-only --config ca-config.json [--db URL|DIR]
  pki-services ocsp-responder --serve [--workers N (default 1)] [--listen H:P] [--publish-listen H:P] [--cache-file F] --tls-key F --tls-cert F --client-ca F --allowed-clients CN,...
                              [--trust-dir DIR of <ca>.pem (default /etc/lanic-ca/ca-certs)] [--signer CN=ca[+ca...]]...
  pki-services repository --base-url URL [--root DIR] [--listen H:P] [--publish-listen H:P] (--tls-key F --tls-cert F --client-ca F --allowed-clients CN,... | --no-publish)
  pki-services tsa --config tsa-config.json [--db URL|DIR] [--listen H:P (default 0.0.0.0:8080)]
  pki-services ra --backend [--config /etc/lanic-ca/ra-config.json] [--db URL|DIR] [--listen H:P] [--sweep-seconds N]
  pki-services ra --frontend [--bulk-max-rows N] [--backend-url URL] [--tls-dir DIR] [--backend-tls-dir DIR] [--listen H:P]
  pki-services audit verify [--db URL|DIR]
  pki-services init-token --dir DIR --label LABEL          (lab: SoftHSM2 token; prints SOFTHSM2_CONF)
  pki-services keygen --library LIB --token LABEL --label KEY --algorithm ALG   (PIN from PKCS11_PIN)
The database is DATABASE_URL (postgres://…) or a PGlite directory (--db, default /var/lib/pki-services/db).`;

function dbUrl(flag: string | undefined): string {
  return flag ?? process.env.DATABASE_URL ?? "/var/lib/pki-services/db";
}

async function auditVerify(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { db: { type: "string" } }, strict: true });
  const url = dbUrl(values.db);
  // Opened as it is: a mistyped path or an empty database is refused, never created.
  const db = await openDatabase({ url, migrate: false });
  try {
    const [t] = await db.query<{ t: string | null }>("SELECT to_regclass('audit_log')::text AS t");
    if (!t?.t) {
      console.error(`pki-services: the database ${redact(url)} holds no audit log (no audit_log table): check --db / DATABASE_URL`);
      return 1;
    }
    const r = await verifyAudit(db);
    if (r.records === 0 && r.ok) {
      console.error(`pki-services: the audit log in ${redact(url)} is empty: a running CA has at least its service.start record; nothing verified`);
      return 1;
    }
    for (const p of r.problems) console.log(`TAMPERED ${p.problem}: ${p.message}`);
    console.log(r.ok ? `audit log OK: ${r.records} records, chain intact` : `audit log BROKEN: ${r.problems.length} problem(s) in ${r.records} records`);
    return r.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

/** A database URL without its password, for messages. */
const redact = (url: string): string => url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, "$1***@");

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "issuing-ca":
      return issuingCaMain(rest);
    case "crl-publisher":
      return (await import("./roles/crl-publisher.js")).crlPublisherMain(rest);
    case "ocsp-responder":
      return (await import("./roles/ocsp-responder.js")).ocspResponderMain(rest);
    case "repository":
      return (await import("./roles/repository.js")).repositoryMain(rest);
    case "tsa":
      return (await import("./roles/tsa.js")).tsaMain(rest);
    case "ra":
      return (await import("./roles/ra.js")).raMain(rest);
    case "audit":
      if (rest[0] !== "verify") break;
      return auditVerify(rest.slice(1));
    case "init-token": {
      const { values } = parseArgs({ args: rest, options: { dir: { type: "string" }, label: { type: "string" } }, strict: true });
      if (!values.dir || !values.label) throw new Error("--dir and --label are required");
      const pin = process.env.PKCS11_PIN;
      const soPin = process.env.PKCS11_SO_PIN;
      if (!pin || !soPin) throw new Error("set PKCS11_PIN and PKCS11_SO_PIN");
      const t = createSoftHsmToken({ dir: values.dir, tokenLabel: values.label, pin, soPin, setEnv: false });
      console.log(`export SOFTHSM2_CONF=${t.conf}  # token "${t.tokenLabel}", library ${t.library}`);
      return 0;
    }
    case "keygen": {
      const { values } = parseArgs({ args: rest, options: { library: { type: "string" }, token: { type: "string" }, label: { type: "string" }, algorithm: { type: "string" } }, strict: true });
      if (!values.library || !values.token || !values.label || !values.algorithm) throw new Error("--library, --token, --label and --algorithm are required");
      if (!(KEY_ALGORITHMS as readonly string[]).includes(values.algorithm)) throw new Error(`'algorithm' (${values.algorithm}) must be one of ${KEY_ALGORITHMS.join(", ")}`);
      const pin = process.env.PKCS11_PIN;
      if (!pin) throw new Error("set PKCS11_PIN");
      const token = await Pkcs11Token.open({ library: values.library, tokenLabel: values.token, pin, poolSize: 1 });
      try {
        const { spki } = await token.generateKeyPair(values.label, values.algorithm as KeyAlgorithm);
        process.stdout.write(toPem(spki, "PUBLIC KEY"));
      } finally {
        token.close();
      }
      return 0;
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    console.error(`pki-services: ${err.message}`);
    process.exit(1);
  },
);
