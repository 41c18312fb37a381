/**
 * /static/enroll.js — the only script of the RA pages (loaded as a module: no inline script, the
 * Content-Security-Policy allows `script-src 'self'`). It runs where the browser must make the
 * key: a form marked `data-enroll` gets a key pair made here (WebCrypto), sends only the CSR with
 * the enrollment code, receives the certificate and its chain, and offers the holder a
 * password-protected PKCS#12 to save. The private key never leaves this page (BR 6.1.2).
 *
 * Texts come from the form's data-msg-* attributes, so the page's language is the script's.
 * Without JavaScript the form still works for holders who bring their own CSR.
 */
import { buildPkcs12, createCsr, generateKeyPair, type BrowserKeyAlgorithm } from "./pkcs.js";

export { buildPkcs12, createCsr, generateKeyPair };

function message(form: HTMLFormElement, key: string, fallback: string): string {
  return form.dataset[`msg${key[0].toUpperCase()}${key.slice(1)}`] ?? fallback;
}

function show(form: HTMLFormElement, text: string, kind: "info" | "error" | "done"): void {
  const box = form.querySelector<HTMLElement>("[data-enroll-status]");
  if (!box) return;
  box.textContent = text;
  box.className = `status ${kind}`;
  box.hidden = false;
  if (kind === "error") box.setAttribute("role", "alert");
}

function fieldError(form: HTMLFormElement, name: string, text: string): void {
  const el = form.querySelector<HTMLElement>(`[data-error-for="${name}"]`);
  if (el) {
    el.textContent = text;
    el.hidden = !text;
  }
  form.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", text ? "true" : "false");
}

async function enroll(form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const password = String(data.get("p12Password") ?? "");
  const confirm = String(data.get("p12Confirm") ?? "");
  fieldError(form, "p12Password", "");
  fieldError(form, "p12Confirm", "");
  if (password.length < 8) return fieldError(form, "p12Password", message(form, "passwordShort", "At least 8 characters."));
  if (password !== confirm) return fieldError(form, "p12Confirm", message(form, "passwordMismatch", "The two passwords differ."));
  const algorithm = (String(data.get("keyAlgorithm") ?? "") || "ECDSA_P256") as BrowserKeyAlgorithm;
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  if (button) button.disabled = true;
  try {
    show(form, message(form, "generating", "Making your key in this browser…"), "info");
    const keys = await generateKeyPair(algorithm);
    const csr = await createCsr(keys, algorithm, String(data.get("label") ?? "applicant"));
    show(form, message(form, "sending", "Sending the request (your private key stays here)…"), "info");
    // Only the CSR, the code and the CSRF token are sent: never the key, never the password.
    const body = new URLSearchParams({ _csrf: String(data.get("_csrf") ?? ""), code: String(data.get("code") ?? ""), csr });
    const res = await fetch(form.action, { method: "POST", headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" }, body, credentials: "same-origin" });
    const json = (await res.json()) as { certificate?: string; chain?: string; name?: string; revocationSecret?: string; errors?: Record<string, string>; message?: string };
    if (!res.ok || !json.certificate) {
      for (const [field, text] of Object.entries(json.errors ?? {})) fieldError(form, field, text);
      show(form, json.message ?? message(form, "failed", "The request was refused."), "error");
      return;
    }
    show(form, message(form, "packaging", "Packaging your key and certificate (PKCS#12)…"), "info");
    const p12 = await buildPkcs12({ privateKey: keys.privateKey, certificate: json.certificate, chain: json.chain ?? "", password, friendlyName: json.name ?? "LANIC CA" });
    const url = URL.createObjectURL(new Blob([p12], { type: "application/x-pkcs12" }));
    const link = form.querySelector<HTMLAnchorElement>("[data-enroll-download]");
    if (link) {
      link.href = url;
      link.download = `${(json.name ?? "certificate").replace(/[^\p{L}\p{N}._-]+/gu, "_")}.p12`;
      link.hidden = false;
    }
    const secretBox = form.querySelector<HTMLElement>("[data-enroll-secret-box]");
    const secretEl = form.querySelector<HTMLElement>("[data-enroll-secret]");
    if (secretBox && secretEl && json.revocationSecret) {
      secretEl.textContent = json.revocationSecret;
      secretBox.hidden = false;
    }
    const pem = form.querySelector<HTMLTextAreaElement>("[data-enroll-certificate]");
    if (pem) {
      pem.value = json.certificate;
      pem.hidden = false;
    }
    show(form, message(form, "done", "Done: save the file and keep the password safe."), "done");
  } catch (err) {
    show(form, `${message(form, "failed", "The request was refused.")} ${(err as Error).message}`, "error");
  } finally {
    if (button) button.disabled = false;
  }
}

if (typeof document !== "undefined") {
  for (const form of document.querySelectorAll<HTMLFormElement>("form[data-enroll]")) {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void enroll(form);
    });
    for (const el of form.querySelectorAll<HTMLElement>("[data-needs-js]")) el.hidden = false;
    for (const el of form.querySelectorAll<HTMLElement>("[data-no-js]")) el.hidden = true;
  }
}
