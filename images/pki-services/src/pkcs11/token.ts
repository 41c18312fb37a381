/**
 * The PKCS#11 adapter: a logged-in token with a pool of sessions. CA keys are generated inside
 * the token (sensitive, non-extractable, CKA_TOKEN) and used by label; they never leave it
 * (NCSSR 1.2.1 / BR 6.2.7: CA private keys in a hardware cryptographic module).
 *
 * One PKCS#11 session runs one cryptographic operation at a time (PKCS#11 v2.40 5.2: a second
 * C_SignInit fails with CKR_OPERATION_ACTIVE), so concurrent requests each borrow a session from
 * the pool; C_Sign runs on the libuv thread pool so signatures proceed in parallel.
 *
 * When the token goes away (device error, sessions invalidated, token absent) every waiting
 * operation fails with {@link HsmUnavailableError}, {@link Pkcs11Token.health} reports it, and
 * the next operation (or the periodic health probe) re-opens the slot, logs in again and
 * re-finds the keys: the service recovers by itself when the token is back.
 */
import { existsSync, readFileSync } from "node:fs";
import { createHash, createPublicKey, randomBytes, type KeyObject } from "node:crypto";
import pkcs11js from "pkcs11js";
import type { KeyAlgorithm } from "../config/schema.js";
import { ALGORITHMS, ecdsaRawToDer, oidDer, rawSignatureLength, signInput, type AlgorithmSpec } from "./algorithms.js";
import { ckrName, HsmUnavailableError, isConnectionLost, KeyNotFoundError, pkcs11Code } from "./errors.js";

export interface TokenOptions {
  /** Path of the PKCS#11 library (SoftHSM2 in dev/tests, the vendor's library in production). */
  readonly library: string;
  /** CKA token label of the partition. */
  readonly tokenLabel: string;
  /** User PIN (read from the mounted Secret file `hsm.pinFile`; never from config or the environment). */
  readonly pin: string;
  /** Number of sessions in the pool. @default 8 */
  readonly poolSize?: number;
}

export interface TokenHealth {
  readonly ok: boolean;
  readonly reason?: string;
  readonly tokenLabel: string;
  readonly sessions: number;
  readonly busy: number;
  readonly waiting: number;
}

/** Something that signs a TBS (to-be-signed) structure with a CA key: the only thing the pure
 *  PKI core needs. Implemented by {@link Pkcs11Signer}, and by a software signer in pure tests. */
export interface Signer {
  readonly keyAlgorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo of the key. */
  readonly spki: Buffer;
  /** DER AlgorithmIdentifier of the signatures this signer makes (RFC 5280 4.1.1.2). */
  readonly signatureAlgorithm: Buffer;
  /** Signs `tbs` (hashing it with the algorithm's hash) and returns the X.509 signatureValue
   *  contents: DER ECDSA-Sig-Value, or the RSASSA-PKCS1-v1_5 signature. */
  sign(tbs: Uint8Array): Promise<Buffer>;
}

// PKCS#11 v2.40 5.1.3 session states (not exported by pkcs11js).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

// ---- one loaded library per path and process: C_Initialize may run only once per process ----
interface LoadedLibrary {
  readonly module: pkcs11js.PKCS11;
  refs: number;
}
const libraries = new Map<string, LoadedLibrary>();

function loadLibrary(path: string): LoadedLibrary {
  let lib = libraries.get(path);
  if (!lib) {
    const module = new pkcs11js.PKCS11();
    try {
      module.load(path);
    } catch (err) {
      throw new HsmUnavailableError(`cannot load PKCS#11 library ${path}: ${(err as Error).message}`);
    }
    try {
      initialize(module);
    } catch (err) {
      module.close();
      throw new HsmUnavailableError(`the PKCS#11 library ${path} failed to initialise: ${describe(err)}${softHsmHint(path)}`);
    }
    lib = { module, refs: 0 };
    libraries.set(path, lib);
  }
  lib.refs++;
  return lib;
}

/** SoftHSM answers a missing configuration or token directory with a bare CKR_GENERAL_ERROR:
 *  name the file or folder that is missing. */
