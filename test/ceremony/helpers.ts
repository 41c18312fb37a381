/**
 * Shared helpers of the ceremony tests against SoftHSM: a temp workspace with its own
 * SOFTHSM2_CONF and tokens, ceremony files written there, runs with the custodians' typing on
 * the prompt's input stream, and OpenSSL as the independent verifier.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { stringify } from "yaml";
import { createSoftHsmToken, findSoftHsmLibrary, type SoftHsmToken } from "@lanic-ca/pki-services/lab/index";
import { runCeremony, type RunResult } from "../../scripts/ceremony/run.js";

// eslint-disable-next-line no-control-regex
export const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/** The shares shown on screen by a quorum-split ceremony, in the order they were shown. */
export function sharesOnScreen(screen: string, environment = "dev"): string[] {
  const re = new RegExp(`(${environment}/[a-z0-9-]+:[0-9a-f-]+:[0-9a-f]{8})`, "g");
  return [...stripAnsi(screen).matchAll(re)].map((m) => m[1]);
}

export interface TokenSpec {
  readonly label: string;
  readonly pin: string;
  readonly soPin?: string;
}

export class CeremonyWorkspace {
  dir = "";
  library = "";
  readonly tokens = new Map<string, SoftHsmToken>();

  /** In beforeAll: a temp dir, and every token before the library is first initialised
   *  (SoftHSM reads its token directory at C_Initialize). */
  setUp(tokens: readonly TokenSpec[], prefix = "ceremony-"): void {
    this.library = findSoftHsmLibrary();
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    for (const t of tokens) this.tokens.set(t.label, createSoftHsmToken({ dir: this.dir, tokenLabel: t.label, pin: t.pin, soPin: t.soPin }));
  }

  tearDown(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Writes a ceremony file (environment and description filled in) and returns its path. */
  write(name: string, doc: Record<string, unknown>, environment = "dev"): string {
    const p = join(this.dir, name);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, stringify({ environment, description: `test ${name}`, ...doc }));
    return p;
  }

  /** Runs the ceremony `file`, `lines` being what is typed at the prompts. */
  async runFile(file: string, lines: readonly string[]): Promise<{ result: RunResult; screen: string }> {
    const out = new PassThrough();
    let screen = "";
    out.on("data", (d) => (screen += d.toString()));
    const result = await runCeremony({
      file,
      input: Readable.from(lines.map((l) => `${l}\n`)),
      output: out,
      participants: [{ role: "system-auditor", name: "Test Auditor" }],
    });
    return { result, screen };
  }

  run(name: string, lines: readonly string[], doc: Record<string, unknown>, environment = "dev"): Promise<{ result: RunResult; screen: string }> {
    return this.runFile(this.write(name, doc, environment), lines);
  }

  /** The error message of a ceremony that must be refused. */
  async refusal(name: string, lines: readonly string[], doc: Record<string, unknown>, environment = "dev"): Promise<string> {
    try {
      await this.run(name, lines, doc, environment);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${name} was not refused`);
  }

  /** OpenSSL in `cwd` (default: the workspace); throws on a non-zero exit. */
  openssl(args: readonly string[], cwd = this.dir): string {
    return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  /** OpenSSL's exit status, stdout and stderr (some checks report on stderr only). */
  opensslStatus(args: readonly string[], cwd = this.dir): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** SHA-256 of a public key's SubjectPublicKeyInfo DER, computed by OpenSSL from a PEM
   *  certificate (x509), CSR (req) or public key (pkey). */
  opensslSpkiSha256(path: string, kind: "x509" | "req" | "pkey"): string {
    const pub = kind === "pkey" ? this.openssl(["pkey", "-pubin", "-in", path]) : this.openssl([kind, "-in", path, "-noout", "-pubkey"]);
    const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "DER"], { input: pub, stdio: ["pipe", "pipe", "pipe"] });
    return execFileSync("openssl", ["dgst", "-sha256", "-r"], { input: der, encoding: "utf8" }).split(" ")[0];
  }

  /** SHA-256 of a PEM certificate's DER, computed by OpenSSL (a certificate fingerprint). */
  opensslSha256Der(path: string): string {
    return this.openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
      .trim()
      .replace(/^sha256 Fingerprint=/i, "")
      .replace(/:/g, "")
      .toLowerCase();
  }
}
