/**
 * `lanic-ca ceremony …`: the key-ceremony commands, registered on a commander program (the
 * lanic-ca CLI, or the stand-alone scripts/ceremony/main.ts carried into the offline enclave).
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { loadEnvironment } from "../../environments/index.js";
import { renderCrossCertificateFile } from "./render.js";
import { verifyTranscript } from "./transcript.js";
import { CEREMONY_TYPES } from "./types.js";

function collect(value: string, previous: { role: string; name: string }[]): { role: string; name: string }[] {
  const i = value.indexOf(":");
  if (i <= 0 || i === value.length - 1) throw new Error(`--participant '${value}': expected <role>:<name>, e.g. ia-operator:Somchai`);
  return [...previous, { role: value.slice(0, i), name: value.slice(i + 1) }];
}

function fail(err: unknown): void {
  process.stderr.write(`${pc.red("error:")} ${(err as Error).message}\n`);
  process.exitCode = 1;
}

export function registerCeremonyCommands(program: Command): void {
  const ceremony = program
    .command("ceremony")
    .description(`run a key ceremony described by a YAML file (types: ${CEREMONY_TYPES.join(", ")}); ` + "shares and PINs are typed at the prompt, never passed as arguments")
    .argument("<file>", "ceremony file (e.g. cdktf.out/ceremonies/production/02-root-key.yaml)")
    .option("--participant <role:name>", "someone present besides the custodians, recorded in the transcript (repeatable)", collect, [])
    .option("--json", "print the result (outputs, transcript, last hash) as JSON on stdout")
    .action(async (file: string, opts: { participant: { role: string; name: string }[]; json?: boolean }) => {
      try {
        // The ceremony runtime (HSM, zx, X.509) loads when a ceremony runs (ADR 0056: ≥ 10 % of synth).
        const { runCeremony } = await import("./run.js");
        const r = await runCeremony({ file, participants: opts.participant });
        if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      } catch (err) {
        fail(err);
      }
    });

  ceremony
    .command("split")
    .description("split the offline HSM's activation secret among the custodians (mode initialise), or re-share it to a new set of custodians without changing the PIN or the keys (mode reshare)")
    .argument("<file>", "a quorum-split ceremony file")
    .option("--participant <role:name>", "someone present besides the custodians (repeatable)", collect, [])
    .option("--json", "print the result as JSON on stdout")
    .action(async (file: string, _o: unknown, cmd: Command) => {
      // The parent `ceremony` has the same options: commander may file them there.
      const opts = cmd.optsWithGlobals() as { participant: { role: string; name: string }[]; json?: boolean };
      try {
        const { runCeremony } = await import("./run.js");
        const r = await runCeremony({ file, participants: opts.participant, expectType: "quorum-split" });
        if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      } catch (err) {
        fail(err);
      }
    });

  ceremony
    .command("template")
    .description("make an event-driven ceremony file that synth does not render, from an environment (type: cross-certificate, for a root rollover or the switch from the external root)")
    .argument("<type>", "cross-certificate")
    .requiredOption("--environment <name>", "the environment whose offline root signs (environments/<name>.ts)")
    .requiredOption("--subject-certificate <file>", "the existing certificate to cross-certify, relative to the ceremony directory")
    .requiredOption("--subject-kind <kind>", "root (rollover) or issuing-ca (switch from the external root)")
    .requiredOption("--name <name>", "short name of the outputs: cross-<name>.yaml, cross-<name>.crt.pem")
    .option("--validity-days <days>", "validity of the cross-certificate (default: the root's intermediateValidityDays)")
    .option("--out <dir>", "write cross-<name>.yaml into this directory (never overwriting) instead of printing it")
    .action(async (type: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals() as { environment: string; subjectCertificate: string; subjectKind: string; name: string; validityDays?: string; out?: string };
      try {
        if (type !== "cross-certificate") throw new Error(`no template for '${type}'; templates: cross-certificate`);
        if (opts.subjectKind !== "root" && opts.subjectKind !== "issuing-ca") throw new Error(`--subject-kind '${opts.subjectKind}': expected root or issuing-ca`);
        const days = opts.validityDays === undefined ? undefined : Number(opts.validityDays);
        if (days !== undefined && !(Number.isInteger(days) && days > 0)) throw new Error(`--validity-days '${opts.validityDays}': expected a positive whole number of days`);
        const f = renderCrossCertificateFile(loadEnvironment(opts.environment), {
          subjectKind: opts.subjectKind,
          subjectCertificate: opts.subjectCertificate,
          name: opts.name,
          validityDays: days,
        });
        if (!opts.out) process.stdout.write(f.content);
        else {
          writeFileSync(join(opts.out, f.path), f.content, { flag: "wx" });
          process.stderr.write(`${pc.green("wrote")} ${join(opts.out, f.path)}\n`);
        }
      } catch (err) {
        fail(err);
      }
    });

  ceremony
    .command("verify-transcript")
    .description("check a ceremony transcript's hash chain (and its Markdown rendering): any edit is reported")
    .argument("<transcript.json>", "the JSON transcript")
    .option("--markdown <file>", "the Markdown transcript (default: the .md next to the JSON, if present)")
    .option("--head <sha256>", "the last hash written in the paper ceremony log")
    .option("--json", "print the result as JSON on stdout")
    .action(async (json: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals() as { markdown?: string; head?: string; json?: boolean };
      const md = opts.markdown ?? (json.endsWith(".json") && existsSync(json.replace(/\.json$/, ".md")) ? json.replace(/\.json$/, ".md") : undefined);
      const r = verifyTranscript(json, { markdownPath: md, head: opts.head });
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.ok) process.stdout.write(`${pc.green("ok")}: ${r.entries} entries, result ${r.status}, last hash ${r.head}\n`);
      else process.stdout.write(`${pc.red("TAMPERED or incomplete")}:\n${r.problems.map((p) => `  - ${p}`).join("\n")}\n`);
      if (!r.ok) process.exitCode = 1;
    });
}
