/**
 * The ceremony shell (after Boulder's cmd/ceremony): parse the file strictly, check that every
 * input exists and that every output and transcript is new and inside the ceremony folder, take
 * the transcript files, rebuild the activation secret from the custodians' shares (or take the
 * partition PIN), then run the function of the file's type (ceremonies/<type>.ts) with the
 * shared steps (context.ts: lint → sign → verify → record, outputs written with flag wx, OpenSSL
 * through zx with arguments only through `${}`), close the HSM and finish the transcript.
 * Every step is shown on screen and recorded in the transcript.
 */
import { accessSync, constants, existsSync, openSync, readFileSync, renameSync, writeSync, closeSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import { fromPem, parseCsr, CsrError, sha256Hex, spkiSha256 } from "@lanic-ca/pki-services/pki/index";
import { $ } from "zx";
import pc from "picocolors";
import { CEREMONIES, type CeremonyFunction } from "./ceremonies/index.js";
import { CeremonyError, signStep, type CeremonyContext } from "./context.js";
import { openToken } from "./hsm.js";
import { keyAlgorithmOf } from "./lint.js";
import { Prompter, type PromptStreams } from "./prompt.js";
import { collectShares, loadRegister, secretToPin } from "./quorum.js";
import { CeremonyFileError, isOffline, loadCeremonyFile, type CeremonyFile } from "./schema.js";
import { Transcript, verifyTranscript, type TranscriptDocument } from "./transcript.js";

export { CeremonyError };

const DAY = 86_400_000;

export interface RunOptions {
  /** The ceremony YAML file. */
  readonly file: string;
  /** Where shares and PINs are typed. @default process.stdin */
  readonly input?: PromptStreams["input"];
  /** The custodians' screen. @default process.stderr */
  readonly output?: NodeJS.WritableStream;
  /** People present besides the custodians (recorded in the transcript), e.g. "ia-operator:Name". */
  readonly participants?: readonly { role: string; name: string }[];
  /** Restrict to one type (the `ceremony split` subcommand accepts only quorum-split). */
  readonly expectType?: CeremonyFile["type"];
  readonly now?: () => Date;
}

export interface RunResult {
  readonly type: CeremonyFile["type"];
  readonly status: "succeeded";
  readonly transcript: { json: string; md: string };
  /** Hash of the transcript's last entry (write it in the paper log). */
  readonly head: string;
  /** Output name → absolute path. */
  readonly outputs: Record<string, string>;
  /** SPKI SHA-256 of the key generated or used. */
  readonly spkiSha256?: string;
  /** Where the transcript (and outputs) of an earlier failed attempt were moved. */
  readonly previousAttempt?: { json: string; md: string };
}

/** Writes `data` to a new file; refuses an existing one (open flag wx). */
export function writeExclusive(path: string, data: string | Uint8Array, mode = 0o644): void {
  const fd = openSync(path, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
  } finally {
    closeSync(fd);
  }
}

const truncSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

/**
 * A failed attempt's transcript must not block the retry forever: when `<base>.json` is the
 * intact transcript of a FAILED run, it and its Markdown are renamed `<base>.failed-<time>.*`
 * (kept as evidence), with the outputs that run recorded (same SHA-256). A succeeded, tampered
 * or foreign transcript still refuses the run. Returns the new names, or undefined.
 */
function setAsideFailedAttempt(file: string, base: string, outputs: Record<string, string>): { json: string; md: string } | undefined {
  const json = `${base}.json`;
  const md = `${base}.md`;
  if (!existsSync(json)) return undefined;
  const v = verifyTranscript(json, { markdownPath: existsSync(md) ? md : undefined });
  if (!v.ok || v.status !== "failed") return undefined;
  const doc = JSON.parse(readFileSync(json, "utf8")) as TranscriptDocument;
  const at = doc.entries
    .at(-1)!
    .at.replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const moved = { json: `${base}.failed-${at}.json`, md: `${base}.failed-${at}.md` };
  for (const p of [moved.json, moved.md]) if (existsSync(p)) throw new CeremonyFileError(file, [{ path: "outputs.transcript", message: `${p} already exists; cannot set the failed attempt aside` }]);
  const written = new Map(doc.entries.filter((e) => e.kind === "output").map((e) => [String(e.data.path), String(e.data.sha256)]));
  for (const p of Object.values(outputs)) {
    if (existsSync(p) && written.get(p) === sha256Hex(readFileSync(p))) renameSync(p, p.replace(/(\.[^./]+)?$/, `.failed-${at}$1`));
  }
  renameSync(json, moved.json);
  if (existsSync(md)) renameSync(md, moved.md);
  return moved;
}

export async function runCeremony(options: RunOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const output = options.output ?? process.stderr;
  const file = options.file;
  const say = (text: string) => output.write(`${text}\n`);

  // 1. The file, strictly. Nothing else happens if it is wrong.
  const c = loadCeremonyFile(file);
  if (options.expectType && c.type !== options.expectType) throw new CeremonyFileError(file, [{ path: "type", message: `'${c.type}' cannot be run by this command; expected '${options.expectType}'` }]);
  const dir = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));

  // 2. Inputs readable; outputs and transcript new and inside the ceremony folder — before any
  //    HSM is touched.
  const inputs: Record<string, string> = {};
  const addIn = (k: string, p: string | undefined) => p && (inputs[k] = abs(p));
  if ("inputs" in c) for (const [k, v] of Object.entries(c.inputs)) addIn(`inputs.${k}`, v as string | undefined);
  if (isOffline(c) && !(c.type === "quorum-split" && c.mode === "initialise")) {
    addIn("quorum.register", c.type === "quorum-split" ? c.previousRegister : c.quorum.register);
  }
  for (const [k, p] of Object.entries(inputs)) {
    try {
      accessSync(p, constants.R_OK);
    } catch {
      throw new CeremonyFileError(file, [{ path: k, message: `input ${p} does not exist or is not readable` }]);
    }
  }
  const outputs: Record<string, string> = {};
  const outputField: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.outputs)) if (k !== "transcript") [outputs[k], outputField[k]] = [abs(v), `outputs.${k}`];
  if (c.type === "quorum-split") [outputs.register, outputField.register] = [abs(c.quorum.register), "quorum.register"];
  const transcriptBase = abs(c.outputs.transcript);
  const written: [string, string, string][] = [
    ...Object.entries(outputs).map(([k, p]): [string, string, string] => [outputField[k], p, k === "register" ? (c as { quorum: { register: string } }).quorum.register : (c.outputs as Record<string, string>)[k]]),
    ["outputs.transcript", transcriptBase, c.outputs.transcript],
  ];
  const outside = written.filter(([, p]) => {
    const r = relative(dir, p);
    return r === "" || r.startsWith("..") || isAbsolute(r);
  });
  if (outside.length)
    throw new CeremonyFileError(
      file,
      outside.map(([k, , v]) => ({ path: k, message: `'${v}' is outside the ceremony folder ${dir}; outputs and transcripts are written inside it (a relative path without '..')` })),
    );
  const previousAttempt = setAsideFailedAttempt(file, transcriptBase, outputs);
  const claims = [...written.filter(([k]) => k !== "outputs.transcript").map(([k, p]) => [k, p]), ["outputs.transcript", `${transcriptBase}.json`], ["outputs.transcript", `${transcriptBase}.md`]];
  for (const [k, p] of claims) if (existsSync(p)) throw new CeremonyFileError(file, [{ path: k, message: `${p} already exists; a ceremony never overwrites a file (outputs are created with flag wx)` }]);

  // 3. The transcript.
  const t = new Transcript({ output, now });
  t.claim(transcriptBase);
  const prompter = new Prompter({ input: options.input ?? process.stdin, output });
  let token: Pkcs11Token | undefined;
  say(pc.bold(`\nCeremony ${c.type} — environment ${c.environment}`));
  say(pc.dim(c.description));
  t.add("begin", `${c.type} ceremony for ${c.environment}`, {
    type: c.type,
    environment: c.environment,
    description: c.description,
    file: resolve(file),
    fileSha256: sha256Hex(readFileSync(file)),
    hsm: c.hsm,
    tool: "lanic-ca ceremony",
    node: process.version,
  });
  if (previousAttempt) t.add("input", `previous failed attempt, set aside: ${previousAttempt.json}`, { name: "previousAttempt", path: previousAttempt.json, sha256: sha256Hex(readFileSync(previousAttempt.json)) });
  for (const p of options.participants ?? []) t.add("participant", `${p.name} (${p.role})`, { role: p.role, name: p.name });

  let signingTime = truncSeconds(now());
  const show = async (path: string, kind: "x509" | "crl" | "req") => {
    const r = await $({ quiet: true, nothrow: true })`openssl ${kind} -in ${path} -noout -subject -issuer ${kind === "req" ? "-verify" : kind === "crl" ? "-lastupdate" : "-dates"}`;
    say(pc.dim(r.stdout.trim().replace(/^/gm, "    ")));
  };
  const x: CeremonyContext = {
    file: c,
    path: resolve(file),
    inputs,
    outputs,
    transcript: t,
    prompter,
    now,
    say,
    abs,
    pin: undefined,
    get signingTime() {
      return signingTime;
    },
    openHsm: async () => {
      token = await t.step(`Opening HSM token "${c.hsm.tokenLabel}"`, () => openToken(c.hsm, x.pin!));
      return token;
    },
    closeHsm: () => {
      token?.close();
      token = undefined;
    },
    signerFor: async (tok, label, algorithm) => {
      const s = await t.step(`Finding key "${label}" (${algorithm})`, () => tok.signer(label, algorithm));
      t.add("key", `key ${label}: SPKI SHA-256 ${spkiSha256(s.spki)}`, { label, algorithm, token: c.hsm.tokenLabel, spkiSha256: spkiSha256(s.spki) });
      say(`    SPKI SHA-256 ${pc.bold(spkiSha256(s.spki))}`);
      x.spkiSha256 = spkiSha256(s.spki);
      return s;
    },
    subjectKey: (inp, expectedSubject, expectedAlg) =>
      t.step("Reading the subject's key", () => {
        let spki: Buffer;
        if (inp.csr) {
          const path = abs(inp.csr);
          let csr: ReturnType<typeof parseCsr>;
          try {
            csr = parseCsr(fromPem(readFileSync(path), "CERTIFICATE REQUEST", path));
          } catch (err) {
            if (err instanceof CsrError) throw new CeremonyError(`the CSR ${path} is refused: ${err.message}`);
            throw err;
          }
          const subject = Object.fromEntries(csr.subject.map((a) => [a.type ?? a.oid, a.value]));
          if (expectedSubject && !sameSubjectValues(subject, expectedSubject)) throw new CeremonyError(`the CSR's subject ${JSON.stringify(subject)} differs from the ceremony file's ${JSON.stringify(expectedSubject)}`);
          spki = csr.spki;
        } else spki = fromPem(readFileSync(abs(inp.publicKey!)), "PUBLIC KEY", abs(inp.publicKey!));
        const alg = keyAlgorithmOf(spki);
        if (alg !== expectedAlg) throw new CeremonyError(`the subject key is ${alg}, but the ceremony file says ${expectedAlg}`);
        t.add("key", `subject key: SPKI SHA-256 ${spkiSha256(spki)}`, { algorithm: alg, spkiSha256: spkiSha256(spki) });
        say(`    subject SPKI SHA-256 ${pc.bold(spkiSha256(spki))}`);
        return spki;
      }),
    // The signing time is "now"; for an explicit notBefore the lint window is checked against now.
    notBeforeOf: (v) => (v === "signing-time" ? (signingTime = truncSeconds(now())) : new Date(v)),
    validity: (nb, days) => new Date(nb.getTime() + days * DAY - 1000),
    sign: (r) => signStep(t, r),
    writeOut: async (name, data, kind) => {
      const p = outputs[name];
      writeExclusive(p, data);
      t.add("output", `${name}: ${p}`, { name, path: p, sha256: sha256Hex(readFileSync(p)) });
      say(`    ${pc.green("wrote")} ${p}`);
      if (kind) await show(p, kind);
    },
    opensslVerify: (cafile, certPath) =>
      t.step(`OpenSSL verifies the chain`, async () => {
        const r = await $({ quiet: true, nothrow: true })`openssl verify -x509_strict -CAfile ${cafile} ${certPath}`;
        t.add("check", "openssl verify", { command: ["openssl", "verify", "-x509_strict", "-CAfile", cafile, certPath], exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() });
        if (r.exitCode !== 0) throw new CeremonyError(`openssl verify failed: ${(r.stdout + r.stderr).trim()}`);
      }),
    opensslVerifyCrl: (cafile, crlPath) =>
      t.step("OpenSSL verifies the CRL signature", async () => {
        const r = await $({ quiet: true, nothrow: true })`openssl crl -in ${crlPath} -CAfile ${cafile} -noout`;
        t.add("check", "openssl crl -CAfile", { exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() });
        if (r.exitCode !== 0 || !/verify OK/.test(r.stderr + r.stdout)) throw new CeremonyError(`openssl crl failed: ${(r.stdout + r.stderr).trim()}`);
      }),
  };

  try {
    for (const [k, p] of Object.entries(inputs)) t.add("input", `${k}: ${p}`, { name: k, path: p, sha256: sha256Hex(readFileSync(p)) });

    // 4. Quorum (offline) or partition PIN (online); quorum-split gathers its own secret.
    if (isOffline(c) && c.type !== "quorum-split") {
      const regPath = inputs["quorum.register"];
      const register = await t.step(`Reading the share register (${c.quorum.threshold} of ${c.quorum.custodians.length} custodians)`, () =>
        loadRegister(regPath, { environment: c.environment, tokenLabel: c.hsm.tokenLabel, quorum: c.quorum }),
      );
      const { secret } = await t.step(`Collecting ${register.threshold} custodians' shares`, () => collectShares(prompter, register, regPath, t));
      x.pin = secretToPin(secret);
      secret.fill(0);
    } else if (!isOffline(c)) {
      x.pin = await prompter.secret(`PIN of HSM token "${c.hsm.tokenLabel}" (typing is hidden): `);
      if (!x.pin) throw new CeremonyError("no PIN entered");
    }

    // 5. The ceremony of this type.
    await (CEREMONIES[c.type] as CeremonyFunction<CeremonyFile["type"]>)(x);

    x.closeHsm();
    const head = t.finish("succeeded", { outputs });
    say(`\n${pc.green(pc.bold("Ceremony succeeded."))} Transcript ${t.files!.md}`);
    say(`Last transcript hash (write it in the paper log): ${pc.bold(head)}\n`);
    return { type: c.type, status: "succeeded", transcript: t.files!, head, outputs, spkiSha256: x.spkiSha256, ...(previousAttempt ? { previousAttempt } : {}) };
  } catch (err) {
    x.closeHsm();
    const head = t.finish("failed", { error: (err as Error).message });
    say(`\n${pc.red(pc.bold("Ceremony failed:"))} ${(err as Error).message}`);
    say(`Transcript ${t.files!.md}, last hash ${head}\n`);
    throw err;
  } finally {
    prompter.close();
  }
}

/** A CSR's subject (short name → value) equals the ceremony file's, attribute for attribute. */
function sameSubjectValues(v: Record<string, string>, s: Record<string, string | undefined>): boolean {
  const want = Object.entries(s).filter(([, x]) => x !== undefined);
  return want.length === Object.keys(v).length && want.every(([k, x]) => v[k] === x);
}
