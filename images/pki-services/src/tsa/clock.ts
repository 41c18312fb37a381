/**
 * The TSA's clock is part of its trust (RFC 3161 2.1 (2): the TSA MUST use a trustworthy source
 * of time; ETSI EN 319 421 7.7.2: time synchronised with UTC within the declared accuracy, no
 * time-stamp issued otherwise). The guard asks the environment's NTP sources in Laos (SNTP,
 * RFC 4330) at a fixed interval and allows stamping only while the latest measurement bounds the
 * local clock's error within the declared accuracy:
 *
 *   error bound = |offset| + delay/2 + rootDelay/2 + rootDispersion
 *
 * A source that does not answer, answers unsynchronised (leap indicator 3, stratum 0 or > 15)
 * or whose bound exceeds the accuracy leaves the TSA refusing (timeNotAvailable) until a good
 * measurement; so does a measurement older than `maxAgeSeconds`.
 */
import { createSocket } from "node:dgram";
import { performance } from "node:perf_hooks";

export interface NtpSource {
  readonly host: string;
  readonly port: number;
}

export interface NtpMeasurement {
  readonly source: string;
  /** Local clock minus server clock would be −offset: server − local, in microseconds. */
  readonly offsetMicros: number;
  readonly delayMicros: number;
  readonly stratum: number;
  readonly leap: number;
  /** |offset| + delay/2 + rootDelay/2 + rootDispersion, in microseconds. */
  readonly errorBoundMicros: number;
}

// NTP timestamps count seconds from 1900-01-01; Unix time from 1970-01-01.
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

function writeTimestamp(buf: Buffer, offset: number, micros: number): void {
  const seconds = Math.floor(micros / 1e6) + NTP_UNIX_OFFSET_S;
  const fraction = Math.floor(((micros % 1e6) / 1e6) * 2 ** 32);
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(fraction >>> 0, offset + 4);
}

function readTimestamp(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset) - NTP_UNIX_OFFSET_S;
  return seconds * 1e6 + (buf.readUInt32BE(offset + 4) / 2 ** 32) * 1e6;
}

/** NTP short format (16.16 seconds) in microseconds. */
const readShort = (buf: Buffer, offset: number): number => (buf.readUInt16BE(offset) + buf.readUInt16BE(offset + 2) / 65536) * 1e6;

/** One SNTP exchange (RFC 4330 5): client mode 3, version 4; the answer must echo our transmit
 *  timestamp as its originate timestamp, be mode 4 (server) and synchronised. */
export function queryNtp(source: NtpSource, timeoutMs = 1000): Promise<NtpMeasurement> {
  const name = `${source.host}:${source.port}`;
  return new Promise((resolve, reject) => {
    const socket = createSocket(source.host.includes(":") ? "udp6" : "udp4");
    const timer = setTimeout(() => finish(new Error(`NTP source ${name} did not answer within ${timeoutMs} ms`)), timeoutMs);
    let sentAt = 0;
    const request = Buffer.alloc(48);
    const finish = (err: Error | undefined, m?: NtpMeasurement) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(m!);
    };
    socket.on("error", (err) => finish(new Error(`NTP source ${name}: ${err.message}`)));
    socket.on("message", (msg) => {
      const t4 = nowMicros();
      if (msg.length < 48) return finish(new Error(`NTP source ${name}: short answer (${msg.length} bytes)`));
      const leap = msg[0] >> 6;
      const mode = msg[0] & 7;
      const stratum = msg[1];
      if (mode !== 4) return finish(new Error(`NTP source ${name}: answer in mode ${mode}, not 4 (server)`));
      if (!msg.subarray(24, 32).equals(request.subarray(40, 48))) return finish(new Error(`NTP source ${name}: answer does not echo our request`));
      if (leap === 3 || stratum === 0 || stratum > 15) return finish(new Error(`NTP source ${name} is not synchronised (leap ${leap}, stratum ${stratum})`));
      const t2 = readTimestamp(msg, 32);
      const t3 = readTimestamp(msg, 40);
      const offsetMicros = (t2 - sentAt + (t3 - t4)) / 2;
      const delayMicros = Math.max(0, t4 - sentAt - (t3 - t2));
      const errorBoundMicros = Math.abs(offsetMicros) + delayMicros / 2 + readShort(msg, 4) / 2 + readShort(msg, 8);
      finish(undefined, { source: name, offsetMicros, delayMicros, stratum, leap, errorBoundMicros });
    });
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, VN 4, mode 3 (client)
    sentAt = nowMicros();
    writeTimestamp(request, 40, sentAt);
    socket.send(request, source.port, source.host, (err) => {
      if (err) finish(new Error(`NTP source ${name}: ${err.message}`));
    });
  });
}

