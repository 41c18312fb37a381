/**
 * The RA backend's HTTP shell: Fastify over mTLS, JSON API under /api/v1, its OpenAPI document at
 * /openapi.json (generated from the route schemas by @fastify/swagger; a copy is in
 * docs/ra-openapi.json). Every 4xx is audited with the caller's identity. ADR 0060.
 */
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import swagger from "@fastify/swagger";
import { applicantActor, AuthError, operatorFromCertificate, parseClientCertHeader, pemCertificates, requireRole, type Actor } from "./auth.js";
import { EVIDENCE_MEDIA_TYPES } from "./config.js";
import { batchRow, csvLine, uploadBatch } from "./csv.js";
import { addEvidence, listEvidence, readEvidence } from "./evidence.js";
import { auditSafe, RaError, type RaService } from "./service.js";
import { VETTING_ACTIONS, STATES, type VettingActionName } from "./states.js";

export interface RaBackendTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** CA certificate(s) of the client certificates accepted: frontends' and operators'. */
  readonly ca: Buffer;
}

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor;
  }
}

const UUID = { type: "string", pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" } as const;
const idParams = { type: "object", properties: { id: UUID }, required: ["id"] } as const;
const ERROR = {
  type: "object",
  description: "A refusal: a code and one precise message per problem (field, row, column, rule).",
  properties: { error: { type: "string" }, messages: { type: "array", items: { type: "string" } }, requestId: { type: "string" } },
} as const;
const errors = { 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR, 413: ERROR, 415: ERROR, 422: ERROR } as const;

/** Applicant credentials: `Authorization: Bearer <access token>` (given at submission). */
function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === "string" ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

export async function buildRaBackend(service: RaService, tls: RaBackendTls, o: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const anchors = pemCertificates(tls.ca.toString("utf8"));
  const app = Fastify({
    https: { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2" },
    logger: o.logger ?? false,
    bodyLimit: 64 * 1024,
    requestTimeout: 120_000,
    // Extra fields are refused, not silently dropped (deny by default, style 9).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", allErrors: true } },
    genReqId: () => randomUUID(),
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "lanic-ca RA backend",
        version: "1",
        description:
          "Applications, vetting (four-eyes), enrollment, issuance, revocation. mTLS: RA frontends forward the operator certificate in the RFC 9440 Client-Cert header; applicants are authorised per application by `Authorization: Bearer <access token>` or their enrollment code. ADR 0060.",
      },
      components: { securitySchemes: { accessToken: { type: "http", scheme: "bearer" } } },
    },
  });

  app.decorateRequest("actor", undefined as unknown as Actor);
  app.addHook("onRequest", async (req) => {
    const sock = req.raw.socket as TLSSocket;
    const peer = sock.getPeerCertificate?.(false);
    if (!sock.authorized || !peer?.raw) throw new AuthError(401, "a client certificate is required");
    const cn = Array.isArray(peer.subject?.CN) ? undefined : peer.subject?.CN;
    if (cn && service.config.frontendClients.includes(cn)) {
      const fwd = req.headers["client-cert"];
      req.actor = typeof fwd === "string" && fwd ? operatorFromCertificate(parseClientCertHeader(fwd), { policyOid: service.config.operatorPolicyOid, trustAnchors: anchors, via: cn }) : applicantActor(cn);
    } else {
      req.actor = operatorFromCertificate(peer.raw, { policyOid: service.config.operatorPolicyOid });
    }
  });

  app.setErrorHandler(async (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    let status: number;
    let code: string;
    let messages: string[];
    const fe = err as FastifyError;
    if (err instanceof RaError) {
      // already audited by the service
      return reply.code(err.status).send({ error: err.code, messages: err.problems, requestId: req.id });
    } else if (err instanceof AuthError) {
      status = err.status;
      code = status === 401 ? "unauthenticated" : "forbidden";
      messages = [err.message];
    } else if (fe.validation) {
      status = 400;
      code = "bad_request";
      messages = fe.validation.map((v) => {
        const where = `${fe.validationContext ?? "body"}${v.instancePath.replace(/\//g, ".")}`;
        const extra = (v.params as { additionalProperty?: string }).additionalProperty;
        return extra ? `${where}: unknown field "${extra}"` : `${where} ${v.message ?? "is invalid"}`;
      });
    } else if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      status = 413;
      code = "too_large";
      messages = [`request body exceeds the limit of ${req.routeOptions.bodyLimit ?? 65536} bytes`];
    } else if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      status = 415;
      code = "unsupported_media_type";
      messages = [`content type ${JSON.stringify(req.headers["content-type"] ?? "")} is not accepted here`];
    } else if (fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY" || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" || (fe.statusCode === 400 && err instanceof SyntaxError)) {
      status = 400;
      code = "bad_json";
      messages = [`request body is not valid JSON: ${err.message}`];
    } else if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      status = fe.statusCode;
      code = fe.code ?? "bad_request";
      messages = [err.message];
    } else {
      req.log.error(err);
      console.error(`[${req.id}]`, err);
      return reply.code(500).send({ error: "internal", messages: ["internal error"], requestId: req.id });
    }
    const actor = req.actor;
    await service.audit
      .append(
        status === 403 || status === 401 ? "ra.access.denied" : "ra.request.rejected",
        actor?.id ?? "anonymous",
        auditSafe({ method: req.method, path: req.url.split("?")[0], status, code, problems: messages, ...(actor ? service.actorDetails(actor) : {}) }),
      )
      .catch(() => undefined);
    return reply.code(status).send({ error: code, messages, requestId: req.id });
  });

  app.get("/healthz", { schema: { hide: true } }, async (_req, reply) => {
    try {
      await service.db.query("SELECT 1");
      return { ok: true };
    } catch (err) {
      return reply.code(503).send({ ok: false, reason: (err as Error).message });
    }
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get("/api/v1/kinds", { schema: { summary: "Application kinds: fields (English and Lao labels), evidence, the CA profile", tags: ["applications"] } }, async () => service.config.kinds);

  app.get("/api/v1/states", { schema: { summary: "The state machine: states and vetting actions with the roles they need", tags: ["applications"] } }, async () => ({ states: STATES, actions: VETTING_ACTIONS }));

  app.post<{ Body: { kind: string; fields: Record<string, string>; csr?: string } }>(
    "/api/v1/applications",
    {
      schema: {
        summary: "Submit an application (one at a time). Returns its id and the applicant's access token (shown once).",
        tags: ["applications"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["kind", "fields"],
          properties: {
            kind: { type: "string" },
            fields: { type: "object", additionalProperties: { type: "string" } },
            csr: { type: "string", description: "PKCS#10 PEM; absent: the application is approved for enrollment (one-time code)" },
          },
        },
        response: { ...errors },
      },
    },
    async (req, reply) => {
      const r = await service.submit(req.actor, req.body);
      return reply.code(201).send({ application: r.application, accessToken: r.accessToken });
    },
  );

  app.get<{ Querystring: { state?: string; kind?: string; batch?: string; limit?: number; offset?: number } }>(
    "/api/v1/applications",
    {
      schema: {
        summary: "List applications (operators)",
        tags: ["vetting"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { state: { type: "string", enum: [...STATES] }, kind: { type: "string" }, batch: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 1000 }, offset: { type: "integer", minimum: 0 } },
        },
      },
    },
    async (req) => {
      if (req.actor.kind !== "operator") throw new AuthError(401, "listing applications needs an operator client certificate");
      return { applications: await service.list(req.query) };
    },
  );

  app.get<{ Params: { id: string } }>("/api/v1/applications/:id", { schema: { summary: "One application (operators; the applicant with its access token)", tags: ["applications"], params: idParams } }, async (req) => {
    if (req.actor.kind === "operator") return service.mustGet(req.actor, req.params.id, "read");
    return service.checkAccess(req.actor, req.params.id, bearer(req), "read");
  });

  app.put<{ Params: { id: string }; Body: { fields: Record<string, string>; csr?: string } }>(
    "/api/v1/applications/:id",
    {
      schema: {
        summary: "Correct a returned application (applicant, access token): back to submitted",
        tags: ["applications"],
        params: idParams,
        body: { type: "object", additionalProperties: false, required: ["fields"], properties: { fields: { type: "object", additionalProperties: { type: "string" } }, csr: { type: "string" } } },
      },
    },
    async (req) => service.resubmit(req.actor, req.params.id, bearer(req), req.body),
  );

  for (const action of Object.keys(VETTING_ACTIONS) as VettingActionName[]) {
    const spec = VETTING_ACTIONS[action];
    app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
      `/api/v1/applications/:id/${action}`,
      {
        schema: {
          summary: `${spec.description} (${spec.from.join(" | ")} → ${spec.to}; role: ${spec.roles.join(" or ")}${action === "withdraw" ? "; or the applicant with its access token" : ""})`,
          tags: ["vetting"],
          params: idParams,
          body: { type: "object", additionalProperties: false, properties: { reason: { type: "string", maxLength: 1000 } }, ...(spec.reason ? { required: ["reason"] } : {}) },
        },
      },
      async (req) => {
        if (action === "withdraw" && req.actor.kind === "applicant") return service.applicantWithdraw(req.actor, req.params.id, bearer(req), req.body?.reason ?? "");
        return service.act(req.actor, req.params.id, action, req.body?.reason);
      },
    );
  }

  app.post<{ Params: { id: string } }>(
    "/api/v1/applications/:id/deliver",
    { schema: { summary: "Fetch the issued certificate and the revocation secret (once; applicant, access token): issued → delivered", tags: ["applications"], params: idParams } },
    async (req) => {
      const r = await service.deliver(req.actor, req.params.id, bearer(req));
      return { application: r.application, certificate: r.application.certificate, revocationSecret: r.revocationSecret };
    },
  );

  app.post<{ Body: { code: string; csr: string } }>(
    "/api/v1/enroll",
    {
      schema: {
        summary: "Enroll with a one-time code and a CSR: the certificate (subject from the vetted data) and the revocation secret",
        tags: ["applications"],
        body: { type: "object", additionalProperties: false, required: ["code", "csr"], properties: { code: { type: "string", maxLength: 64 }, csr: { type: "string", maxLength: 16384 } } },
      },
    },
    async (req) => {
      const r = await service.enroll(req.actor, req.body.code, req.body.csr);
      return { application: r.application, certificate: r.application.certificate, revocationSecret: r.revocationSecret };
    },
  );

  app.post<{ Params: { id: string }; Body: { reason: string; revocationSecret?: string } }>(
    "/api/v1/applications/:id/revoke",
    {
      schema: {
        summary: "Revoke the application's certificate: an ra-operator, or the subscriber with its revocation secret (BR 7.2.2 reasons)",
        tags: ["revocation"],
        params: idParams,
        body: { type: "object", additionalProperties: false, required: ["reason"], properties: { reason: { type: "string" }, revocationSecret: { type: "string" } } },
      },
    },
    async (req) => service.revoke(req.actor, req.params.id, req.body.reason, req.body.revocationSecret),
  );

  app.post<{ Params: { id: string }; Body: { csr?: string } | undefined }>(
    "/api/v1/applications/:id/renew",
    {
      schema: {
        summary: "Renewal: a new application pre-filled from this one (ra-operator, or the applicant with its access token)",
        tags: ["applications"],
        params: idParams,
        body: { type: "object", additionalProperties: false, properties: { csr: { type: "string" } } },
      },
    },
    async (req, reply) => {
      const r = await service.renew(req.actor, req.params.id, bearer(req), req.body?.csr);
      return reply.code(201).send({ application: r.application, accessToken: r.accessToken });
    },
  );

  app.get<{ Querystring: { days: number } }>(
    "/api/v1/certificates/expiring",
    {
      schema: {
        summary: "Certificates expiring within N days (ra-operator)",
        tags: ["revocation"],
        querystring: { type: "object", additionalProperties: false, required: ["days"], properties: { days: { type: "integer", minimum: 1, maximum: 3650 } } },
      },
    },
    async (req) => {
      if (req.actor.kind !== "operator" || !req.actor.roles.has("ra-operator")) throw new AuthError(req.actor.kind === "operator" ? 403 : 401, "the expiring list needs the ra-operator role");
      return { applications: await service.expiring(req.query.days) };
    },
  );

  app.get<{ Querystring: { from: string; to: string } }>(
    "/api/v1/reports/approvals",
    {
      schema: {
        summary: "The vetting manager's periodic report of approvals in [from, to), with rule violations (vetting-manager)",
        tags: ["vetting"],
        querystring: { type: "object", additionalProperties: false, required: ["from", "to"], properties: { from: { type: "string", format: "date-time" }, to: { type: "string", format: "date-time" } } },
      },
    },
    async (req) => service.approvalsReport(req.actor, new Date(req.query.from), new Date(req.query.to)),
  );

  // Evidence: the bytes as sent; the type is decided by the content (evidence.ts).
  app.addContentTypeParser([...EVIDENCE_MEDIA_TYPES, "application/octet-stream"], { parseAs: "buffer", bodyLimit: service.config.evidence.maxBytes }, (_req, body, done) => done(null, body));
  const evidenceAccess = (req: FastifyRequest<{ Params: { id: string } }>) =>
    req.actor.kind === "operator" ? service.mustGet(req.actor, req.params.id, "evidence") : service.checkAccess(req.actor, req.params.id, bearer(req), "evidence");

  app.post<{ Params: { id: string }; Querystring: { type: string; filename: string } }>(
    "/api/v1/applications/:id/evidence",
    {
      bodyLimit: service.config.evidence.maxBytes,
      schema: {
        summary: `Add supporting evidence (PDF, JPEG or PNG, checked by content; at most ${service.config.evidence.maxBytes} bytes) to a submitted, in-review or returned application (applicant with its token, or an operator)`,
        tags: ["applications"],
        params: idParams,
        querystring: { type: "object", additionalProperties: false, required: ["type", "filename"], properties: { type: { type: "string" }, filename: { type: "string", maxLength: 200 } } },
      },
    },
    async (req, reply) => {
      const app = await evidenceAccess(req);
      if (!Buffer.isBuffer(req.body)) throw new RaError(415, "unsupported_media_type", ["send the file as application/pdf, image/jpeg, image/png or application/octet-stream"]);
      const r = await addEvidence(service, req.actor, app, { type: req.query.type, filename: req.query.filename, declared: String(req.headers["content-type"]).split(";")[0].trim() }, req.body);
      return reply.code(201).send(r);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/applications/:id/evidence",
    { schema: { summary: "The application's evidence: type, media type, size, SHA-256, retention (operators; the applicant with its token)", tags: ["applications"], params: idParams } },
    async (req) => ({ evidence: await listEvidence(service, (await evidenceAccess(req)).id) }),
  );

  app.get<{ Params: { id: string; evidence: string } }>(
    "/api/v1/applications/:id/evidence/:evidence",
    { schema: { summary: "One evidence file's bytes (operators; each read is audited)", tags: ["vetting"], params: { type: "object", properties: { id: UUID, evidence: UUID }, required: ["id", "evidence"] } } },
    async (req, reply) => {
      if (req.actor.kind !== "operator") throw new AuthError(401, "evidence files are read by operators only");
      const { record, content } = await readEvidence(service, req.actor, req.params.id, req.params.evidence);
      return reply
        .type(record.mediaType)
        .header("content-disposition", `attachment; filename="${record.id}.${record.mediaType.split("/")[1].replace("jpeg", "jpg")}"`)
        .header("x-content-type-options", "nosniff")
        .header("digest", `sha-256=${Buffer.from(record.sha256, "hex").toString("base64")}`)
        .send(content);
    },
  );

  // Bulk CSV: the body is streamed to the parser (never buffered whole).
  app.addContentTypeParser(["text/csv", "application/csv"], (_req, payload, done) => done(null, payload));

  app.post<{ Querystring: { kind: string; filename?: string; dryRun?: boolean } }>(
    "/api/v1/batches",
    {
      schema: {
        summary:
          "Upload a bulk CSV (ra-operator): text/csv, UTF-8 with or without BOM, header = the kind's field names. dryRun=true reports every problem by row and column and stores nothing; otherwise good rows are stored and bad ones reported. The same file again creates nothing (duplicate: true).",
        tags: ["bulk"],
        querystring: { type: "object", additionalProperties: false, required: ["kind"], properties: { kind: { type: "string" }, filename: { type: "string", maxLength: 255 }, dryRun: { type: "boolean" } } },
      },
    },
    async (req, reply) => {
      requireRole(req.actor, ["ra-operator"], "upload a bulk CSV");
      if (typeof (req.body as { pipe?: unknown })?.pipe !== "function") throw new RaError(415, "unsupported_media_type", ["send the file as text/csv"]);
      const r = await uploadBatch(service, req.actor, { kind: req.query.kind, filename: req.query.filename ?? "upload.csv", dryRun: req.query.dryRun ?? false }, req.body as Readable);
      return reply.code(r.dryRun || r.duplicate ? 200 : 201).send(r);
    },
  );

  app.get<{ Params: { id: string } }>("/api/v1/batches/:id", { schema: { summary: "A batch's upload report (operators)", tags: ["bulk"], params: idParams } }, async (req) => {
    if (req.actor.kind !== "operator") throw new AuthError(401, "batches need an operator client certificate");
    const [b] = await service.db.query<Record<string, unknown>>(`SELECT * FROM ra_batches WHERE id = $1`, [req.params.id]);
    if (!b) throw new RaError(404, "not_found", [`no batch ${req.params.id}`]);
    return batchRow(b);
  });

  for (const action of Object.keys(VETTING_ACTIONS).filter((a) => a !== "withdraw") as VettingActionName[]) {
    const spec = VETTING_ACTIONS[action];
    app.post<{ Params: { id: string }; Querystring: { format?: "json" | "csv" }; Body: { reason?: string } | undefined }>(
      `/api/v1/batches/:id/${action}`,
      {
        schema: {
          summary: `${spec.description}, for every application of the batch that is ${spec.from.join(" or ")} (role: ${spec.roles.join(" or ")}).${action === "approve" ? " Returns one enrollment code per row, once (format=csv: a CSV with formula cells neutralised)." : ""}`,
          tags: ["bulk"],
          params: idParams,
          querystring: { type: "object", additionalProperties: false, properties: { format: { type: "string", enum: ["json", "csv"] } } },
          body: { type: "object", additionalProperties: false, properties: { reason: { type: "string", maxLength: 1000 } }, ...(spec.reason ? { required: ["reason"] } : {}) },
        },
      },
      async (req, reply) => {
        const r = await service.batchAct(req.actor, req.params.id, action, req.body?.reason);
        if (req.query.format !== "csv") return r;
        const fieldNames = Object.keys(service.kind(r.codes[0] ? (await service.get(r.codes[0].application))!.kind : Object.keys(service.config.kinds)[0]).fields);
        let out = csvLine(["row", "application", ...fieldNames, "enrollmentCode", "expiresAt"]);
        for (const c of r.codes) out += csvLine([c.row, c.application, ...fieldNames.map((f) => c.fields[f] ?? ""), c.code, r.expiresAt]);
        return reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="enrollment-codes-${req.params.id}.csv"`).send(`\ufeff${out}`);
      },
    );
  }

  return app;
}
