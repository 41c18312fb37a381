/**
 * SoftHSM2 for dev, lab and tests: a fresh token in a private directory with a private
 * SOFTHSM2_CONF, so nothing touches /var/lib/softhsm or another test's keys.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where Debian/Ubuntu, Fedora/RHEL, Alpine and Homebrew put the SoftHSM2 library. */
export const SOFTHSM_LIBRARY_CANDIDATES = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
] as const;

/** The SoftHSM2 library path, or an error that says what to install. */
export function findSoftHsmLibrary(): string {
  const found = (process.env.SOFTHSM2_LIBRARY ? [process.env.SOFTHSM2_LIBRARY] : []).concat(SOFTHSM_LIBRARY_CANDIDATES).find((p) => existsSync(p));
  if (!found) {
    throw new Error("SoftHSM2 is not installed: run `apt-get install -y softhsm2` as root (Debian/Ubuntu), " + "or set SOFTHSM2_LIBRARY to the path of libsofthsm2.so");
  }
  return found;
}

export interface SoftHsmToken {
  /** Directory holding softhsm2.conf and the tokens. */
  readonly dir: string;
  /** Path of the private softhsm2.conf (also set in process.env.SOFTHSM2_CONF). */
  readonly conf: string;
  readonly library: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly soPin: string;
  /** Environment for a child process that must see the same token. */
  readonly env: Record<string, string>;
}

export interface CreateSoftHsmTokenOptions {
  /** An empty directory (e.g. under mkdtemp) that will hold the conf and the token files. */
  readonly dir: string;
  readonly tokenLabel: string;
  /** @default "1234" (tests only) */
  readonly pin?: string;
  /** @default "12345678" (tests only) */
  readonly soPin?: string;
  /** Set process.env.SOFTHSM2_CONF, which SoftHSM reads at C_Initialize. @default true */
  readonly setEnv?: boolean;
}

/** Writes a private softhsm2.conf under `dir` (if absent) and initialises a new token in the
 *  first free slot. Several tokens may share one `dir`. */
export function createSoftHsmToken(options: CreateSoftHsmTokenOptions): SoftHsmToken {
  const library = findSoftHsmLibrary();
  const { dir, tokenLabel } = options;
  const pin = options.pin ?? "1234";
  const soPin = options.soPin ?? "12345678";
  const tokens = join(dir, "tokens");
  mkdirSync(tokens, { recursive: true });
  const conf = join(dir, "softhsm2.conf");
  if (!existsSync(conf)) {
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  }
  const env = { SOFTHSM2_CONF: conf };
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", tokenLabel, "--so-pin", soPin, "--pin", pin], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (options.setEnv ?? true) process.env.SOFTHSM2_CONF = conf;
  return { dir, conf, library, tokenLabel, pin, soPin, env };
}
