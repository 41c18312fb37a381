/**
 * The ceremony commands as an operator meets them, through the real executables (the compiled
 * `lanic-ca` and the stand-alone ceremony entry): every refusal exits 1 with its message, a
 * tampered transcript exits 1, an aborted ceremony does not block its retry (its transcript is
 * kept under another name), and outputs and transcripts stay inside the ceremony folder.
 * Needs `npm run build` (dist/bin/lanic-ca.js).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyTranscript } from "../../scripts/ceremony/transcript.js";
import { CeremonyWorkspace } from "./helpers.js";

const ws = new CeremonyWorkspace();
const PIN = "operator-pin";
const BIN = join(process.cwd(), "dist/bin/lanic-ca.js");
const STANDALONE = join(process.cwd(), "dist/scripts/ceremony/main.js");

beforeAll(() => ws.setUp([{ label: "online", pin: PIN }], "ceremony-operator-"));
afterAll(() => ws.tearDown());

const cli = (main: string, args: string[], input = "") => spawnSync(process.execPath, [main, ...args], { cwd: ws.dir, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

const keyCsr = (label: string, outputs: Record<string, string>) => ({
  type: "issuing-ca-key",
  hsm: { library: ws.library, tokenLabel: "online" },
  key: { label, algorithm: "ECDSA_P256", generate: true },
  csr: { subject: { C: "LA", O: "LANIC", CN: `Operator Test ${label}` } },
  outputs,
});

describe.each([
  ["the compiled lanic-ca", BIN],
  ["the stand-alone ceremony entry", STANDALONE],
])("ceremony exit codes through %s", (_name, main) => {
  it("exits 1 with the message for a refused ceremony file, and 1 for a tampered transcript", () => {
    expect(existsSync(main), "build first: npm run build").toBe(true);
    const tag = main === BIN ? "bin" : "alone";
    ws.write(`${tag}-bad.yaml`, { ...keyCsr(`${tag}-bad`, { publicKey: "x.pub.pem", csr: "x.csr.pem", transcript: "x" }), colour: "blue" });
    const bad = cli(main, ["ceremony", `${tag}-bad.yaml`]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${tag}-bad.yaml`);
    expect(bad.stderr).toContain("colour");

    ws.write(`${tag}-ok.yaml`, keyCsr(`${tag}-ok`, { publicKey: `${tag}-ok.pub.pem`, csr: `${tag}-ok.csr.pem`, transcript: `${tag}-ok` }));
    const ok = cli(main, ["ceremony", `${tag}-ok.yaml`], `${PIN}\n`);
    expect(ok.stderr).toContain("Ceremony succeeded.");
    expect(ok.status).toBe(0);
    expect(cli(main, ["ceremony", "verify-transcript", `${tag}-ok.json`]).status).toBe(0);

    const json = join(ws.dir, `${tag}-ok.json`);
    writeFileSync(json, readFileSync(json, "utf8").replace(`Operator Test ${tag}-ok`, `Operator Test ${tag}-KO`));
    const tampered = cli(main, ["ceremony", "verify-transcript", `${tag}-ok.json`]);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toContain("TAMPERED or incomplete");
    expect(tampered.stdout).toContain("hash mismatch, the entry was edited after it was written");
  });
});

describe("an aborted ceremony and its retry (the compiled lanic-ca)", () => {
  it("keeps the failed transcript under another name and lets the retry run", () => {
    ws.write("retry.yaml", keyCsr("retry", { publicKey: "retry.pub.pem", csr: "retry.csr.pem", transcript: "retry" }));
    const wrong = cli(BIN, ["ceremony", "retry.yaml"], "not-the-pin\n");
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("CKR_PIN_INCORRECT");
    expect(verifyTranscript(join(ws.dir, "retry.json")).status).toBe("failed");

    const again = cli(BIN, ["ceremony", "retry.yaml", "--json"], `${PIN}\n`);
    expect(again.stderr).toContain("Ceremony succeeded.");
    expect(again.status).toBe(0);
    const r = JSON.parse(again.stdout) as { previousAttempt: { json: string; md: string }; transcript: { json: string } };
    expect(r.previousAttempt.json).toMatch(/\/retry\.failed-\d{8}T\d{6}Z\.json$/);
    const kept = verifyTranscript(r.previousAttempt.json, { markdownPath: r.previousAttempt.md });
    expect(kept).toMatchObject({ ok: true, status: "failed" });
    // The retry's transcript names the attempt it set aside.
    const doc = JSON.parse(readFileSync(r.transcript.json, "utf8")) as { entries: { kind: string; data: Record<string, unknown> }[] };
    expect(doc.entries.find((e) => e.data.name === "previousAttempt")?.data.path).toBe(r.previousAttempt.json);
    expect(verifyTranscript(r.transcript.json).ok).toBe(true);
  });

  it("still refuses when the existing transcript is a succeeded one, or was edited", () => {
    ws.write("twice.yaml", keyCsr("twice", { publicKey: "twice.pub.pem", csr: "twice.csr.pem", transcript: "twice" }));
    expect(cli(BIN, ["ceremony", "twice.yaml"], `${PIN}\n`).status).toBe(0);
    const second = cli(BIN, ["ceremony", "twice.yaml"], `${PIN}\n`);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain("already exists; a ceremony never overwrites a file");

    ws.write("edited.yaml", keyCsr("edited", { publicKey: "edited.pub.pem", csr: "edited.csr.pem", transcript: "edited" }));
    expect(cli(BIN, ["ceremony", "edited.yaml"], "wrong\n").status).toBe(1);
    const json = join(ws.dir, "edited.json");
    writeFileSync(json, readFileSync(json, "utf8").replace("CKR_PIN_INCORRECT", "CKR_PIN_LOCKED"));
    const refused = cli(BIN, ["ceremony", "edited.yaml"], `${PIN}\n`);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${json} already exists`);
    expect(readdirSync(ws.dir).filter((f) => f.startsWith("edited.failed-"))).toEqual([]);
  });
});

describe("outputs and transcripts stay inside the ceremony folder", () => {
  it.each([
    ["an output with '..'", { publicKey: "../escape.pub.pem", csr: "in1.csr.pem", transcript: "in1" }, "outputs.publicKey: '../escape.pub.pem' is outside the ceremony folder"],
    ["an absolute output", { publicKey: "in2.pub.pem", csr: "/tmp/escape.csr.pem", transcript: "in2" }, "outputs.csr: '/tmp/escape.csr.pem' is outside the ceremony folder"],
    ["a transcript with '..'", { publicKey: "in3.pub.pem", csr: "in3.csr.pem", transcript: "sub/../../escape" }, "outputs.transcript: 'sub/../../escape' is outside the ceremony folder"],
  ])("refuses %s before anything is written, exit 1", (_what, outputs, message) => {
    const file = ws.write(`out-${outputs.transcript.replace(/\W/g, "")}.yaml`, keyCsr("escape", outputs));
    const r = cli(BIN, ["ceremony", file], `${PIN}\n`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(file);
    for (const p of [join(ws.dir, "..", "escape.pub.pem"), "/tmp/escape.csr.pem", join(ws.dir, "..", "escape.json")]) expect(existsSync(p)).toBe(false);
  });
});
