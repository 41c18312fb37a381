import { describe, expect, it } from "vitest";
import { ENVIRONMENT_NAMES, loadEnvironment } from "../../environments/index.js";
import { EnvironmentError, parseEnvironment } from "../../environments/load.js";
import type { EnvironmentInput } from "../../environments/schema.js";
import { DEFINITIONS } from "./helpers.js";

describe("shipped environments", () => {
  it.each(ENVIRONMENT_NAMES)("%s loads and validates", (name) => {
    const env = loadEnvironment(name);
    expect(env.name).toBe(name);
  });

  it("are the four of the issue, production and pilot on two sites", () => {
    expect(ENVIRONMENT_NAMES).toEqual(["dev", "staging", "production", "pilot"]);
    expect(loadEnvironment("production").sites.map((s) => `${s.name}:${s.role}`)).toEqual(["lanic:primary", "backup:backup"]);
    expect(loadEnvironment("pilot").rootOfTrust.type).toBe("external");
  });

  it("refuses a definition whose name is another's (its stacks would overwrite that one's)", () => {
    const def = DEFINITIONS.staging as { name: string };
    const name = def.name;
    def.name = "production";
    try {
      expect(() => loadEnvironment("staging")).toThrow(
        "environments/staging.ts: invalid environment definition (1 problem):\n  - environments/staging.ts: name: 'production' is not the definition's own name 'staging': two definitions with one name overwrite each other's stacks (got \"production\")",
      );
    } finally {
      def.name = name;
    }
  });

  it("refuses prototype names as environments", () => {
    expect(() => loadEnvironment("constructor")).toThrow("unknown environment 'constructor'; defined: dev, staging, production, pilot");
  });

  it("refuses an unknown environment with the list of known ones", () => {
    expect(() => loadEnvironment("prod")).toThrow("unknown environment 'prod'; defined: dev, staging, production, pilot");
  });
});

