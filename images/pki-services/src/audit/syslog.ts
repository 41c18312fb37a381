/**
 * The service's log lines to the site's audit collector: syslog over mutual TLS (RFC 5425:
 * octet-counted RFC 5424 messages), presenting the client certificate the deployment mounts
 * (AUDIT_SYSLOG_ADDR host:port; AUDIT_SYSLOG_CERT, AUDIT_SYSLOG_KEY, AUDIT_SYSLOG_CA files:
 * constructs/audit-log.ts, ADR 0036). The hash-chained audit log in the database stays the record
 * (ADR 0012); this is its copy for the SIEM. Lines wait in a bounded queue while the collector is
 * away; a full queue drops the oldest, and the next line sent says how many were dropped.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { connect, type TLSSocket } from "node:tls";

export interface SyslogTarget {
  readonly host: string;
  readonly port: number;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** RFC 5424 APP-NAME. @default "pki-services" */
  readonly appName?: string;
}

/** The target from the environment, or undefined when AUDIT_SYSLOG_ADDR is not set. */
export function syslogTargetFromEnv(env: NodeJS.ProcessEnv = process.env): SyslogTarget | undefined {
  const addr = env.AUDIT_SYSLOG_ADDR;
  if (!addr) return undefined;
  const m = /^(.+):(\d{1,5})$/.exec(addr);
  if (!m) throw new Error(`AUDIT_SYSLOG_ADDR '${addr}' is not HOST:PORT`);
  const file = (name: string): Buffer => {
    const path = env[name];
    if (!path) throw new Error(`AUDIT_SYSLOG_ADDR is set but ${name} is not: the audit collector requires a client certificate (ADR 0036)`);
    return readFileSync(path);
  };
  return { host: m[1], port: Number(m[2]), cert: file("AUDIT_SYSLOG_CERT"), key: file("AUDIT_SYSLOG_KEY"), ca: file("AUDIT_SYSLOG_CA") };
}

/** An RFC 5424 message: facility 13 (log audit), severity 6 (informational), PRI 110; the line as MSG. */
export function rfc5424(line: string, at: Date, appName: string, host = hostname()): string {
  return `<110>1 ${at.toISOString()} ${host} ${appName} ${process.pid} - - ${line}`;
}

/** RFC 5425 4.3 framing: MSG-LEN (octets) SP SYSLOG-MSG. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from(`${body.length} `, "latin1"), body]);
}

export class SyslogShipper {
  private readonly queue: Buffer[] = [];
  private dropped = 0;
  private socket?: TLSSocket;
  private connecting = false;
  private closed = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly target: SyslogTarget,
    private readonly options: { maxQueue?: number; retryMs?: number } = {},
  ) {}

  send(line: string, at = new Date()): void {
    if (this.closed) return;
    if (this.queue.length >= (this.options.maxQueue ?? 10_000)) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(frame(rfc5424(line, at, this.target.appName ?? "pki-services")));
    this.flush();
  }

  /** Sends what is queued (if connected) and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const s = this.socket;
    if (s) await new Promise<void>((resolve) => s.end(resolve));
  }

  private flush(): void {
    const s = this.socket;
    if (!s) {
      this.connect();
      return;
    }
    if (this.dropped) {
      const note = JSON.stringify({ at: new Date().toISOString(), event: "audit.syslog.dropped", lines: this.dropped });
      this.dropped = 0;
      s.write(frame(rfc5424(note, new Date(), this.target.appName ?? "pki-services")));
    }
    for (let b = this.queue.shift(); b; b = this.queue.shift()) s.write(b);
  }

  private connect(): void {
    if (this.connecting || this.closed) return;
    this.connecting = true;
    const t = this.target;
    const s = connect({ host: t.host, port: t.port, cert: t.cert, key: t.key, ca: t.ca, servername: isIP(t.host) ? undefined : t.host, minVersion: "TLSv1.2" });
    s.unref(); // the log never keeps a finished process alive
    s.on("error", () => undefined); // a refused or dropped connection: "close" retries
    s.once("secureConnect", () => {
      this.connecting = false;
      this.socket = s;
      this.flush();
    });
    s.once("close", () => {
      if (this.socket === s) this.socket = undefined;
      this.connecting = false;
      if (!this.closed && this.queue.length) {
        this.retry = setTimeout(() => this.connect(), this.options.retryMs ?? 1000);
        this.retry.unref();
      }
    });
  }
}