export interface ClockStatus {
  readonly synchronised: boolean;
  /** Why stamping is refused (absent when synchronised). */
  readonly reason?: string;
  readonly accuracyMicros: number;
  readonly lastMeasurement?: NtpMeasurement & { readonly at: string };
}

export interface ClockGuardOptions {
  readonly sources: readonly NtpSource[];
  /** The accuracy the TSA declares in its tokens, in microseconds. */
  readonly accuracyMicros: number;
  /** Seconds between measurements. @default 16 */
  readonly intervalSeconds?: number;
  /** A measurement older than this no longer allows stamping. @default 3 × intervalSeconds */
  readonly maxAgeSeconds?: number;
  readonly timeoutMs?: number;
  /** Told of every change between synchronised and not (the role audits it). */
  readonly onChange?: (status: ClockStatus) => void;
}

/** Decides from one measurement (or its absence) whether stamping is allowed. */
export function judge(m: NtpMeasurement | undefined, accuracyMicros: number, ageSeconds: number, maxAgeSeconds: number): { synchronised: boolean; reason?: string } {
  if (!m) return { synchronised: false, reason: "no NTP source has answered yet" };
  if (ageSeconds > maxAgeSeconds) return { synchronised: false, reason: `the last good NTP measurement is ${Math.round(ageSeconds)} s old (limit ${maxAgeSeconds} s)` };
  if (m.errorBoundMicros > accuracyMicros)
    return {
      synchronised: false,
      reason: `clock error bound ${(m.errorBoundMicros / 1000).toFixed(3)} ms (offset ${(m.offsetMicros / 1000).toFixed(3)} ms from ${m.source}) exceeds the declared accuracy of ${(accuracyMicros / 1000).toFixed(3)} ms`,
    };
  return { synchronised: true };
}

const SAMPLES = 3;

export class ClockGuard {
  private last?: NtpMeasurement & { readonly at: string; readonly monotonic: number };
  private lastError = "no NTP source has answered yet";
  private timer?: NodeJS.Timeout;
  private wasSynchronised?: boolean;
  private readonly interval: number;
  private readonly maxAge: number;

  constructor(private readonly o: ClockGuardOptions) {
    if (o.sources.length === 0) throw new Error("the TSA needs at least one NTP source (RFC 3161 2.1: a trustworthy source of time)");
    this.interval = o.intervalSeconds ?? 16;
    this.maxAge = o.maxAgeSeconds ?? 3 * this.interval;
  }

  /** Measures now against each source in turn until one answers well; returns the status. */
  async measure(): Promise<ClockStatus> {
    const errors: string[] = [];
    let chosen: NtpMeasurement | undefined;
    for (const s of this.o.sources) {
      // Up to SAMPLES exchanges per source, keeping the one with the smallest error bound (the
      // minimum-delay sample, as NTP's clock filter does: RFC 5905 10): one exchange delayed by
      // a busy network or host does not stop the TSA.
      let best: NtpMeasurement | undefined;
      for (let i = 0; i < SAMPLES && !(best && best.errorBoundMicros <= this.o.accuracyMicros); i++) {
        try {
          const m = await queryNtp(s, this.o.timeoutMs);
          if (!best || m.errorBoundMicros < best.errorBoundMicros) best = m;
        } catch (err) {
          if (i === SAMPLES - 1 && !best) errors.push((err as Error).message);
        }
      }
      if (best) chosen = !chosen || best.errorBoundMicros < chosen.errorBoundMicros ? best : chosen;
      if (chosen && chosen.errorBoundMicros <= this.o.accuracyMicros) break;
      if (best) errors.push(judge(best, this.o.accuracyMicros, 0, this.maxAge).reason!);
    }
    // A source that answers replaces the last measurement, good or bad; one that does not leaves
    // the last good one to age out.
    if (chosen) this.last = { ...chosen, at: new Date().toISOString(), monotonic: performance.now() };
    this.lastError = errors.join("; ");
    return this.status();
  }

  status(): ClockStatus {
    const age = this.last ? (performance.now() - this.last.monotonic) / 1000 : 0;
    const j = judge(this.last, this.o.accuracyMicros, age, this.maxAge);
    const reason = j.synchronised ? undefined : this.last && age <= this.maxAge ? j.reason : this.lastError || j.reason;
    const s: ClockStatus = { synchronised: j.synchronised, reason, accuracyMicros: this.o.accuracyMicros, lastMeasurement: this.last && (({ monotonic: _, ...m }) => m)(this.last) };
    if (this.wasSynchronised !== s.synchronised) {
      this.wasSynchronised = s.synchronised;
      this.o.onChange?.(s);
    }
    return s;
  }

  /** Measures at start and then every interval (the timer does not keep the process alive). */
  async start(): Promise<ClockStatus> {
    const s = await this.measure();
    this.timer = setInterval(() => void this.measure().catch(() => undefined), this.interval * 1000);
    this.timer.unref();
    return s;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
