/**
 * The RA's client of the issuing CA: mTLS with the RA client certificate (the only identity the
 * CA lets issue and revoke, NCSSR 2.2), keep-alive, and an idempotency key per application so a
 * retry after a crash or a timeout returns the certificate already issued (ADR 0061).
 */
import https from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface VettedSubject {
  readonly attributes: readonly { readonly type: string; readonly value: string }[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
}

export class CaCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messages: readonly string[],
  ) {
    super(`issuing CA answered ${status} ${code}: ${messages.join("; ")}`);
  }
  /** 4xx other than 409/429: the request itself is refused, retrying cannot help. */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 409 && this.status !== 429;
  }
}

export class CaClient {
  private readonly agent: https.Agent;
  constructor(
    readonly baseUrl: string,
    tls: { key: Buffer; cert: Buffer; ca: Buffer },
    maxSockets = 16,
  ) {
    this.agent = new https.Agent({ key: tls.key, cert: tls.cert, ca: tls.ca, keepAlive: true, maxSockets, minVersion: "TLSv1.2" });
  }

  static fromDir(baseUrl: string, dir: string): CaClient {
    return new CaClient(baseUrl, { key: readFileSync(join(dir, "tls.key")), cert: readFileSync(join(dir, "tls.crt")), ca: readFileSync(join(dir, "ca.crt")) });
  }

  issue(req: { profile: string; csr: string; subject: VettedSubject; idempotencyKey: string }): Promise<{ serial: string; certificate: string; notAfter?: string }> {
    return this.call("POST", "/v1/certificates", { profile: req.profile, csr: req.csr, subject: req.subject }, { "idempotency-key": req.idempotencyKey }) as Promise<{ serial: string; certificate: string }>;
  }

  revoke(serial: string, reason: string): Promise<unknown> {
    return this.call("POST", `/v1/certificates/${serial}/revoke`, { reason });
  }

  close(): void {
    this.agent.destroy();
  }

  private call(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const data = Buffer.from(JSON.stringify(body));
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, agent: this.agent, headers: { "content-type": "application/json", "content-length": data.length, ...headers }, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            /* below */
          }
          if (res.statusCode && res.statusCode < 300) resolve(json);
          else reject(new CaCallError(res.statusCode ?? 0, String(json.error ?? "error"), (json.messages as string[]) ?? [text.slice(0, 200)]));
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`issuing CA did not answer ${method} ${path} within 30 s`)));
      req.on("error", reject);
      req.end(data);
    });
  }
}
