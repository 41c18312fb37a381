/**
 * The RA backend's HTTP shell: Fastify over mTLS, JSON API under /api/v1, its OpenAPI document at
 * /openapi.json (generated from the route schemas by @fastify/swagger; a copy is in
 * docs/ra-openapi.json). Every 4xx is audited with the caller's identity. ADR 0060.
 */
import { randomUUID } from "node:crypto";
import type { TLSSocket } from "node:tls";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import swagger from "@fastify/swagger";
import { applicantActor, AuthError, operatorFromCertificate, parseClientCertHeader, pemCertificates, type Actor } from "./auth.js";
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
      info: { title: "lanic-ca RA backend", version: "1", description: "Applications, vetting (four-eyes), enrollment, issuance, revocation. mTLS: RA frontends forward the operator certificate in the RFC 9440 Client-Cert header; applicants are authorised per application by `Authorization: Bearer <access token>` or their enrollment code. ADR 0060." },
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
      .append(status === 403 || status === 401 ? "ra.access.denied" : "ra.request.rejected", actor?.id ?? "anonymous", auditSafe({ method: req.method, path: req.url.split("?")[0], status, code, problems: messages, ...(actor ? service.actorDetails(actor) : {}) }))
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
          type: "object", additionalProperties: false, required: ["kind", "fields"],
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
        summary: "List applications (operators)", tags: ["vetting"],
        querystring: {
          type: "object", additionalProperties: false,
          properties: { state: { type: "string", enum: [...STATES] }, kind: { type: "string" }, batch: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 1000 }, offset: { type: "integer", minimum: 0 } },
        },
      },
    },
    async (req) => {
      if (req.actor.kind !== "operator") throw new AuthError(401, "listing applications needs an operator client certificate");
      return { applications: await service.list(req.query) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/applications/:id",
    { schema: { summary: "One application (operators; the applicant with its access token)", tags: ["applications"], params: idParams } },
    async (req) => {
      if (req.actor.kind === "operator") return service.mustGet(req.actor, req.params.id, "read");
      return service.checkAccess(req.actor, req.params.id, bearer(req), "read");
    },
  );

  app.put<{ Params: { id: string }; Body: { fields: Record<string, string>; csr?: string } }>(
    "/api/v1/applications/:id",
    {
      schema: {
        summary: "Correct a returned application (applicant, access token): back to submitted", tags: ["applications"], params: idParams,
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
          tags: ["vetting"], params: idParams,
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
        summary: "Enroll with a one-time code and a CSR: the certificate (subject from the vetted data) and the revocation secret", tags: ["applications"],
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
        summary: "Revoke the application's certificate: an ra-operator, or the subscriber with its revocation secret (BR 7.2.2 reasons)", tags: ["revocation"], params: idParams,
        body: { type: "object", additionalProperties: false, required: ["reason"], properties: { reason: { type: "string" }, revocationSecret: { type: "string" } } },
      },
    },
    async (req) => service.revoke(req.actor, req.params.id, req.body.reason, req.body.revocationSecret),
  );

  app.post<{ Params: { id: string }; Body: { csr?: string } | undefined }>(
    "/api/v1/applications/:id/renew",
    {
      schema: {
        summary: "Renewal: a new application pre-filled from this one (ra-operator, or the applicant with its access token)", tags: ["applications"], params: idParams,
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
    { schema: { summary: "Certificates expiring within N days (ra-operator)", tags: ["revocation"], querystring: { type: "object", additionalProperties: false, required: ["days"], properties: { days: { type: "integer", minimum: 1, maximum: 3650 } } } } },
    async (req) => {
      if (req.actor.kind !== "operator" || !req.actor.roles.has("ra-operator")) throw new AuthError(req.actor.kind === "operator" ? 403 : 401, "the expiring list needs the ra-operator role");
      return { applications: await service.expiring(req.query.days) };
    },
  );

  app.get<{ Querystring: { from: string; to: string } }>(
    "/api/v1/reports/approvals",
    {
      schema: {
        summary: "The vetting manager's periodic report of approvals in [from, to), with rule violations (vetting-manager)", tags: ["vetting"],
        querystring: { type: "object", additionalProperties: false, required: ["from", "to"], properties: { from: { type: "string", format: "date-time" }, to: { type: "string", format: "date-time" } } },
      },
    },
    async (req) => service.approvalsReport(req.actor, new Date(req.query.from), new Date(req.query.to)),
  );

  return app;
}
