import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type LabState, type LabUnderTest, launchChromium, screenshot, startLab } from "./chromium.js";

let lab: LabUnderTest | undefined;
let work: string;
let state: LabState;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleUrl = () => `https://127.0.0.1:${state.ports.raConsole}`;

// One marker per run, so a reused lab never sees this file before (the RA recognises files by SHA-256).
const run = randomUUID().slice(0, 8);
const good = [
  { row: 2, holderName: "ທ້າວ ບຸນມີ ສີສະຫວັດ", position: "ຮອງຫົວໜ້າກົມ", ministry: "ກະຊວງເຕັກໂນໂລຊີ ແລະ ການສື່ສານ", email: "bounmy@mtc.gov.la", appointmentReference: `${run}-001/ກຕສ` },
  { row: 4, holderName: "Vongsa, Khamla", position: "Director", ministry: "Ministry of Finance", email: "khamla@mof.gov.la", appointmentReference: `${run}-003/MOF` },
  { row: 8, holderName: "ນາງ ມະນີວັນ ແກ້ວມະນີ", position: "ຫົວໜ້າພະແນກ", ministry: "ກະຊວງສາທາລະນະສຸກ", email: "", appointmentReference: `${run}-007/ກສທ` },
];
const csv = `${[
  "holderName,position,ministry,email,appointmentReference",
  `${good[0].holderName},${good[0].position},${good[0].ministry},${good[0].email},${good[0].appointmentReference}`,
  `ທ້າວ ສົມພອນ,ຫົວໜ້າກົມ,ກະຊວງພາຍໃນ,not-a-mailbox,${run}-002`, // row 3: email
  `"${good[1].holderName}",${good[1].position},${good[1].ministry},${good[1].email},${good[1].appointmentReference}`,
  `,ຫົວໜ້າກົມ,ກະຊວງພາຍໃນ,x@moha.gov.la,${run}-004`, // row 5: holderName missing
  `ນາງ ແສງດາວ,${"ຕຳແໜ່ງ".repeat(12)},ກະຊວງພາຍໃນ,,${run}-005`, // row 6: position over 64 characters
  `ທ້າວ ຄຳ,ຫົວໜ້າ,ກະຊວງ,,${run}-006,extra`, // row 7: one cell too many
  `${good[2].holderName},${good[2].position},${good[2].ministry},,${good[2].appointmentReference}`,
].join("\r\n")}\r\n`;

interface ListedApplication {
  id: string;
  state: string;
  fields: Record<string, string>;
}

async function batchApplications(batch: string): Promise<ListedApplication[]> {
  const r = await context.request.get(`${consoleUrl()}/api/v1/applications?batch=${batch}&limit=1000`);
  expect(r.status(), await r.text()).toBe(200);
  return ((await r.json()) as { applications: ListedApplication[] }).applications;
}

/** Every application of this run, in any batch: nothing may be created twice. */
async function runApplications(): Promise<ListedApplication[]> {
  const r = await context.request.get(`${consoleUrl()}/api/v1/applications?kind=ex-officio-signing&limit=1000`);
  expect(r.status(), await r.text()).toBe(200);
  return ((await r.json()) as { applications: ListedApplication[] }).applications.filter((a) => a.fields.appointmentReference?.startsWith(run));
}

beforeAll(async () => {
  lab = startLab("bulk-");
  ({ work, state } = lab);
  const password = lab.password;
  const op = state.operators.find((o) => o.role === "ra-operator");
  expect(op, "the lab makes an ra-operator certificate").toBeDefined();
  browser = await launchChromium();
  context = await browser.newContext({
    ignoreHTTPSErrors: true, // the lab's TLS CA is not in Chromium's store
    viewport: { width: 320, height: 640 },
    clientCertificates: [{ origin: consoleUrl(), pfxPath: op!.p12, passphrase: password }],
  });
  page = await context.newPage();
  writeFileSync(join(work, "officials.csv"), `\ufeff${csv}`); // as spreadsheets save "CSV UTF-8"
}, 600_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  lab?.stop();
});

