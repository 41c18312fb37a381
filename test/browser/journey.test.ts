/**
 * The whole journey in Debian's Chromium against `lanic-ca lab up` (the real executable; build
 * first): apply in Lao on a 320 px wide screen (a refused submit shows each error next to its
 * field in Lao and keeps what was typed), the officer reviews, the same person cannot approve
 * (the page says why), another approver approves, the holder enrolls — key and PKCS#12 made in
 * the browser, saved, opened by `openssl pkcs12`, chain accepted by `openssl verify` — the RA
 * operator revokes, OCSP says revoked. The console refuses a browser without a client
 * certificate. Screenshots of each step: test-artifacts/browser/journey-*.png.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type LabState, type LabUnderTest, launchChromium, screenshot, startLab } from "./chromium.js";

let lab: LabUnderTest | undefined;
let work: string;
let state: LabState;
let browser: Browser;
let password: string;
const contexts: BrowserContext[] = [];
const openssl = (args: string[]) => spawnSync("openssl", args, { encoding: "utf8", cwd: work });
const applicant = () => `https://127.0.0.1:${state.ports.raApplicant}`;
const consoleUrl = () => `https://127.0.0.1:${state.ports.raConsole}`;

async function context(operator?: number): Promise<Page> {
  const c = await browser.newContext({
    ignoreHTTPSErrors: true, // the lab's TLS CA (tls/ca.pem) is not in Chromium's store
    viewport: { width: 320, height: 640 },
    acceptDownloads: true,
    ...(operator === undefined ? {} : { clientCertificates: [{ origin: consoleUrl(), pfxPath: state.operators[operator].p12, passphrase: password }] }),
  });
  contexts.push(c);
  return c.newPage();
}

/** Nothing sticks out of a 320 px wide screen. */
async function fits320(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
}

let appId = "";
let accessToken = "";
let enrollmentCode = "";
let serial = "";

beforeAll(async () => {
  lab = startLab("journey-");
  ({ work, state, password } = lab);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  lab?.stop();
});

