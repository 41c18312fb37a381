/**
 * Every control: a passing fixture (a shipped environment) and a violating fixture, asserting
 * the exact control id, finding id and what was found.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG } from "../../policy/index.js";
import { keyAlgorithmProblem } from "../../policy/controls/keys.js";
import { brTlsMaxValidityDays } from "../../policy/cp-limits.js";
import { build, check, cleanup, findingsOf, resourceAt, resourcesOf, statusOf, type Built, type Case, type EnvName } from "./fixtures.js";
import { ISOLATION_CASES } from "./isolation-cases.js";
import { definition } from "./fixtures.js";
import { parseEnvironment } from "../../environments/index.js";
import { renderCeremonyFiles } from "../../scripts/ceremony/render.js";
import { CeremonyFileError } from "../../scripts/ceremony/schema.js";

const shipped: Partial<Record<EnvName, Built>> = {};
beforeAll(() => {
  for (const n of ["dev", "staging", "production", "pilot"] as EnvName[]) shipped[n] = build(n);
});
afterAll(cleanup);
const copy = (n: EnvName): Built => structuredClone(shipped[n]!);

const BASE_CASES: Case[] = [
  {
    id: "LCA-KEY-01",
    pass: "production",
    model: (b) => {
      const k = b.model.keys.find((k) => k.purpose === "root")!;
      k.location = { type: "hsm-partition", hsm: "online", partition: "issuing", tokenLabel: "lanic-ca-issuing" };
    },
    finding: "LCA-KEY-01:key:lao-gov-root-ca-2026",
    found: "root key 'lao-gov-root-ca-2026' in online HSM 'online' partition 'issuing'",
  },
  {
    id: "LCA-KEY-02",
    pass: "production",
    model: (b) => {
      b.model.keys.find((k) => k.label === "lao-gov-signing-ca-1-ocsp")!.algorithm = "RSA_1024" as never;
    },
    finding: "LCA-KEY-02:key:lao-gov-signing-ca-1-ocsp",
    found: "ocsp-signing key 'lao-gov-signing-ca-1-ocsp': RSA modulus 1024 bits is below 2048",
  },
  {
    id: "LCA-KEY-03",
    pass: "production",
    env: (d) => {
      d.issuingCas[0].keyAlgorithm = "RSA_2048";
      d.hsm.partitions[0].keys[0].algorithm = "RSA_2048";
    },
    finding: "LCA-KEY-03:key:lao-gov-signing-ca-1-2026",
    found: "issuing-ca key 'lao-gov-signing-ca-1-2026' of CA 'lao-gov-signing-ca-1' is RSA_2048",
  },
  {
    id: "LCA-KEY-04",
    pass: "production",
    env: (d) => {
      d.rootOfTrust.validityDays = 9133;
    },
    finding: "LCA-KEY-04:ca:lao-gov-root-ca",
    found: "root 'lao-gov-root-ca' validity 9133 days",
  },
  {
    id: "LCA-HSM-01",
    pass: "production",
    env: (d) => {
      d.hsm.certification = { scheme: "FIPS 140-2", level: 2, certificate: "#1234" };
    },
    finding: "LCA-HSM-01:hsm:online",
    found: /FIPS 140-2 level 2$/,
  },
  {
    id: "LCA-HSM-02",
    pass: "staging",
    env: (d) => {
      d.hsm.type = "softhsm";
      d.hsm.members = [];
      d.hsm.certification = { scheme: "none" };
    },
    finding: "LCA-HSM-02:hsm:online",
    found: "HSM 'online' is SoftHSM (software token) in tier staging",
  },
  {
    id: "LCA-MPC-01",
    pass: "production",
    env: (d) => {
      d.rootOfTrust.custodians.quorum = 5;
    },
    finding: "LCA-MPC-01:ca:lao-gov-root-ca",
    found: "quorum 5 of 5 custodians",
  },
  {
    id: "LCA-MPC-02",
    pass: "production",
    env: (d) => {
      d.roles["key-custodian"] = d.roles["ca-system-administrator"];
    },
    finding: "LCA-MPC-02:group:lanic-ca-production:ca-system-administrator",
    found: "group 'lanic-ca-production:ca-system-administrator' is both key-custodian and ca-system-administrator",
  },
  {
    id: "LCA-VAL-01",
    pass: "production",
    env: (d) => {
      d.profiles["ex-officio-signing"].maxValidityDays = 730;
    },
    finding: "LCA-VAL-01:profile:lao-gov-signing-ca-1:ex-officio-signing",
    found: "profile 'ex-officio-signing' of CA 'lao-gov-signing-ca-1' allows 730 days",
  },
  {
    id: "LCA-VAL-02",
    pass: "production",
    now: new Date("2029-03-15T00:00:00Z"),
    model: () => {},
    finding: "LCA-VAL-02:profile:lao-gov-tls-ca-1:tls-server",
    found: "TLS profile 'tls-server' of CA 'lao-gov-tls-ca-1' allows 100 days on 2029-03-15",
  },
  {
    id: "LCA-VAL-03",
    pass: "production",
    now: new Date("2029-01-01T00:00:00Z"),
    model: () => {},
    finding: "LCA-VAL-03:profile:lao-gov-tls-ca-1:tls-server",
    found: "TLS profile 'tls-server' of CA 'lao-gov-tls-ca-1' allows 100 days; from 2029-03-15 (in 73 days) BR 6.3.2 allows 47",
  },
  {
    id: "LCA-PRF-01",
    pass: "production",
    env: (d) => {
      d.profiles["tls-server"].policyOids = ["2.16.418.1.1.2.3"];
    },
    finding: "LCA-PRF-01:profile:lao-gov-tls-ca-1:tls-server",
    found: /^profile 'tls-server' of CA 'lao-gov-tls-ca-1': a TLS profile must assert one CA\/Browser Forum reserved policy identifier .*found 2\.16\.418\.1\.1\.2\.3 \(BR 7\.1\.2\.7\.9, 7\.1\.6\.1\)$/,
  },
  {
    id: "LCA-PRF-02",
    pass: "production",
    env: (d) => {
      d.profiles["tls-server"].subjectAltNames.email = true;
      d.profiles["tls-server"].subject.optional.push("OU");
    },
    finding: "LCA-PRF-02:profile:lao-gov-tls-ca-1:tls-server",
    found:
      "profile 'tls-server' of CA 'lao-gov-tls-ca-1': a TLS profile must not allow subject attribute OU (BR 7.1.2.7.4: organizationalUnitName MUST NOT); a TLS profile must not allow rfc822Name subjectAltNames (BR 7.1.2.7.12)",
  },
  {
    id: "LCA-PRF-03",
    pass: "production",
    env: (d) => {
      d.profiles["ocsp-signing"].ocspNoCheck = false;
    },
    finding: "LCA-PRF-03:profile:lao-gov-signing-ca-1:ocsp-signing",
    found: "profile 'ocsp-signing' of CA 'lao-gov-signing-ca-1': an OCSP signing profile must add id-pkix-ocsp-nocheck (BR 7.1.2.8.6, RFC 6960 4.2.2.2.1)",
  },
  {
    id: "LCA-PRF-04",
    pass: "production",
    env: (d) => {
      d.issuingCas[1].profiles.push("smime");
    },
    finding: "LCA-PRF-04:ca:lao-gov-tls-ca-1",
    found:
      /^issuing CA 'lao-gov-tls-ca-1' \(profiles tls-server, ocsp-signing, smime\): a CA issuing TLS certificates is restricted to them \(EKU serverAuth, BR 7\.1\.2\.6\.1, 7\.1\.2\.10\.6; MRSP 5\.3\): it must not also issue 'smime'/,
  },
  {
    id: "LCA-CRL-01",
    pass: "production",
    env: (d) => {
      d.issuingCas[1].crl.intervalHours = 169;
    },
    finding: "LCA-CRL-01:interval:lao-gov-tls-ca-1",
    found: "CRL of 'lao-gov-tls-ca-1' published every 169 h",
  },
  {
    id: "LCA-CRL-02",
    pass: "production",
    env: (d) => {
      d.rootOfTrust.caCrlNextUpdateDays = 366;
    },
    finding: "LCA-CRL-02:ca:lao-gov-root-ca",
    found: "root CRL nextUpdate 366 days",
  },
  {
    id: "LCA-OCSP-01",
    pass: "production",
    env: (d) => {
      d.issuingCas[0].ocsp.responseValidityHours = 7;
      d.issuingCas[0].ocsp.refreshHours = 3;
    },
    finding: "LCA-OCSP-01:validity:lao-gov-signing-ca-1",
    found: "OCSP responses of 'lao-gov-signing-ca-1' valid 7 h",
  },
  {
    id: "LCA-NET-01",
    pass: "production",
    model: (b) => {
      const ps = resourcesOf(b, "production-lanic", "kubernetes_network_policy_v1");
      for (const [k, v] of Object.entries(ps)) if (v["//"].metadata.path === "production/production-lanic/zone-hsm/default-deny") delete ps[k];
    },
    finding: "LCA-NET-01:namespace:production-lanic:lanic-ca-hsm",
    found: "namespace 'lanic-ca-hsm' (stack production-lanic) has no default-deny NetworkPolicy",
  },
  {
    id: "LCA-NET-02",
    pass: "production",
    model: (b) => {
      resourcesOf(b, "production-lanic", "kubernetes_network_policy_v1").ssh = {
        "//": { metadata: { path: "production/production-lanic/issuing-ca-lao-gov-tls-ca-1/service/ingress-ssh" } },
        metadata: { name: "issuing-ca-ssh", namespace: "lanic-ca-issuing" },
        spec: {
          pod_selector: { match_labels: { "app.kubernetes.io/name": "issuing-ca-lao-gov-tls-ca-1" } },
          policy_types: ["Ingress"],
          ingress: [{ from: [{ ip_block: { cidr: "0.0.0.0/0" } }], ports: [{ port: "22", protocol: "TCP" }] }],
        },
      };
    },
    finding: "LCA-NET-02:policy:production-lanic:ssh:Ingress:22",
    found: "NetworkPolicy 'issuing-ca-ssh' allows ingress TCP/22 from 0.0.0.0/0 with no declared flow",
  },
  {
    id: "LCA-NET-03",
    pass: "production",
    model: (b) => {
      b.model.flows.push({
        from: { type: "component", id: "lanic/ra-frontend" },
        to: { type: "component", id: "lanic/issuing-ca-lao-gov-tls-ca-1" },
        port: 8443,
        protocol: "TCP",
        mtls: true,
        purpose: "shortcut",
        site: "lanic",
        path: "production/production-lanic/registration-authority/frontend",
      });
    },
    finding: "LCA-NET-03:edge:lanic/ra-frontend->lanic/issuing-ca-lao-gov-tls-ca-1:8443",
    found: "lanic/ra-frontend → lanic/issuing-ca-lao-gov-tls-ca-1 (issuing zone, port 8443, mTLS: shortcut)",
  },
  {
    id: "LCA-NET-04",
    pass: "production",
    model: (b) => {
      b.model.flows.push({
        from: { type: "component", id: "lanic/audit-collector" },
        to: { type: "external", name: "hsm", kind: "hsm", cidrs: ["10.20.10.11/32"] },
        port: 1792,
        protocol: "TCP",
        mtls: true,
        purpose: "x",
        site: "lanic",
        path: "production/production-lanic/audit-log/collector",
      });
    },
    finding: "LCA-NET-04:flow:lanic:lanic/audit-collector:1792",
    found: "lanic/audit-collector (audit-collector, not signing) can reach the HSM on port 1792",
  },
  {
    id: "LCA-NET-05",
    pass: "production",
    model: (b) => {
      b.model.flows.find((f) => f.site === "lanic" && f.from.type === "component" && f.from.id === "lanic/ra-frontend" && f.to.type === "component" && f.to.id === "lanic/ra")!.mtls = false;
    },
    finding: "LCA-NET-05:flow:lanic:lanic/ra-frontend->lanic/ra:8443",
    found: "flow applications and vetting to the RA (port 8443) is not mutual TLS",
  },
  {
    id: "LCA-WKL-01",
    pass: "production",
    model: (b) => {
      resourceAt(b, "production/production-lanic/issuing-ca-lao-gov-tls-ca-1/service/deployment").spec.template.spec.container[0].security_context.read_only_root_filesystem = false;
    },
    finding: "LCA-WKL-01:component:lanic/issuing-ca-lao-gov-tls-ca-1",
    found: "lanic/issuing-ca-lao-gov-tls-ca-1: writable root filesystem",
  },
  {
    id: "LCA-WKL-02",
    pass: "staging",
    env: (d) => {
      d.images.pkiServices = "registry.lanic.gov.la/lanic-ca/pki-services:1.0";
    },
    finding: "LCA-WKL-02:component:lanic/issuing-ca-stg-signing-ca-1",
    found: "lanic/issuing-ca-stg-signing-ca-1 runs registry.lanic.gov.la/lanic-ca/pki-services:1.0",
  },
  {
    id: "LCA-WKL-03",
    pass: "production",
    env: (d) => {
      d.workloads.repository.replicas = 1;
    },
    finding: "LCA-WKL-03:component:lanic/repository",
    found: "lanic/repository: 1 replica(s), no PodDisruptionBudget, no spread over nodes",
  },
  {
    id: "LCA-SOD-01",
    pass: "production",
    env: (d) => {
      d.roles["ra-operator"] = d.roles["ia-operator"];
    },
    finding: "LCA-SOD-01:group:lanic-ca-production:ia-operator:ra-operator+ia-operator",
    found: "group 'lanic-ca-production:ia-operator' holds both ra-operator and ia-operator",
  },
  {
    id: "LCA-AUD-01",
    pass: "production",
    model: (b) => {
      b.model.flows = b.model.flows.filter((f) => !(f.from.type === "component" && f.from.id === "lanic/ra" && f.to.type === "component" && f.to.id === "lanic/audit-collector"));
    },
    finding: "LCA-AUD-01:component:lanic/ra",
    found: "lanic/ra ships no log to an audit collector",
  },
  {
    id: "LCA-AUD-02",
    pass: "production",
    env: (d) => {
      d.auditLog.retentionDays = 730;
    },
    finding: "LCA-AUD-02:retention",
    found: "retention 730 days (tier production)",
  },
  {
    id: "LCA-AUD-03",
    pass: "production",
    env: (d) => {
      d.auditLog.integrityCheckIntervalDays = 32;
    },
    finding: "LCA-AUD-03:interval",
    found: "integrity check every 32 days",
  },
  {
    id: "LCA-BCP-01",
    pass: "production",
    env: (d) => {
      d.sites[1].location = { ...d.sites[1].location, city: "Thangon", latitude: 18.1, longitude: 102.63 };
    },
    finding: "LCA-BCP-01:distance:backup",
    found: "backup site 'backup' (Thangon) is 14 km from 'lanic' (Vientiane)",
  },
  {
    id: "LCA-BCP-02",
    pass: "production",
    env: (d) => {
      d.continuity.rpoMinutes = 240;
    },
    finding: "LCA-BCP-02:rpo",
    found: "RPO 240 minutes",
  },
  {
    id: "LCA-BCP-03",
    pass: "staging",
    env: (d) => {
      delete d.database.backup;
    },
    finding: "LCA-BCP-03:database:lanic/lanic-ca-db",
    found: "database lanic/lanic-ca-db has no backup (no base backups, no WAL archive)",
  },
  {
    id: "LCA-BCP-04",
    pass: "production",
    model: (b) => {
      for (const c of b.model.components) if (c.backup?.site === "backup") c.backup.country = "TH";
    },
    finding: "LCA-BCP-04:store:backup-object-store",
    found: "backups of backup/lanic-ca-db, backup/lanic-ca-ra-db, backup/lanic-ca-tsa-db are stored in backup-object-store at site 'backup' (TH)",
  },
  {
    id: "LCA-BCP-05",
    pass: "production",
    env: (d) => {
      d.database.backup.retentionDays = 730;
    },
    finding: "LCA-BCP-05:database:lanic/lanic-ca-db",
    found: "backups of lanic/lanic-ca-db kept 730 days (tier production)",
  },
  {
    id: "LCA-BCP-06",
    pass: "production",
    model: (b) => {
      b.model.flows = b.model.flows.filter((f) => !(f.from.type === "component" && f.from.id === "backup/lanic-ca-db" && f.to.type === "external" && f.to.name === "lanic-object-store"));
    },
    finding: "LCA-BCP-06:database:backup:lanic-ca-db",
    found: "backup/lanic-ca-db has no flow to lanic-object-store",
  },
  {
    id: "LCA-RES-01",
    pass: "production",
    env: (d) => {
      d.sites[1].location = { ...d.sites[1].location, city: "Udon Thani", country: "TH" };
    },
    finding: "LCA-RES-01:site:backup",
    found: "site 'backup' is in Udon Thani, TH",
  },
  {
    id: "LCA-SEC-01",
    pass: "production",
    model: (b) => {
      resourceAt(b, "production/production-lanic/issuing-ca-lao-gov-tls-ca-1/service/deployment").spec.template.spec.container[0].env.push({ name: "HSM_PIN_ISSUING", value: "1234" });
    },
    finding: "LCA-SEC-01:env:production-lanic:issuing-ca-lao-gov-tls-ca-1_service_deployment_",
    found: "environment variable HSM_PIN_ISSUING set to a literal value in kubernetes_deployment_v1",
  },
  {
    id: "LCA-TSA-01",
    pass: "production",
    env: (d) => {
      const tsa = d.hsm.partitions.find((p: any) => p.name === "tsa");
      d.hsm.partitions.find((p: any) => p.name === "issuing").keys.push(...tsa.keys);
      d.hsm.partitions = d.hsm.partitions.filter((p: any) => p !== tsa);
      d.tsa.partition = "issuing";
    },
    finding: "LCA-TSA-01:partition:issuing",
    found: /^partition 'issuing' holds the TSA key and issuing-ca key 'lao-gov-signing-ca-1-2026'/,
  },
  {
    id: "LCA-TSA-02",
    pass: "production",
    env: (d) => {
      d.tsa.ntp.sources = [{ name: "pool-ntp", address: "10.9.9.9", port: 123, country: "TH", facility: "a public pool server abroad" }];
    },
    finding: "LCA-TSA-02:ntp:pool-ntp:country",
    found: "NTP source 'pool-ntp' (10.9.9.9) is in TH",
  },
  {
    id: "LCA-TSA-03",
    pass: "production",
    env: (d) => {
      d.tsa.accuracy = { seconds: 5 };
    },
    finding: "LCA-TSA-03:accuracy",
    found: "accuracy 5 s",
  },
  {
    id: "LCA-TSA-04",
    pass: "production",
    env: (d) => {
      d.profiles = { ...d.profiles, "time-stamping": { ...d.profiles["time-stamping"], extendedKeyUsage: ["timeStamping", "clientAuth"] } };
    },
    finding: "LCA-TSA-04:profile:time-stamping:eku",
    found: "extendedKeyUsage timeStamping, clientAuth",
  },
];

const CASES: Case[] = [...BASE_CASES, ...ISOLATION_CASES];

describe("control catalog", () => {
  it("has one passing and one violating case per control (except LCA-EXC-01, tested in exceptions.test.ts)", () => {
    expect(CASES.map((c) => c.id).sort()).toEqual(
      CATALOG.map((c) => c.id)
        .filter((id) => id !== "LCA-EXC-01")
        .sort(),
    );
  });
  it("every control cites an RFC 3647 section and references", () => {
    for (const c of CATALOG) {
      expect(c.id).toMatch(/^LCA-[A-Z]+-\d{2}$/);
      expect(c.rfc3647).toMatch(/^\d+(\.\d+)+$/);
      expect(c.references.length).toBeGreaterThan(0);
      expect(c.rationale.length).toBeGreaterThan(40);
    }
  });
});

describe.each(CASES)("$id", (c) => {
  it(`passes on the shipped ${c.pass} environment`, () => {
    const b = copy(c.pass);
    c.passModel?.(b);
    const r = check(b, { now: c.id === "LCA-VAL-02" || c.id === "LCA-VAL-03" ? undefined : c.now });
    expect(findingsOf(r, c.id)).toEqual([]);
    expect(statusOf(r, c.id)).toBe("pass");
  });
  it("fails on the violating fixture with the exact finding", () => {
    let b: Built;
    if (c.env) b = build(c.pass, c.env);
    else {
      b = copy(c.pass);
      c.model!(b);
    }
    const r = check(b, { now: c.now });
    const f = findingsOf(r, c.id);
    const hit = f.find((x) => (c.finding.endsWith("_") ? x.id.startsWith(c.finding) : x.id === c.finding));
    expect(hit, `${c.id} findings: ${JSON.stringify(f.map((x) => x.id))}`).toBeDefined();
    expect(hit!.controlId).toBe(c.id);
    if (typeof c.found === "string") expect(hit!.found).toBe(c.found);
    else expect(hit!.found).toMatch(c.found);
    expect(hit!.required.length).toBeGreaterThan(0);
    expect(hit!.fix.length).toBeGreaterThan(0);
    expect(hit!.path.length).toBeGreaterThan(0);
    expect(statusOf(r, c.id)).toBe("fail");
    expect(hit!.severity).toBe(CATALOG.find((x) => x.id === c.id)!.severity);
  });
});

describe("warnings do not refuse", () => {
  it("LCA-VAL-03 is a warning: counted, reported, but no error", () => {
    const r = check(copy("production"), { now: new Date("2029-01-01T00:00:00Z"), shippedExceptions: false });
    expect(findingsOf(r, "LCA-VAL-03").map((f) => f.severity)).toEqual(["warning"]);
    expect(r.counts.warnings).toBe(1);
    expect(
      r.results
        .flatMap((x) => x.findings)
        .filter((f) => f.severity === "error")
        .map((f) => f.controlId),
    ).not.toContain("LCA-VAL-03");
  });
});

describe("key algorithms (BR 6.1.5)", () => {
  it.each([
    ["RSA_2048", undefined],
    ["RSA_4096", undefined],
    ["ECDSA_P521", undefined],
    ["RSA_2049", "RSA modulus 2049 bits is not a multiple of 8"],
    ["RSA_1024", "RSA modulus 1024 bits is below 2048"],
    ["ECDSA_P224", "ECDSA_P224 is not an RSA or NIST P-256/P-384/P-521 ECDSA key"],
    ["ED25519", "ED25519 is not an RSA or NIST P-256/P-384/P-521 ECDSA key"],
  ])("%s", (alg, problem) => expect(keyAlgorithmProblem(alg)).toBe(problem));
});

describe("TLS validity dates (BR 6.3.2)", () => {
  it.each([
    ["2026-03-14", 398],
    ["2026-03-15", 200],
    ["2027-03-14", 200],
    ["2027-03-15", 100],
    ["2029-03-14", 100],
    ["2029-03-15", 47],
  ])("%s → %i days", (d, days) => expect(brTlsMaxValidityDays(new Date(`${d}T12:00:00Z`))).toBe(days));
  it("a 200-day TLS profile passes today (2026-11-22) and fails from 2027-03-15", () => {
    const b = build("production", (d) => {
      d.profiles["tls-server"].maxValidityDays = 200;
      d.issuingCas[1].maxValidityDays = 200;
    });
    expect(findingsOf(check(b), "LCA-VAL-02")).toEqual([]);
    expect(findingsOf(check(b, { now: new Date("2027-03-15T00:00:00Z") }), "LCA-VAL-02").map((f) => f.required)).toEqual(["≤ 100 days for TLS certificates issued on 2027-03-15 (BR 6.3.2)"]);
  });
});

describe("further violations", () => {
  it("LCA-KEY-01: an online resource naming the root key", () => {
    const b = copy("production");
    resourcesOf(b, "production-lanic", "kubernetes_config_map_v1").leak = { "//": { metadata: { path: "production/production-lanic/leak" } }, metadata: { name: "leak" }, data: { key: "lao-gov-root-ca-2026" } };
    expect(findingsOf(check(b), "LCA-KEY-01").map((f) => f.id)).toEqual(["LCA-KEY-01:resource:production-lanic:kubernetes_config_map_v1:leak"]);
  });
  it("LCA-KEY-01: an online partition holding a key under the root key's label", () => {
    const b = build("production", (d) => {
      d.hsm.partitions[0].keys.push({ label: "lao-gov-root-ca-2026", purpose: "issuing-ca", ca: "lao-gov-signing-ca-1", algorithm: "ECDSA_P384" });
    });
    expect(findingsOf(check(b), "LCA-KEY-01").map((f) => f.id)).toEqual(["LCA-KEY-01:partition:online:issuing:lao-gov-root-ca-2026"]);
  });
  it("LCA-NET-03: RA → issuing CA without mTLS is refused; an RA → CA database flow is a finding", () => {
    const b = copy("production");
    b.model.flows.find((f) => f.site === "lanic" && f.from.type === "component" && f.from.id === "lanic/ra" && f.to.type === "component" && f.to.id === "lanic/issuing-ca-lao-gov-tls-ca-1")!.mtls = false;
    for (const site of ["lanic", "backup"])
      b.model.flows.push({
        from: { type: "component", id: `${site}/ra` },
        to: { type: "component", id: `${site}/lanic-ca-db` },
        port: 5432,
        protocol: "TCP",
        mtls: true,
        purpose: "RA in the CA database",
        site,
        path: `production/production-${site}/registration-authority/service`,
      });
    const ids = findingsOf(check(b), "LCA-NET-03")
      .map((f) => f.id)
      .sort();
    expect(ids).toEqual(["LCA-NET-03:edge:backup/ra->backup/lanic-ca-db:5432", "LCA-NET-03:edge:lanic/ra->lanic/issuing-ca-lao-gov-tls-ca-1:8443", "LCA-NET-03:edge:lanic/ra->lanic/lanic-ca-db:5432"]);
  });
  it("LCA-BCP-01: no backup site", () => {
    const b = build("staging");
    b.model.environment.tier = "production";
    expect(findingsOf(check(b), "LCA-BCP-01").map((f) => f.id)).toEqual(["LCA-BCP-01:backup-site"]);
  });
  it("LCA-BCP-01: no HSM member at the backup site", () => {
    const b = copy("production");
    b.model.hsms.find((h) => h.name === "online")!.members = b.model.hsms.find((h) => h.name === "online")!.members.filter((m) => m.site !== "backup");
    expect(findingsOf(check(b), "LCA-BCP-01").map((f) => f.id)).toEqual(["LCA-BCP-01:hsm:backup"]);
  });
  it("LCA-BCP-03: a backup without WAL archive, unencrypted, and no flow to its store", () => {
    const b = copy("production");
    const db = b.model.components.find((c) => c.id === "lanic/lanic-ca-ra-db")!;
    db.backup = { ...db.backup!, walArchive: false, encryption: "none" };
    b.model.flows = b.model.flows.filter((f) => !(f.from.type === "component" && f.from.id === "lanic/lanic-ca-ra-db" && f.to.type === "external" && f.to.kind === "object-store"));
    expect(findingsOf(check(b), "LCA-BCP-03").map((f) => f.found)).toEqual(["database lanic/lanic-ca-ra-db backup lacks WAL archive, encryption (none), a flow to lanic-object-store"]);
  });
  it("LCA-BCP-06: the primary without backups leaves nothing to restore at the backup site", () => {
    const b = build("production", (d) => {
      delete d.database.backup;
    });
    expect(
      findingsOf(check(b), "LCA-BCP-06")
        .map((f) => f.found)
        .sort(),
    ).toEqual([
      "backup/lanic-ca-db cannot read lanic/lanic-ca-db's backups (the primary has none)",
      "backup/lanic-ca-ra-db cannot read lanic/lanic-ca-ra-db's backups (the primary has none)",
      "backup/lanic-ca-tsa-db cannot read lanic/lanic-ca-tsa-db's backups (the primary has none)",
    ]);
  });
  it("LCA-SEC-01: a Secret with data and a private key in a ConfigMap", () => {
    const b = copy("production");
    b.stacks["production-lanic"].resource!.kubernetes_secret_v1 = { pin: { "//": { metadata: { path: "production/production-lanic/pin" } }, metadata: { name: "hsm-pin" }, data: { pin: "1234" } } };
    resourcesOf(b, "production-lanic", "kubernetes_config_map_v1").key = {
      "//": { metadata: { path: "production/production-lanic/key" } },
      metadata: { name: "k" },
      data: { "k.pem": `-----BEGIN ${"EC PRIVATE"} KEY-----\nMHcCAQEE\n-----END ${"EC PRIVATE"} KEY-----\n` },
    }; // a truncated, fake key (no real key is committed)
    expect(
      findingsOf(check(b), "LCA-SEC-01")
        .map((f) => f.id)
        .sort(),
    ).toEqual(["LCA-SEC-01:pem:production-lanic:key:data.k.pem", "LCA-SEC-01:secret:production-lanic:pin"]);
  });
  it("LCA-WKL-01: an opt-out recorded in the model", () => {
    const b = copy("production");
    b.model.components.find((c) => c.id === "lanic/ocsp-signer-lao-gov-tls-ca-1")!.hardening!.optOuts.push({ prop: "serviceAccountToken", reason: "needs the API for leader election" });
    expect(findingsOf(check(b), "LCA-WKL-01").map((f) => f.found)).toEqual(["lanic/ocsp-signer-lao-gov-tls-ca-1: opt-out serviceAccountToken (needs the API for leader election)"]);
  });
  it("LCA-TSA-01: another workload granted the TSA's key, the TSA granted a CA key", () => {
    const b = copy("production");
    const g = b.model.grants.find((x) => x.kind === "hsm-sign" && x.key === "lao-gov-tsa-1-2026" && x.grantee.startsWith("lanic/"))!;
    b.model.grants.push({ ...g, grantee: "lanic/ocsp-signer-lao-gov-tls-ca-1" });
    b.model.grants.push({ ...g, key: "lao-gov-signing-ca-1-2026", resource: "partition/issuing" });
    expect(
      findingsOf(check(b), "LCA-TSA-01")
        .map((f) => f.id)
        .sort(),
    ).toEqual(["LCA-TSA-01:grant:lanic/ocsp-signer-lao-gov-tls-ca-1", "LCA-TSA-01:tsa-grant:lao-gov-signing-ca-1-2026"]);
  });
  it("LCA-TSA-02: a time source the TSA has no flow to", () => {
    const b = copy("production");
    b.model.flows = b.model.flows.filter((f) => !(f.to.type === "external" && f.to.kind === "ntp" && f.site === "lanic" && f.to.name === "ntp-backup-ntp-1"));
    expect(findingsOf(check(b), "LCA-TSA-02").map((f) => f.id)).toEqual(["LCA-TSA-02:ntp:backup-ntp-1:flow:lanic/tsa-lao-gov-tsa-1"]);
  });
  it("LCA-NET-03: the TSA's door is its RFC 3161 port only: a public flow to its store is a finding", () => {
    const b = copy("production");
    b.model.flows.push({
      from: { type: "external", name: "internet", kind: "internet", cidrs: ["0.0.0.0/0"] },
      to: { type: "component", id: "lanic/lanic-ca-tsa-db" },
      port: 5432,
      protocol: "TCP",
      mtls: false,
      purpose: "debug",
      site: "lanic",
      path: "production/production-lanic/time-stamping-authority/debug",
    });
    expect(findingsOf(check(b), "LCA-NET-03").map((f) => f.id)).toEqual(["LCA-NET-03:edge:lanic/external:internet:internet->lanic/lanic-ca-tsa-db:5432"]);
  });
  it("the TSA controls are not charged where no TSA runs (pilot)", () => {
    const r = check(copy("pilot"), { shippedExceptions: true });
    for (const id of ["LCA-TSA-01", "LCA-TSA-02", "LCA-TSA-03", "LCA-TSA-04"]) expect(statusOf(r, id)).toBe("not-applicable");
    for (const id of ["LCA-TSA-01", "LCA-TSA-02", "LCA-TSA-03", "LCA-TSA-04"]) expect(statusOf(check(copy("production")), id)).toBe("pass");
  });
  it("LCA-SOD-01: the audit log inspector sharing a group with a role that writes", () => {
    const b = build("production", (d) => {
      d.roles["audit-log-inspector"] = d.roles["repository-operator"];
    });
    expect(findingsOf(check(b), "LCA-SOD-01").map((f) => f.id)).toEqual(["LCA-SOD-01:group:lanic-ca-production:repository-operator:audit-log-inspector+repository-operator"]);
  });
});

describe("duties and hardening", () => {
  it("LCA-SOD-01: the IA operator as key custodian, the security officer as infrastructure engineer", () => {
    const b = build("production", (d) => {
      d.roles["key-custodian"] = d.roles["ia-operator"];
      d.roles["infrastructure-engineer"] = d.roles["security-officer"];
    });
    expect(
      findingsOf(check(b), "LCA-SOD-01")
        .map((f) => f.id)
        .sort(),
    ).toEqual(["LCA-SOD-01:group:lanic-ca-production:ia-operator:ia-operator+key-custodian", "LCA-SOD-01:group:lanic-ca-production:security-officer:security-officer+infrastructure-engineer"]);
  });
  it("LCA-WKL-01: a non-signing workload (the audit collector, the RA front end) is checked too", () => {
    const b = copy("production");
    resourceAt(b, "production/production-lanic/audit-log/collector/deployment").spec.template.spec.container[0].security_context.read_only_root_filesystem = false;
    resourceAt(b, "production/production-lanic/registration-authority/frontend/deployment").spec.template.spec.automount_service_account_token = true;
    expect(
      findingsOf(check(b), "LCA-WKL-01")
        .map((f) => f.found)
        .sort(),
    ).toEqual(["lanic/audit-collector: writable root filesystem", "lanic/ra-frontend: service account token mounted"]);
  });
});

describe("exposure and URLs", () => {
  it("LCA-NET-06: 0.0.0.0/0 as government network also exposes the RA front end to the internet", () => {
    const b = build("production", (d) => {
      d.ra.governmentNetworks = ["0.0.0.0/0"];
    });
    expect(
      findingsOf(check(b), "LCA-NET-06")
        .map((f) => f.id)
        .sort(),
    ).toEqual([
      "LCA-NET-06:government-network:backup:backup/ra-frontend:0.0.0.0/0",
      "LCA-NET-06:government-network:backup:backup/tsa-lao-gov-tsa-1:0.0.0.0/0",
      "LCA-NET-06:government-network:lanic:lanic/ra-frontend:0.0.0.0/0",
      "LCA-NET-06:government-network:lanic:lanic/tsa-lao-gov-tsa-1:0.0.0.0/0",
      "LCA-NET-06:internet:backup/ra-frontend:8443",
      "LCA-NET-06:internet:lanic/ra-frontend:8443",
    ]);
  });
  it("LCA-NET-06: an internet flow into the RA service; the repository and OCSP responder are meant to face it", () => {
    const b = copy("production");
    const f = b.model.flows.find((x) => x.to.type === "component" && x.to.id === "lanic/repository" && x.from.type === "external" && x.from.kind === "internet")!;
    b.model.flows.push({ ...structuredClone(f), to: { type: "component", id: "lanic/ra" }, port: 8443, purpose: "direct access" });
    expect(findingsOf(check(b), "LCA-NET-06").map((x) => x.found)).toEqual(["lanic/ra (ra, ra zone) is reachable on port 8443 from 0.0.0.0/0 (direct access)"]);
  });
  it("LCA-URL-01: an internal repository name, and a CA configuration that drifts from the published URLs", () => {
    const b = build("production", (d) => {
      d.repository.baseUrl = "http://repository.lanic-ca-public.svc.cluster.local";
    });
    const ids = findingsOf(check(b), "LCA-URL-01").map((f) => f.id);
    expect(ids).toContain("LCA-URL-01:publication:repository");
    expect(ids).toContain("LCA-URL-01:ca:lao-gov-root-ca:crl");
    const c = copy("production");
    const cm = resourceAt(c, "production/production-lanic/issuing-ca-lao-gov-tls-ca-1/config");
    const config = JSON.parse(cm.data["ca-config.json"]);
    config.urls.crl = "http://10.20.5.5/crl/lao-gov-tls-ca-1.crl";
    cm.data["ca-config.json"] = JSON.stringify(config);
    expect(findingsOf(check(c), "LCA-URL-01").map((f) => f.found)).toEqual([
      "the lao-gov-tls-ca-1 configuration (stack production-lanic) puts crl http://10.20.5.5/crl/lao-gov-tls-ca-1.crl in certificates; the model says http://repository.ca.gov.la/crl/lao-gov-tls-ca-1.crl",
    ]);
  });
});

describe("check refuses whatever synth's ceremony rendering refuses (LCA-CER-01)", () => {
  const mutations: [string, EnvName, (d: any) => void][] = [
    [
      "root key outside ECDSA_P384 / RSA_4096",
      "production",
      (d) => {
        d.rootOfTrust.keyAlgorithm = "ECDSA_P256";
      },
    ],
    [
      "intermediate longer than 10 years",
      "production",
      (d) => {
        d.rootOfTrust.intermediateValidityDays = 4000;
      },
    ],
    [
      "subordinate CA key RSA_2048",
      "production",
      (d) => {
        d.issuingCas[0].keyAlgorithm = "RSA_2048";
        d.hsm.partitions[0].keys[0].algorithm = "RSA_2048";
      },
    ],
    [
      "subordinate CA key RSA_2048 under the external root",
      "pilot",
      (d) => {
        d.issuingCas[0].keyAlgorithm = "RSA_2048";
        d.hsm.partitions[0].keys[0].algorithm = "RSA_2048";
      },
    ],
  ];
  it.each(mutations)("%s: synth refuses the ceremony files and check reports it", (_name, env, mutate) => {
    const def = definition(env);
    mutate(def);
    expect(() => renderCeremonyFiles(parseEnvironment(def, "fixture"))).toThrow(CeremonyFileError);
    const ids = findingsOf(check(build(env, mutate)), "LCA-CER-01").map((f) => f.id);
    expect(ids.length).toBeGreaterThan(0);
  });
  it("an intermediate outliving its root: check refuses before the ceremony linter would", () => {
    const b = build("production", (d) => {
      d.rootOfTrust.validityDays = 2922;
      d.rootOfTrust.intermediateValidityDays = 3000;
    });
    expect(findingsOf(check(b), "LCA-CER-01").map((f) => f.found)).toEqual([
      "intermediate for lao-gov-signing-ca-1 valid 3000 days, the root 2922 days: it would outlive its root",
      "intermediate for lao-gov-tls-ca-1 valid 3000 days, the root 2922 days: it would outlive its root",
    ]);
  });
  it("an intermediate without pathLenConstraint (model)", () => {
    const b = copy("production");
    delete b.model.environment.ceremonies!.intermediates[0].pathLen;
    expect(findingsOf(check(b), "LCA-CER-01").map((f) => f.id)).toEqual(["LCA-CER-01:pathlen:lao-gov-signing-ca-1"]);
  });
});

describe("mTLS proven (LCA-NET-07)", () => {
  it("a client without its client certificate, and a server serving TLS without --client-ca", () => {
    const b = copy("production");
    const ra = resourceAt(b, "production/production-lanic/registration-authority/service/deployment").spec.template.spec;
    ra.volume = ra.volume.filter((v: { name: string }) => v.name !== "ra-client-cert");
    const ca = resourceAt(b, "production/production-lanic/issuing-ca-lao-gov-tls-ca-1/service/deployment").spec.template.spec.container[0];
    ca.args = ca.args.filter((a: string) => !a.startsWith("--client-ca"));
    expect(
      findingsOf(check(b), "LCA-NET-07")
        .map((f) => f.found)
        .sort(),
    ).toEqual([
      "mTLS flow 'issue and revoke under lao-gov-signing-ca-1' (port 8443): lanic/ra mounts no client certificate",
      "mTLS flow 'issue and revoke under lao-gov-tls-ca-1' (port 8443): lanic/ra mounts no client certificate; lanic/issuing-ca-lao-gov-tls-ca-1 serves TLS without --client-ca",
    ]);
  });
  const raDb = (b: Built) => resourceAt(b, "production/production-lanic/ra-database/cluster").manifest.spec;
  const raPod = (b: Built) => resourceAt(b, "production/production-lanic/registration-authority/service/deployment").spec.template.spec;
  const raDbFindings = (b: Built) =>
    findingsOf(check(b), "LCA-NET-07")
      .filter((f) => f.id === "LCA-NET-07:flow:lanic:lanic/ra->lanic/lanic-ca-ra-db:5432")
      .map((f) => f.found);
  const RA_DB = "mTLS flow 'CA database (PostgreSQL over TLS)' (port 5432): ";
  it("a database Cluster without its server TLS and client CA Secrets", () => {
    const b = copy("production");
    delete raDb(b).certificates.clientCASecret;
    delete raDb(b).certificates.serverTLSSecret;
    expect(raDbFindings(b)).toEqual([`${RA_DB}lanic/lanic-ca-ra-db names no serverTLSSecret, clientCASecret (spec.certificates)`]);
  });
  it("a database whose pg_hba admits connections without TLS, or TLS logins without a client certificate", () => {
    const b = copy("production");
    raDb(b).postgresql.pg_hba = ["hostssl all all all scram-sha-256"];
    expect(raDbFindings(b)).toEqual([
      `${RA_DB}lanic/lanic-ca-ra-db pg_hba admits connections without TLS (no 'hostnossl all all all reject' before CloudNativePG's final 'host all all all'); lanic/lanic-ca-ra-db pg_hba admits TLS logins without a client certificate (no 'hostssl all all all cert' or 'clientcert=verify-full')`,
    ]);
    const c = copy("production");
    raDb(c).postgresql.pg_hba = ["host lanic_ca all 10.0.0.0/8 scram-sha-256", "hostssl lanic_ca all 10.0.0.0/8 md5", ...raDb(c).postgresql.pg_hba];
    expect(raDbFindings(c)).toEqual([
      `${RA_DB}lanic/lanic-ca-ra-db pg_hba line 'host lanic_ca all 10.0.0.0/8 scram-sha-256' admits connections without TLS; lanic/lanic-ca-ra-db pg_hba line 'hostssl lanic_ca all 10.0.0.0/8 md5' admits TLS logins without a client certificate`,
    ]);
  });
  const collectorConfig = (b: Built) => Object.values(resourcesOf(b, "production-lanic", "kubernetes_config_map_v1")).find((r) => r.metadata.name === "audit-collector-config")!.data;
  const collectorPod = (b: Built) => resourceAt(b, "production/production-lanic/audit-log/collector/deployment").spec.template.spec;
  const auditFindings = (b: Built, id: string) =>
    findingsOf(check(b), "LCA-NET-07")
      .filter((f) => f.id === `LCA-NET-07:flow:lanic:${id}`)
      .map((f) => f.found);
  const RA_AUDIT = "mTLS flow 'audit log (syslog over TLS)' (port 6514): ";
  it("an audit collector whose syslog input does not require client certificates", () => {
    const b = copy("production");
    const data = collectorConfig(b);
    data["audit-collector.conf"] = data["audit-collector.conf"].replace(/ *tls\.verify_client_cert +on\n/, "");
    expect(auditFindings(b, "lanic/ra->lanic/audit-collector:6514")).toEqual([`${RA_AUDIT}lanic/audit-collector input on port 6514 does not require client certificates (tls.verify_client_cert on)`]);
    const c = copy("production");
    collectorConfig(c)["audit-collector.conf"] = collectorConfig(c)["audit-collector.conf"].replace("tls.ca_file            /etc/lanic-ca/tls/ca.crt", "tls.ca_file /etc/ssl/certs/ca-certificates.crt");
    expect(auditFindings(c, "lanic/ra->lanic/audit-collector:6514")).toEqual([`${RA_AUDIT}lanic/audit-collector input on port 6514: tls.ca_file not in a mounted Secret`]);
    const d = copy("production");
    collectorConfig(d)["audit-collector.conf"] = collectorConfig(d)["audit-collector.conf"].replace(/ *tls +on\n/, "    tls off\n");
    expect(auditFindings(d, "lanic/ra->lanic/audit-collector:6514")).toEqual([`${RA_AUDIT}lanic/audit-collector input on port 6514 is not TLS`]);
    const e = copy("production");
    collectorConfig(e)["audit-collector.conf"] = collectorConfig(e)["audit-collector.conf"].replace(/port +6514\n/, "port 514\n");
    expect(auditFindings(e, "lanic/ra->lanic/audit-collector:6514")).toEqual([`${RA_AUDIT}lanic/audit-collector configures no input on port 6514`]);
  });
  it("an audit collector started with a configuration that is not the mounted one", () => {
    const b = copy("production");
    collectorPod(b).container[0].args = ["--config=/fluent-bit/etc/fluent-bit.conf"];
    expect(auditFindings(b, "lanic/ra->lanic/audit-collector:6514")).toEqual([`${RA_AUDIT}lanic/audit-collector has no configuration in a mounted ConfigMap (its --config names /fluent-bit/etc/fluent-bit.conf)`]);
  });
  it("a shipper without its client certificate, and a collector that presents none to the sink", () => {
    const b = copy("production");
    raPod(b).volume = raPod(b).volume.filter((v: { name: string }) => v.name !== "audit-client-tls");
    collectorPod(b).volume = collectorPod(b).volume.filter((v: { name: string }) => v.name !== "sink-client-tls");
    expect(auditFindings(b, "lanic/ra->lanic/audit-collector:6514")).toEqual([
      `${RA_AUDIT}lanic/ra ships its audit log with no client certificate (AUDIT_SYSLOG_CERT, AUDIT_SYSLOG_KEY, AUDIT_SYSLOG_CA not in a mounted Secret)`,
    ]);
    expect(auditFindings(b, "lanic/audit-collector->audit-sink:6514")).toEqual([
      "mTLS flow 'audit log forwarding (syslog-tls), retention 2557 days' (port 6514): lanic/audit-collector output to port 6514 presents no client certificate (tls.crt_file, tls.key_file, tls.ca_file not in a mounted Secret)",
    ]);
  });
  it("streaming replication: a primary without its client CA, a replica that does not verify the primary or has no certificate", () => {
    const b = copy("production");
    delete resourceAt(b, "production/production-lanic/ra-database/cluster").manifest.spec.certificates.clientCASecret;
    const source = resourceAt(b, "production/production-backup/backup-site/ra-database-replica/cluster").manifest.spec.externalClusters[0];
    source.connectionParameters.sslmode = "require";
    delete source.sslKey;
    const found = findingsOf(check(b), "LCA-NET-07")
      .filter((f) => f.found.includes("streaming replication"))
      .map((f) => `${f.id} ${f.found}`)
      .sort();
    expect(found).toEqual([
      "LCA-NET-07:flow:backup:backup/lanic-ca-ra-db->lanic-lanic-ca-ra-db:5432 mTLS flow 'PostgreSQL streaming replication from the lanic site' (port 5432): backup/lanic-ca-ra-db does not verify the primary (sslmode require, not verify-full); backup/lanic-ca-ra-db presents no streaming_replica certificate (sslKey not set)",
      "LCA-NET-07:flow:lanic:backup-lanic-ca-ra-db->lanic/lanic-ca-ra-db:5432 mTLS flow 'PostgreSQL streaming replication to the backup site' (port 5432): lanic/lanic-ca-ra-db names no clientCASecret (spec.certificates) to verify the replica's certificate",
    ]);
  });
  it("a database client that does not verify the server, or has no client certificate", () => {
    const b = copy("production");
    const c = raPod(b).container[0];
    c.env.find((e: { name: string }) => e.name === "PGSSLMODE").value = "require";
    raPod(b).volume = raPod(b).volume.filter((v: { name: string }) => v.name !== "db-client-tls");
    expect(raDbFindings(b)).toEqual([
      `${RA_DB}lanic/ra does not verify the server (PGSSLMODE require, not verify-full); lanic/ra presents no client certificate (PGSSLCERT, PGSSLKEY, PGSSLROOTCERT not in a mounted Secret)`,
    ]);
  });
});

describe("tier and clusters", () => {
  it("LCA-TIER-01: production declared staging names every reason it is production", () => {
    const b = build("production", (d) => {
      d.tier = "staging";
    });
    const f = findingsOf(check(b), "LCA-TIER-01");
    expect(f.map((x) => x.id)).toEqual(["LCA-TIER-01:tier"]);
    expect(f[0].found).toContain("CA 'lao-gov-root-ca' is named 'Lao Government Root CA 2026' (Ministry of Technology and Communications), with nothing marking it a test CA");
  });
  it("LCA-TIER-01: the pilot declared dev is production (its CAs chain to a trusted root)", () => {
    const b = build("pilot", (d) => {
      d.tier = "dev";
    });
    expect(findingsOf(check(b), "LCA-TIER-01")[0].found).toMatch(/^tier dev, but the environment is production: its issuing CAs chain to an external, already-trusted root;/);
  });
  it("LCA-CLU-01: two sites on one context, and a site without its API server outside dev", () => {
    // The schema refuses two sites on one context already; the model side proves the policy does too.
    const b = build("production", (d) => {
      delete d.sites[0].kubernetes.server;
      delete d.sites[1].kubernetes.server;
    });
    b.model.environment.sites[1].cluster = { ...b.model.environment.sites[0].cluster! };
    expect(
      findingsOf(check(b), "LCA-CLU-01")
        .map((f) => f.id)
        .sort(),
    ).toEqual(["LCA-CLU-01:provider:backup", "LCA-CLU-01:server:backup", "LCA-CLU-01:server:lanic", "LCA-CLU-01:shared:lanic:backup"]);
  });
});

describe("offline root HSM and partitions", () => {
  it("LCA-KEY-05: the root HSM on the network, at an online member's address, loading the online library, with an online serial", () => {
    const b = build("production", (d) => {
      Object.assign(d.rootOfTrust.hsm, { attachment: "network", address: "10.20.10.11", pkcs11Library: d.hsm.pkcs11Library, serialNumber: "1238712" });
    });
    expect(
      findingsOf(check(b), "LCA-KEY-05")
        .map((f) => f.id)
        .sort(),
    ).toEqual(["LCA-KEY-05:attachment", "LCA-KEY-05:library:online", "LCA-KEY-05:member:online:lanic-hsm-1", "LCA-KEY-05:reachable:lanic:hsm:1792", "LCA-KEY-05:serial:online:issuing"]);
  });
  it("LCA-KEY-05: a network root HSM must name its address", () => {
    expect(() =>
      build("production", (d) => {
        d.rootOfTrust.hsm.attachment = "network";
      }),
    ).toThrow("rootOfTrust.hsm.address: required when attachment is 'network'");
  });
  it("LCA-HSM-03: two CAs' keys in one partition (the production HSM as first shipped), and a PIN Secret shared by two partitions", () => {
    const b = build("production", (d) => {
      const [signing, tls, ocsp] = d.hsm.partitions;
      d.hsm.partitions = [{ ...signing, keys: [...signing.keys, ...tls.keys] }, { ...ocsp, pinSecret: signing.pinSecret }, ...d.hsm.partitions.slice(3)];
      d.issuingCas[1].partition = "issuing";
    });
    const f = findingsOf(check(b), "LCA-HSM-03");
    expect(f.map((x) => x.id).sort()).toEqual(["LCA-HSM-03:partition:issuing:cas", "LCA-HSM-03:pin-secret:online:hsm-pin-issuing"]);
    expect(f.find((x) => x.id.endsWith(":cas"))!.found).toBe("partition 'issuing' holds the CA keys of lao-gov-signing-ca-1 and lao-gov-tls-ca-1: each CA's signers get the PIN of the other's key");
  });
  it("LCA-HSM-04 and LCA-BCP-01 both report a backup site without an HSM member (synth builds it)", () => {
    const b = build("production", (d) => {
      d.hsm.members = d.hsm.members.filter((m: { site: string }) => m.site !== "backup");
    });
    const r = check(b);
    expect(findingsOf(r, "LCA-BCP-01").map((f) => f.id)).toContain("LCA-BCP-01:hsm:backup");
    expect(findingsOf(r, "LCA-HSM-04").every((f) => f.found.endsWith("has no member at site 'backup'"))).toBe(true);
    expect(findingsOf(r, "LCA-HSM-04").length).toBeGreaterThan(3);
  });
});

describe("shipped environments", () => {
  it.each(["dev", "staging", "production", "pilot"] as EnvName[])("%s passes every error-level control (with its exceptions file)", (n) => {
    const r = check(copy(n), { shippedExceptions: true });
    const open = r.results.flatMap((x) => x.findings).filter((f) => f.severity === "error");
    expect(open).toEqual([]);
    expect(r.exceptionErrors).toEqual([]);
  });
  it("the pilot (external root) is not charged with the offline-root controls, and is charged with the rest", () => {
    const r = check(copy("pilot"), { shippedExceptions: true });
    const na = r.results
      .filter((x) => x.status === "not-applicable")
      .map((x) => x.control.id)
      .sort();
    expect(na).toEqual(["LCA-CRL-02", "LCA-KEY-01", "LCA-KEY-04", "LCA-KEY-05", "LCA-MPC-01", "LCA-TSA-01", "LCA-TSA-02", "LCA-TSA-03", "LCA-TSA-04"]);
    for (const id of ["LCA-HSM-01", "LCA-BCP-01", "LCA-RES-01", "LCA-WKL-03", "LCA-NET-03"]) expect(statusOf(r, id)).not.toBe("not-applicable");
  });
  it("dev is not charged with HSM certification, digests, availability or continuity", () => {
    const r = check(copy("dev"), { shippedExceptions: true });
    const na = r.results
      .filter((x) => x.status === "not-applicable")
      .map((x) => x.control.id)
      .sort();
    expect(na).toEqual(
      CATALOG.filter((c) => !c.tiers.includes("dev"))
        .map((c) => c.id)
        .sort(),
    );
    expect(na).toEqual(expect.arrayContaining(["LCA-AUD-02", "LCA-BCP-01", "LCA-BCP-02", "LCA-HSM-01", "LCA-HSM-02", "LCA-RES-01", "LCA-WKL-02", "LCA-WKL-03"]));
  });
});