function softHsmHint(library: string): string {
  if (!/softhsm/i.test(library)) return "";
  const conf = process.env.SOFTHSM2_CONF ?? "/etc/softhsm/softhsm2.conf";
  if (!existsSync(conf)) return `; SoftHSM's configuration ${conf} does not exist (${process.env.SOFTHSM2_CONF ? "SOFTHSM2_CONF names it" : "SOFTHSM2_CONF is not set"})`;
  const dir = /^\s*directories\.tokendir\s*=\s*(.+?)\s*$/m.exec(readFileSync(conf, "utf8"))?.[1];
  if (dir && !existsSync(dir)) return `; the token directory ${dir} named in ${conf} does not exist`;
  return `; check SoftHSM's configuration ${conf}`;
}

function initialize(module: pkcs11js.PKCS11): void {
  try {
    // OS locking: the library is called from the libuv thread pool.
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (pkcs11Code(err) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw err;
  }
}

function releaseLibrary(path: string): void {
  const lib = libraries.get(path);
  if (!lib) return;
  if (--lib.refs === 0) {
    libraries.delete(path);
    try {
      lib.module.C_Finalize();
    } catch {
      /* already finalized */
    }
    lib.module.close();
  }
}

function describe(err: unknown): string {
  const code = pkcs11Code(err);
  return code === undefined ? (err as Error).message : `${ckrName(code)} (${(err as Error).message})`;
}

interface KeyHandles {
  readonly priv: Buffer;
  readonly pub: Buffer;
}

interface Waiter {
  resolve(s: Buffer): void;
  reject(e: Error): void;
}

export class Pkcs11Token {
  /** Opens the token with this label, logs in with the user PIN and fills the session pool. */
  static async open(options: TokenOptions): Promise<Pkcs11Token> {
    const token = new Pkcs11Token(options);
    try {
      token.connect();
    } catch (err) {
      token.close();
      throw err;
    }
    return token;
  }

  private readonly lib: LoadedLibrary;
  private readonly poolSize: number;
  private slot: Buffer | undefined;
  private free: Buffer[] = [];
  private all: Buffer[] = [];
  private waiters: Waiter[] = [];
  private busy = 0;
  private generation = 0;
  private down: string | undefined;
  private closed = false;
  private readonly keyCache = new Map<string, KeyHandles>();
  private reconnecting: Promise<void> | undefined;

  private constructor(readonly options: TokenOptions) {
    this.poolSize = options.poolSize ?? 8;
    if (!Number.isInteger(this.poolSize) || this.poolSize < 1) {
      throw new Error(`'poolSize' (${options.poolSize}) must be a positive integer`);
    }
    this.lib = loadLibrary(options.library);
  }

  get tokenLabel(): string {
    return this.options.tokenLabel;
  }

  private get p11(): pkcs11js.PKCS11 {
    return this.lib.module;
  }

  /** Finds the slot, opens `poolSize` sessions and logs in. Throws HsmUnavailableError. */
  private connect(): void {
    const { tokenLabel, pin } = this.options;
    let slots: Buffer[];
    try {
      slots = this.p11.C_GetSlotList(true);
    } catch (err) {
      if (pkcs11Code(err) === pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) {
        initialize(this.p11);
        slots = this.p11.C_GetSlotList(true);
      } else throw new HsmUnavailableError(`C_GetSlotList failed: ${describe(err)}`, pkcs11Code(err));
    }
    const slot = slots.find((s) => {
      try {
        return this.p11.C_GetTokenInfo(s).label.trim() === tokenLabel;
      } catch {
        return false;
      }
    });
    if (!slot) throw new HsmUnavailableError(`no token labelled "${tokenLabel}" is present`);
    const sessions: Buffer[] = [];
    try {
      for (let i = 0; i < this.poolSize; i++) {
        sessions.push(this.p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      }
      try {
        // Login is per application and token: one C_Login covers every session (PKCS#11 v2.40 5.6).
        this.p11.C_Login(sessions[0], pkcs11js.CKU_USER, pin);
      } catch (err) {
        if (pkcs11Code(err) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw err;
      }
    } catch (err) {
      for (const s of sessions) {
        try {
          this.p11.C_CloseSession(s);
        } catch {
          /* ignore */
        }
      }
      const code = pkcs11Code(err);
      if (code === pkcs11js.CKR_PIN_INCORRECT || code === pkcs11js.CKR_PIN_LOCKED || code === pkcs11js.CKR_PIN_LEN_RANGE) {
        throw new HsmUnavailableError(`login to token "${tokenLabel}" refused: ${describe(err)}`, code);
      }
      throw new HsmUnavailableError(`cannot open sessions on token "${tokenLabel}": ${describe(err)}`, code);
    }
    this.slot = slot;
    this.all = sessions;
    this.free = [...sessions];
    this.generation++;
    this.keyCache.clear();
    this.down = undefined;
  }

  /** Marks the token lost, fails every waiter, drops the sessions. */
  private markDown(reason: string): void {
    if (this.down) return;
    this.down = reason;
    this.all = [];
    this.free = [];
    this.keyCache.clear();
    if (this.slot) {
      try {
        this.p11.C_CloseAllSessions(this.slot);
      } catch {
        /* the token is gone */
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new HsmUnavailableError(`HSM unavailable: ${reason}`));
  }

  /** Re-opens the token if it is down. Concurrent callers share one attempt. */
  private async ensureUp(): Promise<void> {
    if (this.closed) throw new HsmUnavailableError(`token "${this.tokenLabel}" is closed`);
    if (!this.down) return;
    this.reconnecting ??= (async () => {
      // Yield first: the body is synchronous, and its `finally` must run after the assignment.
      await Promise.resolve();
      try {
        try {
          this.p11.C_Finalize();
        } catch {
          /* not initialized */
        }
        initialize(this.p11);
        this.connect();
      } catch (err) {
        this.down = err instanceof HsmUnavailableError ? err.message : describe(err);
        throw err instanceof HsmUnavailableError ? err : new HsmUnavailableError(`HSM unavailable: ${describe(err)}`, pkcs11Code(err));
      } finally {
        this.reconnecting = undefined;
      }
    })();
    await this.reconnecting;
  }

  private acquire(): Promise<Buffer> {
    const s = this.free.pop();
    if (s) {
      this.busy++;
      return Promise.resolve(s);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject })).then((s) => {
      this.busy++;
      return s as Buffer;
    });
  }

  private release(session: Buffer, generation: number): void {
    this.busy--;
    if (generation !== this.generation || this.down) return; // stale session from before a reconnect
    const w = this.waiters.shift();
    if (w) w.resolve(session);
    else this.free.push(session);
  }

  /** Runs `fn` with a session of its own; maps PKCS#11 failures that mean "token lost" to
   *  HsmUnavailableError and marks the token down. */
  async withSession<T>(fn: (session: Buffer, p11: pkcs11js.PKCS11) => Promise<T> | T): Promise<T> {
    await this.ensureUp();
    const generation = this.generation;
    const session = await this.acquire();
    try {
      return await fn(session, this.p11);
    } catch (err) {
      if (isConnectionLost(err)) {
        const reason = describe(err);
        this.markDown(reason);
        throw new HsmUnavailableError(`HSM unavailable: ${reason}`, pkcs11Code(err));
      }
      throw err;
    } finally {
      this.release(session, generation);
    }
  }

  /** Health: a cheap round trip to the token (C_GetTokenInfo, and a reconnect when down). */
  async health(): Promise<TokenHealth> {
    const base = { tokenLabel: this.tokenLabel, busy: this.busy, waiting: this.waiters.length };
    try {
      await this.ensureUp();
      const info = this.p11.C_GetTokenInfo(this.slot!);
      if (!(info.flags & pkcs11js.CKF_TOKEN_INITIALIZED)) throw new HsmUnavailableError("token not initialized");
      // A session call proves the sessions and the login are still valid.
      await this.withSession((s, p11) => {
        const si = p11.C_GetSessionInfo(s);
        if (si.state !== CKS_RW_USER_FUNCTIONS && si.state !== CKS_RO_USER_FUNCTIONS) {
          throw Object.assign(new Error("session not logged in"), { code: pkcs11js.CKR_USER_NOT_LOGGED_IN });
        }
      });
      return { ok: true, sessions: this.all.length, ...base };
    } catch (err) {
      if (!(err instanceof HsmUnavailableError)) this.markDown(describe(err));
      else if (!this.down) this.markDown(err.message);
      return { ok: false, reason: this.down ?? (err as Error).message, sessions: this.all.length, ...base };
    }
  }

  private findObjects(session: Buffer, template: pkcs11js.Template): Buffer[] {
    this.p11.C_FindObjectsInit(session, template);
    try {
      return this.p11.C_FindObjects(session, 16);
    } finally {
      this.p11.C_FindObjectsFinal(session);
    }
  }

  /** Handles of the key pair labelled `label` (exactly one private and one public key). */
  async findKey(label: string): Promise<KeyHandles> {
    const cached = this.keyCache.get(label);
    if (cached) return cached;
    return this.withSession((s) => {
      const priv = this.findObjects(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_LABEL, value: label },
      ]);
      const pub = this.findObjects(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_LABEL, value: label },
      ]);
      if (priv.length !== 1 || pub.length !== 1) {
        throw new KeyNotFoundError(`token "${this.tokenLabel}" holds ${priv.length} private and ${pub.length} public keys labelled "${label}"; exactly one of each is required`);
      }
      const handles = { priv: priv[0], pub: pub[0] };
      this.keyCache.set(label, handles);
      return handles;
    });
  }

  /** Whether a private or public key labelled `label` exists. */
  async hasKey(label: string): Promise<boolean> {
    return this.withSession((s) => this.findObjects(s, [{ type: pkcs11js.CKA_LABEL, value: label }]).length > 0);
  }

  /**
   * Generates a key pair inside the token (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
   * ¬CKA_EXTRACTABLE: the private key can never be read out; NCSSR 1.2.1, BR 6.1.1.1).
   * Refuses a label already in use, so a ceremony never shadows an existing key.
   */
  async generateKeyPair(label: string, algorithm: KeyAlgorithm, options: { backup?: boolean } = {}): Promise<{ label: string; spki: Buffer; publicKey: KeyObject }> {
    const spec = ALGORITHMS[algorithm];
    if (!spec) throw new Error(`'algorithm' (${algorithm}) must be one of ${Object.keys(ALGORITHMS).join(", ")}`);
    if (!label) throw new Error("'label' must not be empty");
    if (await this.hasKey(label)) {
      throw new Error(`token "${this.tokenLabel}" already holds an object labelled "${label}"; refusing to generate another`);
    }
    const id = randomBytes(20);
    const common: pkcs11js.Template = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
    ];
    const priv: pkcs11js.Template = [
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      // `backup`: the key may leave the token only wrapped under a key the SO marked trusted
      // (PKCS#11 v2.40 4.9 CKA_WRAP_WITH_TRUSTED, read-only once set); never in clear, as it
      // stays CKA_SENSITIVE (docs/adr/0081).
      { type: pkcs11js.CKA_EXTRACTABLE, value: options.backup ?? false },
      ...(options.backup ? [{ type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true }] : []),
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ];
    const pub: pkcs11js.Template = [...common, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_PRIVATE, value: false }];
    let mechanism: number;
    if (spec.family === "EC") {
      mechanism = pkcs11js.CKM_EC_KEY_PAIR_GEN;
      pub.push({ type: pkcs11js.CKA_EC_PARAMS, value: oidDer(spec.curveOid!) });
    } else {
      mechanism = pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub.push({ type: pkcs11js.CKA_MODULUS_BITS, value: spec.bits });
      pub.push({ type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
    }
    await this.withSession((s, p11) => p11.C_GenerateKeyPairAsync(s, { mechanism }, pub, priv));
    const { spki, publicKey } = await this.publicKey(label, algorithm);
    return { label, spki, publicKey };
  }

  /** Reads the public half of `label` and returns it as SPKI DER and a node KeyObject. Checks
   *  that the key in the token is of the algorithm the configuration states. */
  async publicKey(label: string, algorithm: KeyAlgorithm): Promise<{ spki: Buffer; publicKey: KeyObject }> {
    const spec = ALGORITHMS[algorithm];
    const { pub } = await this.findKey(label);
    return this.withSession((s, p11) => {
      const [keyType] = p11.C_GetAttributeValue(s, pub, [{ type: pkcs11js.CKA_KEY_TYPE }]);
      const kt = Number((keyType.value as Buffer).readBigUInt64LE(0) & 0xffffffffn); // CK_ULONG, 8 bytes on LP64
      let publicKey: KeyObject;
      if (spec.family === "EC") {
        if (kt !== pkcs11js.CKK_EC) throw new KeyNotFoundError(`key "${label}" is not an EC key, but the configuration says ${algorithm}`);
        const [params, point] = p11.C_GetAttributeValue(s, pub, [{ type: pkcs11js.CKA_EC_PARAMS }, { type: pkcs11js.CKA_EC_POINT }]);
        if (!(params.value as Buffer).equals(oidDer(spec.curveOid!))) {
          throw new KeyNotFoundError(`key "${label}" is not on ${spec.namedCurve}, but the configuration says ${algorithm}`);
        }
        // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point 04||X||Y.
        let pt = point.value as Buffer;
        if (pt[0] === 0x04 && pt.length !== 1 + 2 * Math.ceil(spec.bits / 8)) pt = pt.subarray(pt[1] & 0x80 ? 2 + (pt[1] & 0x7f) : 2);
        const n = Math.ceil(spec.bits / 8);
        publicKey = createPublicKey({
          key: { kty: "EC", crv: spec.namedCurve!, x: pt.subarray(1, 1 + n).toString("base64url"), y: pt.subarray(1 + n).toString("base64url") },
          format: "jwk",
        });
      } else {
        if (kt !== pkcs11js.CKK_RSA) throw new KeyNotFoundError(`key "${label}" is not an RSA key, but the configuration says ${algorithm}`);
        const [mod, exp] = p11.C_GetAttributeValue(s, pub, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
        const m = mod.value as Buffer;
        if (m.length * 8 !== spec.bits) throw new KeyNotFoundError(`key "${label}" has ${m.length * 8} bits, but the configuration says ${algorithm}`);
        publicKey = createPublicKey({
          key: { kty: "RSA", n: m.toString("base64url"), e: (exp.value as Buffer).toString("base64url") },
          format: "jwk",
        });
      }
      return { spki: publicKey.export({ type: "spki", format: "der" }), publicKey };
    });
  }

  /** Wraps the private key `label` under the trusted AES key `wrappingLabel` (CKM_AES_KEY_WRAP_PAD,
   *  RFC 5649). The token refuses (CKR_KEY_NOT_WRAPPABLE) a key not generated for backup or a
   *  wrapping key the SO did not mark CKA_TRUSTED. */
  async wrapKey(label: string, wrappingLabel: string): Promise<Buffer> {
    const { priv } = await this.findKey(label);
    return this.withSession((s, p11) => {
      const wk = this.findObjects(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_LABEL, value: wrappingLabel },
      ]);
      if (wk.length !== 1) throw new KeyNotFoundError(`token "${this.tokenLabel}" holds ${wk.length} secret keys labelled "${wrappingLabel}"; exactly one is required`);
      const attrs = p11.C_GetAttributeValue(s, priv, [{ type: pkcs11js.CKA_WRAP_WITH_TRUSTED }, { type: pkcs11js.CKA_EXTRACTABLE }]);
      if ((attrs[0].value as Buffer)[0] !== 1 || (attrs[1].value as Buffer)[0] !== 1)
        throw new Error(`key "${label}" in token "${this.tokenLabel}" is not marked for backup (CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED); it cannot leave the HSM`);
      return p11.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wk[0], priv, Buffer.alloc(16384));
    });
  }

  /** Unwraps `wrapped` (from wrapKey) into this token as the private key `label`, under the AES
   *  key `wrappingKey` (reassembled from the custodians' shares; a session object destroyed at
   *  once), with the attributes of a backed-up CA key; `publicSpki` becomes its public half.
   *  Refuses a label the token already holds. */
  async unwrapKey(wrapped: Buffer, label: string, algorithm: KeyAlgorithm, wrappingKey: Buffer, publicSpki: Buffer): Promise<void> {
    const spec = ALGORITHMS[algorithm];
    if (await this.hasKey(label)) throw new Error(`token "${this.tokenLabel}" already holds an object labelled "${label}"; refusing to restore over it`);
    const id = randomBytes(20);
    await this.withSession((s, p11) => {
      const wk = p11.C_CreateObject(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE, value: wrappingKey },
        { type: pkcs11js.CKA_UNWRAP, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      ]);
      try {
        p11.C_UnwrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wk, wrapped, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: spec.family === "EC" ? pkcs11js.CKK_EC : pkcs11js.CKK_RSA },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_ID, value: id },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: false },
          { type: pkcs11js.CKA_UNWRAP, value: false },
          { type: pkcs11js.CKA_DERIVE, value: false },
          { type: pkcs11js.CKA_EXTRACTABLE, value: true },
          { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true },
        ]);
      } finally {
        p11.C_DestroyObject(s, wk);
      }
      const pub = createPublicKey({ key: publicSpki, format: "der", type: "spki" });
      const jwk = pub.export({ format: "jwk" });
      const common = [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: id },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: false },
      ];
      const b64 = (x: string | undefined) => Buffer.from(x!, "base64url");
      if (spec.family === "EC") {
        const size = Math.ceil(spec.bits / 8);
        const point = Buffer.concat([Buffer.from([4]), b64(jwk.x).subarray(-size), b64(jwk.y).subarray(-size)]);
        const octet = point.length < 128 ? Buffer.concat([Buffer.from([4, point.length]), point]) : Buffer.concat([Buffer.from([4, 0x81, point.length]), point]);
        p11.C_CreateObject(s, [...common, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC }, { type: pkcs11js.CKA_EC_PARAMS, value: oidDer(spec.curveOid!) }, { type: pkcs11js.CKA_EC_POINT, value: octet }]);
      } else {
        p11.C_CreateObject(s, [...common, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA }, { type: pkcs11js.CKA_MODULUS, value: b64(jwk.n) }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b64(jwk.e) }]);
      }
    });
    this.keyCache.delete(label);
  }

  /** Destroys the secret key `label` (the wrapping key, once the backup is written). */
  async destroyWrappingKey(label: string): Promise<void> {
    await this.withSession((s, p11) => {
      for (const h of this.findObjects(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_LABEL, value: label },
      ]))
        p11.C_DestroyObject(s, h);
    });
  }

  /** Checks the attributes that keep a CA key inside the token. */
  async keyAttributes(label: string): Promise<{ sensitive: boolean; extractable: boolean; token: boolean; private: boolean }> {
    const { priv } = await this.findKey(label);
    return this.withSession((s, p11) => {
      const attrs = p11.C_GetAttributeValue(s, priv, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_TOKEN }, { type: pkcs11js.CKA_PRIVATE }]);
      const b = (i: number) => (attrs[i].value as Buffer)[0] === 1;
      return { sensitive: b(0), extractable: b(1), token: b(2), private: b(3) };
    });
  }

  /** Raw signature of a digest with the private key `label` (for benchmarks and signers). */
  async signDigest(label: string, spec: AlgorithmSpec, digest: Buffer): Promise<Buffer> {
    const { mechanism, data } = signInput(spec, digest);
    const out = Buffer.alloc(rawSignatureLength(spec));
    return this.withSession(async (s, p11) => {
      const { priv } = this.keyCache.get(label) ?? (await this.findKeyIn(s, label));
      p11.C_SignInit(s, { mechanism }, priv);
      return p11.C_SignAsync(s, data, out);
    });
  }

  // findKey() without borrowing a second session (we already hold one).
  private findKeyIn(session: Buffer, label: string): KeyHandles {
    const priv = this.findObjects(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    const pub = this.findObjects(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    if (priv.length !== 1 || pub.length !== 1) {
      throw new KeyNotFoundError(`token "${this.tokenLabel}" holds ${priv.length} private and ${pub.length} public keys labelled "${label}"; exactly one of each is required`);
    }
    const h = { priv: priv[0], pub: pub[0] };
    this.keyCache.set(label, h);
    return h;
  }

  /** A {@link Signer} for the key pair `label`, checked to be `algorithm`. */
  async signer(label: string, algorithm: KeyAlgorithm): Promise<Pkcs11Signer> {
    const { spki, publicKey } = await this.publicKey(label, algorithm);
    return new Pkcs11Signer(this, label, algorithm, spki, publicKey);
  }

  /** Closes every session and unloads the library when no other token uses it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.markDown("closed");
    releaseLibrary(this.options.library);
  }
}

/** Signs with a private key that stays in the token. */
export class Pkcs11Signer implements Signer {
  readonly signatureAlgorithm: Buffer;
  private readonly spec: AlgorithmSpec;

  constructor(
    readonly token: Pkcs11Token,
    readonly label: string,
    readonly keyAlgorithm: KeyAlgorithm,
    readonly spki: Buffer,
    readonly publicKey: KeyObject,
  ) {
    this.spec = ALGORITHMS[keyAlgorithm];
    this.signatureAlgorithm = this.spec.signatureAlgorithmDer;
  }

  async sign(tbs: Uint8Array): Promise<Buffer> {
    const digest = createHash(this.spec.hash).update(tbs).digest();
    const raw = await this.token.signDigest(this.label, this.spec, digest);
    return this.spec.family === "EC" ? ecdsaRawToDer(raw) : raw;
  }

  /** Raw PKCS#11 signature of a precomputed digest (r||s for ECDSA): the benchmark reference. */
  signRawDigest(digest: Buffer): Promise<Buffer> {
    return this.token.signDigest(this.label, this.spec, digest);
  }
}

/**
 * Installs an AES wrapping key in a token as CKA_TRUSTED (PKCS#11 v2.40 4.9: only the Security
 * Officer may set it), so keys generated for backup (CKA_WRAP_WITH_TRUSTED) can be wrapped under
 * it and under nothing else. The key value comes from the custodians' shares and is destroyed
 * from the token by the caller after the backup (`destroyWrappingKey`). Run it before any user
 * session of this process is logged in to the token (one login state per application).
 */
export function installTrustedWrappingKey(o: { library: string; tokenLabel: string; soPin: string; label: string; key: Buffer }): { leftoversDestroyed: number } {
  const lib = loadLibrary(o.library);
  const p11 = lib.module;
  try {
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === o.tokenLabel);
    if (!slot) throw new HsmUnavailableError(`no token labelled "${o.tokenLabel}" is present`);
    const s = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      p11.C_Login(s, pkcs11js.CKU_SO, o.soPin);
      try {
        // A wrapping key of this label left by an interrupted backup is useless (its value was
        // never kept outside the token) and would make the label ambiguous: destroyed first.
        p11.C_FindObjectsInit(s, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_LABEL, value: o.label },
        ]);
        const leftovers = p11.C_FindObjects(s, 16);
        p11.C_FindObjectsFinal(s);
        for (const h of leftovers) p11.C_DestroyObject(s, h);
        p11.C_CreateObject(s, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          // A token object (the SO's session ends before the user wraps), public so the SO can
          // create it, never readable (sensitive, not extractable), for wrapping only.
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: false },
          { type: pkcs11js.CKA_LABEL, value: o.label },
          { type: pkcs11js.CKA_VALUE, value: o.key },
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_UNWRAP, value: false },
          { type: pkcs11js.CKA_ENCRYPT, value: false },
          { type: pkcs11js.CKA_DECRYPT, value: false },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_TRUSTED, value: true },
        ]);
        return { leftoversDestroyed: leftovers.length };
      } finally {
        p11.C_Logout(s);
      }
    } finally {
      p11.C_CloseSession(s);
    }
  } finally {
    releaseLibrary(o.library);
  }
}