describe("the RA journey in Chromium (lab up)", () => {
  it("applies in Lao at 320 px: a refused submit puts each error beside its field in Lao and keeps what was typed", async () => {
    const page = await context();
    await page.goto(`${applicant()}/?lang=lo`);
    expect(await page.locator("html").getAttribute("lang")).toBe("lo");
    // Lao text is drawn with a Lao font (fonts-lao / fonts-noto-core).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument");
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "h1" });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    expect(fonts.map((f) => f.familyName).join(",")).toMatch(/Lao|Phetsarath/);
    await screenshot(page, "journey-01-home-lo");
    await fits320(page);
    await page.click('a[href="/apply/ex-officio-signing"]');
    await fits320(page);
    await page.fill("#f-holderName", "ທ້າວ ສົມຊາຍ ພົມມະວົງ");
    // The limits of the declaration the API checks (environments/cp.ts) are the form's.
    expect(await page.locator("#f-position").getAttribute("maxlength")).toBe("64");
    expect(await page.locator("#f-position").getAttribute("required")).toBe("");
    await page.fill("#f-position", "ຫົວໜ້າກົມ");
    await page.fill("#f-email", "somchai@mtc");
    await page.fill("#f-ministry", "ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ");
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator("#e-email").textContent()).toBe("ຄ່າບໍ່ຖືກຕາມຮູບແບບທີ່ກຳນົດ.");
    expect(await page.locator("#e-appointmentReference").textContent()).toBe("ຊ່ອງນີ້ຈຳເປັນຕ້ອງໃສ່.");
    expect(await page.locator("#e-holderName").isHidden()).toBe(true);
    expect(await page.inputValue("#f-holderName")).toBe("ທ້າວ ສົມຊາຍ ພົມມະວົງ");
    expect(await page.inputValue("#f-ministry")).toBe("ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ");
    expect(await page.inputValue("#f-position")).toBe("ຫົວໜ້າກົມ");
    expect(await page.locator("#f-email").getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "journey-02-apply-errors-lo");
    await fits320(page);
    await page.fill("#f-email", "somchai@mtc.gov.la");
    await page.fill("#f-appointmentReference", "123/ກຕສ");
    await page.click("button[type=submit]");
    appId = (await page.locator("[data-application-id]").textContent())!.trim();
    accessToken = (await page.locator("[data-access-token]").textContent())!.trim();
    expect(appId).toMatch(/^[0-9a-f-]{36}$/);
    await screenshot(page, "journey-03-submitted-lo");
    await page.goto(`${applicant()}/status?id=${appId}&token=${encodeURIComponent(accessToken)}`);
    expect(await page.locator("[data-state]").getAttribute("data-state")).toBe("submitted");
  }, 120_000);

  it("the console refuses a browser without a client certificate, and the applicant exposure has no console", async () => {
    const page = await context();
    const r = await page.goto(`${consoleUrl()}/console?lang=en`);
    expect(r!.status()).toBe(403);
    expect(await page.locator(".status.error").textContent()).toBe("A client certificate issued to a trusted role is required for the operator console.");
    await screenshot(page, "journey-04-console-no-certificate");
    expect((await page.goto(`${applicant()}/console`))!.status()).toBe(404);
  }, 60_000);

  it("the officer reviews and accepts; the same person cannot approve (the page says why); another approver approves", async () => {
    const officer = await context(0);
    await officer.goto(`${consoleUrl()}/console?lang=lo`);
    await officer.click(`tr[data-application="${appId}"] a`);
    await officer.click('button[data-action="start-review"]');
    await officer.click('button[data-action="accept"]');
    expect(await officer.locator("[data-state]").getAttribute("data-state")).toBe("accepted");
    await screenshot(officer, "journey-05-officer-accepted");
    await fits320(officer);

    const same = await context(1); // the officer's approver certificate: the same person
    await same.goto(`${consoleUrl()}/console/applications/${appId}?lang=en`);
    await same.click('button[data-action="approve"]');
    expect(await same.locator(".flash.bad").textContent()).toContain("You accepted this application as its vetting officer: another vetting approver must approve it (separation of duties).");
    expect(await same.locator("[data-state]").getAttribute("data-state")).toBe("accepted");
    await screenshot(same, "journey-06-four-eyes-refused");

    const approver = await context(2);
    await approver.goto(`${consoleUrl()}/console/applications/${appId}?lang=lo`);
    await approver.click('button[data-action="approve"]');
    enrollmentCode = (await approver.locator("[data-enrollment-code]").textContent())!.trim();
    expect(enrollmentCode.length).toBeGreaterThan(8);
    await screenshot(approver, "journey-07-approved-code");
  }, 120_000);

  it("the holder enrolls: key and PKCS#12 made in the browser; openssl opens it and verifies the chain", async () => {
    const page = await context();
    const sent: string[] = [];
    page.on("request", (r) => {
      const d = r.postData();
      if (d) sent.push(d);
    });
    await page.goto(`${applicant()}/enroll?lang=lo`);
    await page.fill("#code", enrollmentCode);
    await page.fill("#p12Password", "ລະຫັດ-ລັບ-2026");
    await page.fill("#p12Confirm", "ລະຫັດ-ລັບ-2026");
    await page.click("form[data-enroll] button[type=submit]");
    await page.locator("[data-enroll-download]").waitFor({ state: "visible", timeout: 60_000 });
    await screenshot(page, "journey-08-enrolled");
    await fits320(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-enroll-download]")]);
    const p12 = join(work, "holder.p12");
    await download.saveAs(p12);
    const opened = openssl(["pkcs12", "-in", p12, "-passin", "pass:ລະຫັດ-ລັບ-2026", "-nodes", "-out", join(work, "holder.pem")]);
    expect(opened.status, opened.stderr).toBe(0);
    const pem = readFileSync(join(work, "holder.pem"), "utf8");
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
    openssl(["pkcs12", "-in", p12, "-passin", "pass:ລະຫັດ-ລັບ-2026", "-clcerts", "-nokeys", "-out", join(work, "leaf.pem")]);
    expect(openssl(["verify", "-CAfile", state.files.rootCert, "-untrusted", state.files.issuingCaCert, join(work, "leaf.pem")]).stdout.trim()).toBe(`${join(work, "leaf.pem")}: OK`);
    expect(openssl(["x509", "-in", join(work, "leaf.pem"), "-noout", "-subject", "-nameopt", "utf8,sep_comma_plus"]).stdout).toContain("CN=ທ້າວ ສົມຊາຍ ພົມມະວົງ");
    serial = openssl(["x509", "-in", join(work, "leaf.pem"), "-noout", "-serial"])
      .stdout.trim()
      .replace(/^serial=/, "")
      .toLowerCase();
    // Only the CSR left the browser: never the key.
    const key = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END/.exec(pem)![1].replace(/\s+/g, "");
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    for (const s of sent) expect(form(s)).not.toContain(key.slice(16, 56));
    expect(sent.some((s) => form(s).includes("BEGIN CERTIFICATE REQUEST"))).toBe(true);
  }, 120_000);

  it("the RA operator revokes; OCSP says revoked", async () => {
    const op = await context(4);
    await op.goto(`${consoleUrl()}/console/applications/${appId}?lang=en`);
    await op.selectOption("#r-revoke", "keyCompromise");
    await op.click('button[data-action="revoke"]');
    expect(await op.locator("[data-state]").getAttribute("data-state")).toBe("revoked");
    await screenshot(op, "journey-09-revoked");
    let out = "";
    for (let i = 0; i < 60 && !out.includes(": revoked"); i++) {
      const r = openssl(["ocsp", "-timeout", "10", "-url", `http://127.0.0.1:${state.ports.ocsp}`, "-issuer", state.files.issuingCaCert, "-CAfile", state.files.rootCert, "-cert", join(work, "leaf.pem")]);
      out = r.stdout + r.stderr;
      if (!out.includes(": revoked")) await new Promise((s) => setTimeout(s, 500));
    }
    expect(out).toContain(`${join(work, "leaf.pem")}: revoked`);
    expect(out).toContain("Response verify OK");
    expect(serial).toMatch(/^[0-9a-f]+$/);
  }, 120_000);
});
