/**
 * Debian's Chromium (`apt-get install chromium`, scripts/setup.sh) driven by playwright-core:
 * no browser download. Screenshots go to test-artifacts/browser/ (git-ignored).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(process.cwd(), "test-artifacts", "browser");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Saves a full-page screenshot as test-artifacts/browser/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const CLI = join(process.cwd(), "dist/bin/lanic-ca.js");

/** What `lanic-ca lab up --json` prints (ADR 0065). */
export interface LabState {
  ports: Record<string, number>;
  files: Record<string, string>;
  operators: { role: string; name: string; p12: string }[];
}

/** A lab for a browser test, with a work folder of the test's own. */
export interface LabUnderTest {
  work: string;
  state: LabState;
  /** The operators' PKCS#12 password. */
  password: string;
  /** `lab down` (unless the lab was reused) and the work folder removed. */
  stop(): void;
}

/** `lanic-ca lab up` through the real executable (build first), or, with JOURNEY_LAB_DIR, a lab
 *  already up that is left running. */
export function startLab(prefix: string): LabUnderTest {
  expect(existsSync(CLI), "build first: npm run build").toBe(true);
  const work = mkdtempSync(join(tmpdir(), prefix));
  const reuse = process.env.JOURNEY_LAB_DIR;
  const dir = reuse ?? join(work, "lab");
  const lab = (...args: string[]) => spawnSync(process.execPath, [CLI, "lab", ...args, "--dir", dir], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 590_000 });
  const stop = () => {
    if (!reuse && existsSync(join(dir, "lab.json"))) lab("down");
    rmSync(work, { recursive: true, force: true });
  };
  try {
    let state: LabState;
    if (reuse) state = JSON.parse(readFileSync(join(reuse, "lab.json"), "utf8"));
    else {
      const up = lab("up", "--json");
      expect(up.status, up.stderr).toBe(0);
      state = JSON.parse(up.stdout);
    }
    const password = readFileSync(join(dir, "secrets", "operator-p12-password"), "utf8").trim();
    return { work, state, password, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
