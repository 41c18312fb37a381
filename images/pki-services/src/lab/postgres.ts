/**
 * PostgreSQL 15 servers on one machine for the continuity drill and the point-in-time recovery
 * (docs/runbooks/failover.md): a primary with a WAL archive, a streaming replica made from a
 * base backup, promotion, a crash, and a restore from base backup + archive. Lab and tests only;
 * production runs CloudNativePG (constructs/database.ts, docs/adr/0080).
 *
 * As root the servers run as `postgres` (initdb refuses root) through runuser, and every folder
 * they use is made 0755 and owned by postgres (a mkdtemp folder is 0700).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { freePort } from "./ports.js";
import { join } from "node:path";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

const root = process.getuid?.() === 0;
const owner = root ? { uid: Number(execFileSync("id", ["-u", "postgres"]).toString()), gid: Number(execFileSync("id", ["-g", "postgres"]).toString()) } : undefined;

/** A folder the server user can enter and write (0755, owned by postgres when we are root). */
export function pgFolder(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  if (owner) chownSync(path, owner.uid, owner.gid);
  return path;
}

function pg(bin: string, args: string[]): string {
  if (!existsSync(join(PG_BIN, bin))) throw new Error(`PostgreSQL 15 binaries not found in ${PG_BIN}: apt-get install -y postgresql-15 (or set PG_BIN)`);
  const cmd = root ? (["runuser", ["-u", "postgres", "--", join(PG_BIN, bin), ...args]] as const) : ([join(PG_BIN, bin), args] as const);
  return execFileSync(cmd[0], cmd[1], { stdio: ["ignore", "pipe", "pipe"] }).toString();
}

export class PgNode {
  private constructor(
    readonly name: string,
    readonly data: string,
    readonly port: number,
    private readonly log: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** A new primary: WAL archived to `archive` by archive_command. */
  static async primary(dir: string, name: string, o: { archive: string }): Promise<PgNode> {
    const base = pgFolder(join(dir, name));
    const data = join(base, "data");
    pg("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
    const node = new PgNode(name, data, await freePort(), join(base, "log"));
    appendFileSync(
      join(data, "postgresql.conf"),
      [
        "wal_level = replica",
        "archive_mode = on",
        `archive_command = 'test ! -f ${o.archive}/%f && cp %p ${o.archive}/%f'`,
        "archive_timeout = 60",
        "max_wal_senders = 5",
        "fsync = off",
        "full_page_writes = on",
        "max_connections = 60",
        "",
      ].join("\n"),
    );
    node.start();
    return node;
  }

  /** A streaming replica of `primary` made from a fresh base backup (pg_basebackup -R), also
   *  fetching from the WAL archive; its application_name is `name`. */
  static async replica(dir: string, name: string, primary: PgNode, o: { archive: string }): Promise<PgNode> {
    const base = pgFolder(join(dir, name));
    const data = join(base, "data");
    pg("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", data, "-X", "stream", "-c", "fast", "-R", "--no-sync"]);
    const node = new PgNode(name, data, await freePort(), join(base, "log"));
    appendFileSync(join(data, "postgresql.auto.conf"), `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres application_name=${name}'\nrestore_command = 'cp ${o.archive}/%f %p'\n`);
    node.start();
    return node;
  }

  /** A base backup of `primary` into `target` (plain format, WAL included), for a later restore. */
  static baseBackup(primary: PgNode, target: string): void {
    pgFolder(target);
    pg("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", target, "-X", "stream", "-c", "fast", "--no-sync"]);
  }

  /** Point-in-time recovery: a new server from the base backup in `backup`, replaying the WAL
   *  archive up to the restore point `targetName`, then promoted. */
  static async restore(dir: string, name: string, o: { backup: string; archive: string; targetName: string }): Promise<PgNode> {
    const base = pgFolder(join(dir, name));
    const data = join(base, "data");
    cpSync(o.backup, data, { recursive: true });
    chmodSync(data, 0o700);
    if (owner) execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, data]);
    const node = new PgNode(name, data, await freePort(), join(base, "log"));
    appendFileSync(
      join(data, "postgresql.auto.conf"),
      [`restore_command = 'cp ${o.archive}/%f %p'`, `recovery_target_name = '${o.targetName}'`, "recovery_target_action = 'promote'", "archive_mode = off", "synchronous_standby_names = ''", ""].join("\n"),
    );
    writeFileSync(join(data, "recovery.signal"), "");
    if (owner) chownSync(join(data, "recovery.signal"), owner.uid, owner.gid);
    node.start();
    await node.waitUntil(() => node.sql("SELECT pg_is_in_recovery()").trim() === "f", 120_000);
    return node;
  }

  /** From now on a commit returns only once the standby `name` has it (synchronous
   *  replication: an acknowledged issuance is at both sites). */
  async requireSyncStandby(name: string): Promise<void> {
    this.sql(`ALTER SYSTEM SET synchronous_standby_names = '${name}'`);
    this.sql("SELECT pg_reload_conf()");
    await this.waitUntil(() => this.sql(`SELECT sync_state FROM pg_stat_replication WHERE application_name = '${name}'`).trim() === "sync", 60_000);
  }

  start(): void {
    pg("pg_ctl", ["-D", this.data, "-o", `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`, "-l", this.log, "-w", "-t", "120", "start"]);
  }

  /** One SQL statement through psql; its unaligned, tuples-only output. */
  sql(statement: string): string {
    return pg("psql", ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-d", "postgres", "-XAtq", "-c", statement]);
  }

  /** The site is lost: SIGKILL of the postmaster (no shutdown checkpoint; its backends exit). */
  kill(): void {
    const pid = Number(readFileSync(join(this.data, "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(pid, "SIGKILL");
    // the backends notice the postmaster's death; wait until the port is free of them
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      execFileSync("sleep", ["0.05"]);
    }
  }

  /** Promotes a replica to primary (pg_ctl promote, waits for the end of recovery). */
  promote(): void {
    pg("pg_ctl", ["-D", this.data, "-w", "-t", "120", "promote"]);
  }

  stop(): void {
    try {
      pg("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]);
    } catch {
      /* already stopped or killed */
    }
  }

  async waitUntil(ok: () => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (ok()) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > end) throw new Error(`${this.name}: condition not met within ${timeoutMs} ms (log: ${this.log})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
