/**
 * The RA's web pages (ADR 0067): server-rendered (Eta templates, escaped by default) on the RA
 * frontend's Fastify instance, a thin shell over the backend's JSON API (ADR 0060): every form
 * posts here, this calls the API over the frontend's mTLS identity — as the applicant (access
 * token), or as the operator whose verified client certificate it forwards (RFC 9440) — and
 * renders the answer in the page's language. Two exposures (ADR 0068):
 *   - `applicant`: apply, status, enroll, revoke with the delivery secret; never asks for nor
 *     forwards a client certificate (it faces companies through LANIC's edge);
 *   - `operator`: the console; a verified operator client certificate is required on every page.
 * Security headers on every answer: a strict CSP (scripts from 'self' only, no inline script or
 * style), frame-ancestors 'none', CSRF tokens (double-submit cookie) on every POST.
 */
import https from "node:https";
import { dirname, join } from "node:path";
import type { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifyStatic from "@fastify/static";
import { Eta } from "eta";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { clientCertHeader } from "../auth.js";
import type { RaKind } from "../config.js";
import { OPERATOR_REVOCATION_REASONS, SUBSCRIBER_REVOCATION_REASONS } from "../service.js";
import { VETTING_ACTIONS, type VettingActionName } from "../states.js";
import { fieldMessage, LANGS, STATE_NAMES, T, type Lang } from "./i18n.js";

const here = dirname(fileURLToPath(import.meta.url));
/** dist/ra/web/static and dist/ra/web/views, both written by build-static.ts. */
const STATIC_DIR = join(here, "static");
const VIEWS_DIR = join(here, "views");

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface RaPagesOptions {
  readonly exposure: "applicant" | "operator";
  readonly backendUrl: string;
  /** The frontend's client identity towards the backend (ca.crt: the backend's server CA). */
  readonly backendTls: { readonly key: Buffer; readonly cert: Buffer; readonly ca: Buffer };
  /** PEM of the issuing CA and the root, put into the holder's PKCS#12 with the certificate. */
  readonly chainPem: string;
}

interface ApiReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type Form = Record<string, string>;

function parseForm(req: FastifyRequest): Form {
  const b = req.body;
  const text = Buffer.isBuffer(b) ? b.toString("utf8") : typeof b === "string" ? b : "";
  return Object.fromEntries(new URLSearchParams(text));
}

function langOf(req: FastifyRequest, reply: FastifyReply): Lang {
  const q = (req.query as Record<string, string> | undefined)?.lang;
  if (q && (LANGS as readonly string[]).includes(q)) {
    void reply.setCookie("lang", q, { path: "/", sameSite: "strict", httpOnly: true, secure: true, maxAge: 365 * 86400 });
    return q as Lang;
  }
  const c = req.cookies?.lang;
  return c && (LANGS as readonly string[]).includes(c) ? (c as Lang) : "lo";
}

/** The verified client certificate of the TLS peer (operator exposure only). */
function peerCertificate(req: FastifyRequest): Buffer | undefined {
  const sock = req.raw.socket as TLSSocket;
  if (!sock.authorized) return undefined;
  const p = sock.getPeerCertificate?.(false);
  return p?.raw;
}

function peerSummary(req: FastifyRequest): { name: string; roles: string } | undefined {
  const sock = req.raw.socket as TLSSocket;
  const p = sock.authorized ? sock.getPeerCertificate?.(false) : undefined;
  if (!p?.subject) return undefined;
  const ou = p.subject.OU;
  return { name: String(p.subject.CN ?? ""), roles: (Array.isArray(ou) ? ou : ou ? [ou] : []).join(", ") };
}

export async function registerRaPages(app: FastifyInstance, o: RaPagesOptions): Promise<void> {
  const agent = new https.Agent({ key: o.backendTls.key, cert: o.backendTls.cert, ca: o.backendTls.ca, keepAlive: true, maxSockets: 16 });
  app.addHook("onClose", async () => agent.destroy());
  const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true });

  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    cookieOpts: { path: "/", sameSite: "strict", httpOnly: true, secure: true },
    getToken: (req) => {
      const m = (req as { multipart?: FormData }).multipart;
      return m ? String(m.get("_csrf") ?? "") : parseForm(req)._csrf;
    },
  });
  await app.register(fastifyStatic, { root: STATIC_DIR, prefix: "/static/", decorateReply: false, maxAge: 3600_000 });

  app.addHook("onSend", async (_req, reply) => {
    reply.header("content-security-policy", CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    if (!reply.getHeader("cache-control")) reply.header("cache-control", "no-store");
  });

  /** Calls the backend API as this frontend: with the applicant's token, or forwarding the
   *  operator's verified certificate (RFC 9440 Client-Cert, ADR 0060). */
  const api = (method: string, path: string, body: unknown, as: { token?: string; operator?: Buffer } = {}): Promise<ApiReply> =>
    new Promise((resolve, reject) => {
      // A Buffer is a CSV file (the bulk upload), sent as it is; anything else is JSON.
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string> = { accept: "application/json" };
      if (payload) Object.assign(headers, { "content-type": Buffer.isBuffer(body) ? "text/csv; charset=utf-8" : "application/json", "content-length": String(payload.length) });
      if (as.token) headers.authorization = `Bearer ${as.token}`;
      if (as.operator) headers["client-cert"] = clientCertHeader(as.operator);
      const req = https.request(new URL(path, o.backendUrl), { method, agent, headers, timeout: 120_000 }, (res) => {
        let s = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (s += d));
        res.on("end", () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = s ? (JSON.parse(s) as Record<string, unknown>) : {};
          } catch {
            parsed = { error: "bad_backend_reply", messages: [s.slice(0, 200)] };
          }
          resolve({ status: res.statusCode ?? 502, body: parsed });
        });
      });
      req.on("timeout", () => req.destroy(new Error("RA backend timeout")));
      req.on("error", reject);
      req.end(payload);
    });

  let kindsCache: Record<string, RaKind> | undefined;
  const kinds = async (): Promise<Record<string, RaKind>> => {
    if (!kindsCache) {
      const r = await api("GET", "/api/v1/kinds", undefined);
      if (r.status !== 200) throw new Error(`the RA backend did not give the application kinds (${r.status})`);
      kindsCache = r.body as unknown as Record<string, RaKind>;
    }
    return kindsCache;
  };

  const render = (reply: FastifyReply, lang: Lang, view: string, title: string, data: Record<string, unknown>, status = 200, operator?: { name: string; roles: string }) => {
    const html = eta.render(`./${view}`, { ...data, lang, t: T[lang], title, home: o.exposure === "operator" ? "/console" : "/", operator });
    return reply.code(status).type("text/html; charset=utf-8").send(html);
  };
  const messages = (r: ApiReply): string[] => (Array.isArray(r.body.messages) ? (r.body.messages as string[]) : [String(r.body.error ?? r.status)]);

  const fieldsFor = (k: RaKind, lang: Lang, values: Form, errors: Record<string, string>) =>
    Object.entries(k.fields).map(([name, f]) => ({
      name,
      label: f.label[lang],
      required: f.required,
      maxLength: f.maxLength,
      pattern: f.pattern,
      fixed: f.fixed,
      type: /email/i.test(name) ? "email" : "text",
      value: values[name] ?? "",
      error: errors[name],
      hint: f.fixed ? `${T[lang].fixed}: ${f.fixed}` : `${f.required ? `${T[lang].required} · ` : ""}${T[lang].maxChars.replace("{n}", String(f.maxLength))}`,
    }));

  if (o.exposure === "applicant") {
    app.get("/", async (req, reply) => {
      const lang = langOf(req, reply);
      const ks = await kinds();
      return render(reply, lang, "home", T[lang].home, {
        kinds: Object.entries(ks)
          .filter(([n]) => n !== "operator-client")
          .map(([name, k]) => ({ name, label: k.label[lang] })),
      });
    });

    app.get<{ Params: { kind: string } }>("/apply/:kind", async (req, reply) => {
      const lang = langOf(req, reply);
      const k = (await kinds())[req.params.kind];
      if (!k || req.params.kind === "operator-client") return render(reply, lang, "message", T[lang].notFound, { message: T[lang].notFound, bad: true, back: "/" }, 404);
      return render(reply, lang, "apply", k.label[lang], { kind: req.params.kind, fields: fieldsFor(k, lang, {}, {}), csrf: reply.generateCsrf(), errors: {} });
    });

    app.post<{ Params: { kind: string } }>("/apply/:kind", { preHandler: app.csrfProtection }, async (req, reply) => {
      const lang = langOf(req, reply);
      const k = (await kinds())[req.params.kind];
      if (!k || req.params.kind === "operator-client") return render(reply, lang, "message", T[lang].notFound, { message: T[lang].notFound, bad: true, back: "/" }, 404);
      const form = parseForm(req);
      const fields: Record<string, string> = {};
      for (const name of Object.keys(k.fields)) if (form[name] !== undefined && form[name] !== "") fields[name] = form[name];
      const r = await api("POST", "/api/v1/applications", { kind: req.params.kind, fields });
      if (r.status === 201) {
        const a = r.body.application as { id: string; state: string };
        return render(reply, lang, "submitted", T[lang].submitted, { id: a.id, token: r.body.accessToken, state: STATE_NAMES[lang][a.state] ?? a.state }, 201);
      }
      // Every problem next to its field, in this page's language; what was typed is kept.
      const errors: Record<string, string> = {};
      const general: string[] = [];
      for (const m of messages(r)) {
        const f = /^fields\.([A-Za-z0-9]+): (.*)$/.exec(m);
        if (f && k.fields[f[1]]) errors[f[1]] = errors[f[1]] ? `${errors[f[1]]} ${fieldMessage(lang, f[2])}` : fieldMessage(lang, f[2]);
        else general.push(m);
      }
      return render(reply, lang, "apply", k.label[lang], { kind: req.params.kind, fields: fieldsFor(k, lang, form, errors), csrf: reply.generateCsrf(), errors, general: general.join(" ") }, r.status);
    });

    app.get<{ Querystring: { id?: string; token?: string; lang?: string } }>("/status", async (req, reply) => {
      const lang = langOf(req, reply);
      const { id = "", token = "" } = req.query;
      const r = await api("GET", `/api/v1/applications/${encodeURIComponent(id)}`, undefined, { token });
      if (r.status !== 200) return render(reply, lang, "message", T[lang].statusTitle, { message: T[lang].notFound, detail: messages(r).join(" "), bad: true, back: "/" }, r.status);
      const a = r.body as { id: string; kind: string; state: string; fields: Record<string, string> };
      const k = (await kinds())[a.kind];
      return render(reply, lang, "status", T[lang].statusTitle, {
        app: a,
        kindLabel: k?.label[lang] ?? a.kind,
        stateName: STATE_NAMES[lang][a.state] ?? a.state,
        fields: Object.entries(a.fields).map(([n, v]) => ({ label: k?.fields[n]?.label[lang] ?? n, value: v })),
      });
    });

    app.get("/enroll", async (req, reply) => {
      const lang = langOf(req, reply);
      return render(reply, lang, "enroll", T[lang].enrollTitle, { csrf: reply.generateCsrf(), errors: {}, code: "", script: true });
    });

    // The page's script posts only {code, csr}; a holder without JavaScript pastes a CSR.
    app.post("/enroll", { preHandler: app.csrfProtection }, async (req, reply) => {
      const lang = langOf(req, reply);
      const form = parseForm(req);
      const r = await api("POST", "/api/v1/enroll", { code: form.code ?? "", csr: form.csr ?? "" });
      const wantsJson = String(req.headers.accept ?? "").includes("application/json");
      if (r.status !== 200) {
        const text = messages(r).join(" ");
        if (wantsJson) return reply.code(r.status).send({ message: `${T[lang].failed} ${text}`, errors: /code/i.test(String(r.body.error)) ? { code: text } : {} });
        return render(reply, lang, "enroll", T[lang].enrollTitle, { csrf: reply.generateCsrf(), errors: { code: text }, code: form.code ?? "", script: true }, r.status);
      }
      const a = r.body.application as { fields: Record<string, string> };
      const name = Object.values(a.fields)[0] ?? "certificate";
      if (!wantsJson) {
        return render(reply, lang, "message", T[lang].enrollTitle, {
          message: T[lang].done2,
          detail: `${T[lang].revocationSecret}: ${String(r.body.revocationSecret)}`,
          certificate: `${String(r.body.certificate)}${o.chainPem}`,
          back: "/",
        });
      }
      return reply.code(200).send({ certificate: r.body.certificate, chain: o.chainPem, name, revocationSecret: r.body.revocationSecret });
    });

    app.get("/revoke", async (req, reply) => {
      const lang = langOf(req, reply);
      return render(reply, lang, "revoke", T[lang].revokeTitle, { csrf: reply.generateCsrf(), reasons: SUBSCRIBER_REVOCATION_REASONS, id: "" });
    });
    app.post("/revoke", { preHandler: app.csrfProtection }, async (req, reply) => {
      const lang = langOf(req, reply);
      const form = parseForm(req);
      const r = await api("POST", `/api/v1/applications/${encodeURIComponent(form.id ?? "")}/revoke`, { reason: form.reason ?? "", revocationSecret: form.revocationSecret ?? "" });
      if (r.status === 200) return render(reply, lang, "message", T[lang].revokeTitle, { message: T[lang].done2, back: "/" });
      return render(reply, lang, "revoke", T[lang].revokeTitle, { csrf: reply.generateCsrf(), reasons: SUBSCRIBER_REVOCATION_REASONS, id: form.id ?? "", error: messages(r).join(" ") }, r.status);
    });
    return;
  }

  // ------------------------------------------------------------------ operator console
  // Every console page needs a verified operator certificate; the backend checks its roles.
  app.addHook("preHandler", async (req, reply) => {
    if (req.url.startsWith("/static/") || req.url === "/healthz" || req.url.startsWith("/api/") || req.url === "/openapi.json") return;
    if (!peerCertificate(req)) {
      const lang = langOf(req, reply);
      return render(reply, lang, "message", T[lang].console, { message: T[lang].noCert, bad: true, back: "/console" }, 403);
    }
  });

  app.get("/", async (_req, reply) => reply.redirect("/console"));

  app.get<{ Querystring: { lang?: string } }>("/console", async (req, reply) => {
    const lang = langOf(req, reply);
    const ks = await kinds();
    const apps: { id: string; kind: string; state: string }[] = [];
    for (const state of ["submitted", "in_review", "accepted", "issued", "delivered"]) {
      const r = await api("GET", `/api/v1/applications?state=${state}&limit=200`, undefined, { operator: peerCertificate(req) });
      if (r.status !== 200) return render(reply, lang, "message", T[lang].console, { message: T[lang].refused, detail: messages(r).join(" "), bad: true, back: "/console" }, r.status, peerSummary(req));
      apps.push(...(r.body.applications as typeof apps));
    }
    return render(
      reply,
      lang,
      "console",
      T[lang].console,
      {
        apps: apps.map((a) => ({ ...a, kindLabel: ks[a.kind]?.label[lang] ?? a.kind, stateName: STATE_NAMES[lang][a.state] ?? a.state })),
      },
      200,
      peerSummary(req),
    );
  });

  const actionsFor = (state: string, lang: Lang) => {
    const t = T[lang];
    const out: { name: string; label: string; reason?: boolean; reasons?: readonly string[]; danger?: boolean }[] = [];
    const label: Record<VettingActionName, string> = { "start-review": t.startReview, accept: t.accept, return: t.return, reject: t.reject, approve: t.approve, withdraw: t.withdraw };
    for (const [name, spec] of Object.entries(VETTING_ACTIONS) as [VettingActionName, (typeof VETTING_ACTIONS)[VettingActionName]][]) {
      if ((spec.from as readonly string[]).includes(state)) out.push({ name, label: label[name], reason: spec.reason, danger: name === "reject" || name === "withdraw" });
    }
    if (state === "issued" || state === "delivered") out.push({ name: "revoke", label: t.revoke, reasons: OPERATOR_REVOCATION_REASONS, danger: true });
    return out;
  };

  const showApplication = async (req: FastifyRequest, reply: FastifyReply, id: string, extra: { flash?: { text: string; bad?: boolean }; enrollmentCode?: string; status?: number } = {}) => {
    const lang = langOf(req, reply);
    const r = await api("GET", `/api/v1/applications/${encodeURIComponent(id)}`, undefined, { operator: peerCertificate(req) });
    if (r.status !== 200) return render(reply, lang, "message", T[lang].console, { message: T[lang].notFound, detail: messages(r).join(" "), bad: true, back: "/console" }, r.status, peerSummary(req));
    const a = r.body as { id: string; kind: string; state: string; fields: Record<string, string> };
    const k = (await kinds())[a.kind];
    return render(
      reply,
      lang,
      "application",
      `${T[lang].applicationId} ${a.id.slice(0, 8)}`,
      {
        app: a,
        kindLabel: k?.label[lang] ?? a.kind,
        stateName: STATE_NAMES[lang][a.state] ?? a.state,
        csrf: reply.generateCsrf(),
        fields: Object.entries(a.fields).map(([n, v]) => ({ label: k?.fields[n]?.label[lang] ?? n, value: v })),
        actions: actionsFor(a.state, lang),
        flash: extra.flash,
        enrollmentCode: extra.enrollmentCode,
      },
      extra.status ?? 200,
      peerSummary(req),
    );
  };

  app.get<{ Params: { id: string } }>("/console/applications/:id", async (req, reply) => showApplication(req, reply, req.params.id));

  app.post<{ Params: { id: string; action: string } }>("/console/applications/:id/:action", { preHandler: app.csrfProtection }, async (req, reply) => {
    const lang = langOf(req, reply);
    const { id, action } = req.params;
    if (!Object.hasOwn(VETTING_ACTIONS, action) && action !== "revoke") return render(reply, lang, "message", T[lang].notFound, { message: T[lang].notFound, bad: true, back: "/console" }, 404, peerSummary(req));
    const form = parseForm(req);
    const body = form.reason ? { reason: form.reason } : action === "revoke" ? { reason: "" } : {};
    const r = await api("POST", `/api/v1/applications/${encodeURIComponent(id)}/${action}`, body, { operator: peerCertificate(req) });
    if (r.status >= 200 && r.status < 300) {
      return showApplication(req, reply, id, { flash: { text: T[lang].done2 }, enrollmentCode: typeof r.body.enrollmentCode === "string" ? r.body.enrollmentCode : undefined });
    }
    // The reason in the page's language where the page knows it, and the service's own words.
    const why = r.body.error === "four_eyes" ? `${T[lang].fourEyes} (${messages(r).join(" ")})` : messages(r).join(" ");
    return showApplication(req, reply, id, { flash: { text: `${T[lang].refused}: ${why}`, bad: true }, status: r.status });
  });

  // Bulk upload (ADR 0062): the file is checked first (dry run: every bad row by row and column,
  // nothing stored); the page then carries the exact bytes it checked (base64) to the commit, so
  // what is stored is what was shown, and the same file uploaded again is recognised (SHA-256).
  const bulkKinds = async (lang: Lang) => Object.entries(await kinds()).map(([name, k]) => ({ name, label: k.label[lang] }));
  app.get<{ Querystring: { lang?: string } }>("/console/bulk", async (req, reply) => {
    const lang = langOf(req, reply);
    return render(reply, lang, "bulk", T[lang].bulk, { csrf: reply.generateCsrf(), kinds: await bulkKinds(lang), kind: "" }, 200, peerSummary(req));
  });

  const maxCsvBytes = 10 * 1024 * 1024;
  app.post(
    "/console/bulk",
    {
      // base64 of a file at the backend's default limit (10 MiB), plus the form around it
      bodyLimit: Math.ceil((maxCsvBytes * 4) / 3) + 1024 * 1024,
      preValidation: async (req) => {
        const type = String(req.headers["content-type"] ?? "");
        if (!type.startsWith("multipart/form-data") || !Buffer.isBuffer(req.body)) return;
        // Node's own multipart parser (undici's Request.formData); a broken body stays unparsed
        // and is refused by the CSRF check or the handler below.
        (req as { multipart?: FormData }).multipart = await new Request("https://ra-frontend.invalid/", { method: "POST", headers: { "content-type": type }, body: req.body }).formData().catch(() => undefined);
      },
      preHandler: app.csrfProtection,
    },
    async (req, reply) => {
      const lang = langOf(req, reply);
      const t = T[lang];
      const form = (req as { multipart?: FormData }).multipart;
      const page = async (status: number, data: Record<string, unknown>) => render(reply, lang, "bulk", t.bulk, { csrf: reply.generateCsrf(), kinds: await bulkKinds(lang), kind: "", ...data }, status, peerSummary(req));
      if (!form) return page(400, { error: `${t.refused}: multipart/form-data with a CSV file is expected` });
      const kind = String(form.get("kind") ?? "");
      const k = (await kinds())[kind];
      if (!k) return page(400, { error: `${t.refused}: ${t.kind} "${kind}" ${t.notFound}` });
      const commit = form.get("mode") === "commit";
      let csv: Buffer;
      let filename: string;
      const file = form.get("file");
      if (commit) {
        csv = Buffer.from(String(form.get("csv") ?? ""), "base64");
        filename = String(form.get("filename") ?? "upload.csv");
      } else if (file && typeof file !== "string" && file.size > 0) {
        csv = Buffer.from(await file.arrayBuffer());
        filename = file.name || "upload.csv";
      } else return page(400, { kind, error: `${t.refused}: ${t.bulkFile}: ${t.errRequired}` });
      const q = new URLSearchParams({ kind, filename: filename.slice(0, 255), dryRun: String(!commit) });
      const r = await api("POST", `/api/v1/batches?${q}`, csv, { operator: peerCertificate(req) });
      if (r.status !== 200 && r.status !== 201) return page(r.status, { kind, error: `${t.refused}: ${messages(r).join(" ")}` });
      const report = r.body as unknown as import("../csv.js").BatchReport;
      const problems = report.problems.map((p) => ({
        row: p.row,
        column: p.column,
        columnText: p.column ? `${p.columnLetter ?? ""} · ${k.fields[p.column]?.label[lang] ?? p.column}` : "",
        message: fieldMessage(lang, p.message),
        // the service's own words (what is allowed) when the page's sentence is shorter
        detail: fieldMessage(lang, p.message) === p.message ? undefined : p.message,
      }));
      return page(commit && !report.duplicate ? 201 : 200, { kind, kindLabel: k.label[lang], report, problems, csv: report.dryRun ? csv.toString("base64") : "" });
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; lang?: string } }>("/console/report", async (req, reply) => {
    const lang = langOf(req, reply);
    const to = req.query.to ?? new Date(Date.now() + 86400_000).toISOString();
    const from = req.query.from ?? new Date(Date.now() - 30 * 86400_000).toISOString();
    const r = await api("GET", `/api/v1/reports/approvals?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, undefined, { operator: peerCertificate(req) });
    if (r.status !== 200) return render(reply, lang, "message", T[lang].report, { message: T[lang].refused, detail: messages(r).join(" "), bad: true, back: "/console" }, r.status, peerSummary(req));
    return render(reply, lang, "report", T[lang].report, { from, to, report: JSON.stringify(r.body, null, 2) }, 200, peerSummary(req));
  });
}