async function dryRun(lang: "en" | "lo"): Promise<void> {
  await page.goto(`${consoleUrl()}/console?lang=${lang}`);
  await page.click("a[data-bulk-link]");
  await page.selectOption("#b-kind", "ex-officio-signing");
  await page.setInputFiles("#b-file", join(work, "officials.csv"));
  await page.click('button[data-action="dry-run"]');
  await page.locator("[data-bulk-report]").waitFor();
}

describe("bulk CSV upload in the operator console (Chromium, lab up)", () => {
  it("the dry run shows each bad row's row, column and what is wrong, and stores nothing", async () => {
    await dryRun("en");
    const report = page.locator("[data-bulk-report]");
    expect(await report.getAttribute("data-dry-run")).toBe("true");
    expect(await report.getAttribute("data-batch")).toBeNull();
    expect(await page.locator("[data-rows]").textContent()).toBe("7");
    expect(await page.locator("[data-accepted]").textContent()).toBe("3");
    expect(await page.locator("[data-rejected]").textContent()).toBe("4");
    const rows = await page
      .locator("table[data-problems] tbody tr")
      .evaluateAll((trs) => trs.map((tr) => ({ row: tr.getAttribute("data-row"), column: tr.getAttribute("data-column"), cells: [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim()) })));
    expect(rows.map((r) => [r.row, r.column])).toEqual([
      ["3", "email"],
      ["5", "holderName"],
      ["6", "position"],
      ["7", null],
    ]);
    expect(rows[0].cells[1]).toBe("D · Official email");
    expect(rows[0].cells[2]).toContain("does not match the required form");
    expect(rows[1].cells[1]).toBe("A · Name of the position holder");
    expect(rows[1].cells[2]).toContain("is required");
    expect(rows[2].cells[1]).toBe("B · Position");
    expect(rows[2].cells[2]).toContain("has 72 characters, more than 64");
    expect(rows[3].cells[2]).toMatch(/has 6 cells, the header has 5/);
    await screenshot(page, "bulk-01-dry-run-en");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    expect(await runApplications()).toEqual([]);
  }, 120_000);

  it("in Lao, the same rows with the page's words and the column's Lao name", async () => {
    await dryRun("lo");
    const row5 = page.locator('tr[data-row="5"] td');
    expect(await row5.nth(1).textContent()).toBe("A · ຊື່ ແລະ ນາມສະກຸນ ຜູ້ດຳລົງຕຳແໜ່ງ");
    expect(await row5.nth(2).textContent()).toContain("ຊ່ອງນີ້ຈຳເປັນຕ້ອງໃສ່.");
    await screenshot(page, "bulk-02-dry-run-lo");
    expect(await runApplications()).toEqual([]);
  }, 120_000);

  it("committing keeps exactly the good rows; the same file again creates nothing", async () => {
    await dryRun("en");
    await page.click('button[data-action="commit"]');
    const report = page.locator("[data-bulk-report]");
    await report.waitFor();
    expect(await report.getAttribute("data-dry-run")).toBe("false");
    expect(await report.getAttribute("data-duplicate")).toBe("false");
    const batch = (await report.getAttribute("data-batch"))!;
    expect(batch).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.locator("tr[data-row]").evaluateAll((trs) => trs.map((t) => t.getAttribute("data-row")))).toEqual(["3", "5", "6", "7"]);
    await screenshot(page, "bulk-03-committed");

    const stored = await batchApplications(batch);
    const expected = good.map(({ row: _, email, ...f }) => ({ ...f, ...(email ? { email } : {}), country: "LA" }));
    expect(stored.map((a) => a.fields).sort((a, b) => a.appointmentReference.localeCompare(b.appointmentReference))).toEqual(expected);
    expect(new Set(stored.map((a) => a.state))).toEqual(new Set(["submitted"]));

    // The same file, checked and committed again: recognised, nothing new.
    await dryRun("en");
    await page.click('button[data-action="commit"]');
    await report.waitFor();
    expect(await report.getAttribute("data-duplicate")).toBe("true");
    expect(await report.getAttribute("data-batch")).toBe(batch);
    await screenshot(page, "bulk-04-duplicate");
    const all = await runApplications();
    expect(all).toHaveLength(3);
    expect(all.map((a) => a.id).sort()).toEqual(stored.map((a) => a.id).sort());
  }, 180_000);
});