function problems(mutate: (e: any) => void, base = "production"): string[] {
  const raw = structuredClone(DEFINITIONS[base]) as EnvironmentInput;
  mutate(raw);
  try {
    parseEnvironment(raw, "environments/x.ts");
  } catch (e) {
    expect(e).toBeInstanceOf(EnvironmentError);
    return (e as EnvironmentError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the definition to be refused");
}

describe("invalid environment definitions name the field and what is allowed", () => {
  it.each<[string, (e: any) => void, string]>([
    ["unknown top-level key", (e) => (e.colour = "red"), "colour: unknown key 'colour' (not allowed here)"],
    ["unknown nested key", (e) => (e.issuingCas[0].crl.every = 3), "issuingCas[0].crl.every: unknown key 'every' (not allowed here)"],
    ["unknown key in a shared schedule", (e) => (e.issuingCas[0].ocsp.every = 1), "issuingCas[0].ocsp.every: unknown key 'every' (not allowed here)"],
    // the root serves no OCSP: its status is its CA CRL (ADR 0072)
    [
      "a root OCSP responder",
      (e) => (e.rootOfTrust.ocspSigner = { partition: "ocsp", keyLabel: "root-ocsp", keyAlgorithm: "ECDSA_P256", validityDays: 365 }),
      "rootOfTrust.ocspSigner: unknown key 'ocspSigner' (not allowed here)",
    ],
    ["bad tier", (e) => (e.tier = "prod"), 'tier: must be one of "dev", "staging", "production" (got "prod")'],
    ["bad CIDR", (e) => (e.ra.governmentNetworks[0] = "10.60.0.0"), 'ra.governmentNetworks[0]: an IPv4 CIDR with octets 0-255, e.g. 10.20.0.0/24 (got "10.60.0.0")'],
    ["CIDR octet over 255", (e) => (e.ra.governmentNetworks[0] = "10.300.0.0/16"), 'ra.governmentNetworks[0]: an IPv4 CIDR with octets 0-255, e.g. 10.20.0.0/24 (got "10.300.0.0/16")'],
    [
      "CIDR with host bits",
      (e) => (e.ra.governmentNetworks[0] = "10.60.0.5/24"),
      'ra.governmentNetworks[0]: host bits are set past the prefix: write the network address (e.g. 10.20.0.0/24, not 10.20.0.5/24) (got "10.60.0.5/24")',
    ],
    [
      "CIDR with host bits in the pod network",
      (e) => (e.sites[0].kubernetes.podCidr = "10.244.1.0/15"),
      'sites[0].kubernetes.podCidr: host bits are set past the prefix: write the network address (e.g. 10.20.0.0/24, not 10.20.0.5/24) (got "10.244.1.0/15")',
    ],
    ["IPv4 octet over 255", (e) => (e.hsm.members[0].address = "10.20.10.256"), 'hsm.members[0].address: an IPv4 address with octets 0-255, e.g. 10.20.10.11 (got "10.20.10.256")'],
    ["IPv4 with a leading zero", (e) => (e.hsm.members[0].address = "10.20.010.11"), 'hsm.members[0].address: an IPv4 address with octets 0-255, e.g. 10.20.10.11 (got "10.20.010.11")'],
    ["javascript: URL", (e) => (e.ra.url = "javascript:alert(1)"), 'ra.url: an http:// or https:// URL with a host name, e.g. https://ra.ca.gov.la (got "javascript:alert(1)")'],
    ["file: URL for the OCSP responder", (e) => (e.va.url = "file:///etc/passwd"), 'va.url: an http:// or https:// URL with a host name, e.g. https://ra.ca.gov.la (got "file:///etc/passwd")'],
    ["ftp: CP/CPS URL", (e) => (e.cpCps.url = "ftp://ca.gov.la/cps.pdf"), 'cpCps.url: an http:// or https:// URL with a host name, e.g. https://ra.ca.gov.la (got "ftp://ca.gov.la/cps.pdf")'],
    ["URL with credentials", (e) => (e.ra.url = "https://admin:secret@ra.ca.gov.la"), 'ra.url: no user name or password in the URL (got "https://admin:secret@ra.ca.gov.la")'],
    [
      "repository base URL with a query",
      (e) => (e.repository.baseUrl = "http://repository.ca.gov.la/?x=1"),
      'repository.baseUrl: a base URL without query or fragment: <base>/certs/<ca>.der and <base>/crl/<ca>.crl are appended to it (got "http://repository.ca.gov.la/?x=1")',
    ],
    [
      "repository base URL that is not a URL",
      (e) => (e.repository.baseUrl = "repository.ca.gov.la"),
      'repository.baseUrl: an http:// or https:// URL with a host name, e.g. https://ra.ca.gov.la (got "repository.ca.gov.la")',
    ],
    [
      "a profile named constructor (prototype lookup)",
      (e) => e.issuingCas[1].profiles.push("constructor"),
      "issuingCas[1].profiles[2]: unknown profile 'constructor'; defined: ex-officio-signing, organisation-signing, tls-server, smime, operator-client, ocsp-signing, time-stamping",
    ],
    ["a profile named toString", (e) => e.issuingCas[1].profiles.push("toString"), `issuingCas[1].profiles[2]: a lower-case DNS label (a-z, 0-9, '-') (got "toString")`],
    [
      "two sites on one kubeconfig context",
      (e) => (e.sites[1].kubernetes.context = e.sites[0].kubernetes.context),
      "sites: sites 'lanic' and 'backup' share the kubeconfig context 'lanic-ca-prod-vte': each site is its own cluster",
    ],
    ["bad key algorithm", (e) => (e.issuingCas[0].keyAlgorithm = "RSA_1024"), 'issuingCas[0].keyAlgorithm: must be one of "RSA_2048", "RSA_3072", "RSA_4096", "ECDSA_P256", "ECDSA_P384", "ECDSA_P521" (got "RSA_1024")'],
    ["missing field", (e) => delete e.hsm.pkcs11Library, "hsm.pkcs11Library: Invalid input: expected string, received undefined"],
    ["wrong type", (e) => (e.issuingCas[0].crl.intervalHours = "daily"), 'issuingCas[0].crl.intervalHours: Invalid input: expected number, received string (got "daily")'],
    ["bad image", (e) => (e.images.pkiServices = "Registry/PKI:latest!"), 'images.pkiServices: an image reference, e.g. registry/name@sha256:<64 hex> (got "Registry/PKI:latest!")'],
    [
      "unknown profile",
      (e) => e.issuingCas[1].profiles.push("code-signing"),
      "issuingCas[1].profiles[2]: unknown profile 'code-signing'; defined: ex-officio-signing, organisation-signing, tls-server, smime, operator-client, ocsp-signing, time-stamping",
    ],
    ["unknown partition", (e) => (e.issuingCas[0].partition = "vault"), "issuingCas[0].partition: unknown HSM partition 'vault'; defined: issuing, tls-issuing, ocsp, tsa"],
    [
      "key of another CA",
      (e) => Object.assign(e.issuingCas[0], { partition: "tls-issuing", keyLabel: "lao-gov-tls-ca-1-2026" }),
      "issuingCas[0].keyLabel: key 'lao-gov-tls-ca-1-2026' in partition 'tls-issuing' is declared for issuing-ca of 'lao-gov-tls-ca-1', not issuing-ca of 'lao-gov-signing-ca-1'",
    ],
    ["algorithm differs from the HSM key", (e) => (e.issuingCas[0].keyAlgorithm = "RSA_4096"), "issuingCas[0].keyAlgorithm: RSA_4096 differs from the HSM key 'lao-gov-signing-ca-1-2026' (RSA_3072)"],
    ["HSM member at an unknown site", (e) => (e.hsm.members[2].site = "pakse"), "hsm.members[2].site: unknown site 'pakse'; defined: lanic, backup"],
    ["quorum larger than custodians", (e) => (e.rootOfTrust.custodians.quorum = 6), "rootOfTrust.custodians.quorum: quorum 6 is larger than the 5 custodians"],
    ["two primaries", (e) => (e.sites[1].role = "primary"), "sites: exactly one site must have role 'primary' (found 2)"],
    ["network HSM without members", (e) => (e.hsm.members = []), "hsm.members: a network HSM cluster needs at least one member (name, site, address, port)"],
    [
      "backup site without replication addresses",
      (e) => delete e.database.replicationAddresses,
      "database.replicationAddresses: required with a backup site: the addresses at the primary site 'lanic' the replica clusters stream from ({ lanic: { ca, ra } })",
    ],
    ["missing workload size", (e) => delete e.workloads["ocsp-signer"], "workloads.ocsp-signer: missing: the size of the 'ocsp-signer' workload (replicas and resources)"],
  ])("%s", (_name, mutate, expected) => {
    expect(problems(mutate)).toContain(expected);
  });

  it("lists every problem at once, each with the file", () => {
    const raw = structuredClone(DEFINITIONS.dev) as any;
    raw.tier = "test";
    raw.extra = 1;
    raw.auditLog.retentionDays = -5;
    try {
      parseEnvironment(raw, "environments/dev.ts");
      expect.unreachable();
    } catch (e) {
      const err = e as EnvironmentError;
      expect(err.problems).toHaveLength(3);
      expect(err.message).toMatch(/^environments\/dev\.ts: invalid environment definition \(3 problems\):/);
      expect(err.message).toContain("  - environments/dev.ts: auditLog.retentionDays: Too small: expected number to be >0 (got -5)");
      expect(err.message).toContain("  - environments/dev.ts: extra: unknown key 'extra' (not allowed here)");
    }
  });
});
