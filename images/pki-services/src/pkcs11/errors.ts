import pkcs11js from "pkcs11js";

/** The HSM cannot serve the request now (token absent, device error, sessions lost). The
 *  issuing CA answers 503 with {@link HsmUnavailableError.message} and reports unhealthy. */
export class HsmUnavailableError extends Error {
  constructor(
    message: string,
    readonly pkcs11Code?: number,
  ) {
    super(message);
    this.name = "HsmUnavailableError";
  }
}

/** A key with this label is missing, duplicated or of the wrong type (configuration error). */
export class KeyNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyNotFoundError";
  }
}

const NAMES = new Map<number, string>(
  Object.entries(pkcs11js)
    .filter(([k, v]) => k.startsWith("CKR_") && typeof v === "number")
    .map(([k, v]) => [v as number, k]),
);

/** Name of a CKR_ return value, e.g. 0xB3 → "CKR_SESSION_HANDLE_INVALID". */
export function ckrName(code: number): string {
  return NAMES.get(code) ?? `CKR_0x${code.toString(16)}`;
}

/** Return values after which the sessions or the token must be re-opened (the token went away,
 *  restarted, or logged us out). Anything else is a per-request failure. */
const LOST: ReadonlySet<number> = new Set([
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_GENERAL_ERROR,
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
  pkcs11js.CKR_KEY_HANDLE_INVALID,
  pkcs11js.CKR_SLOT_ID_INVALID,
]);

export function pkcs11Code(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

export function isConnectionLost(err: unknown): boolean {
  const code = pkcs11Code(err);
  return code !== undefined && LOST.has(code);
}
