/**
 * The HSM side of the ceremonies. Key generation, lookup and signing go through the shared
 * PKCS#11 adapter of pki-services; the one administrative operation it does not have — the
 * security officer setting the user PIN (C_InitPIN, PKCS#11 v2.40 5.6) at quorum
 * initialisation — is here, on a session of its own that is closed at once.
 */
import pkcs11js from "pkcs11js";
import { Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import type { Hsm } from "./schema.js";

export class HsmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HsmError";
  }
}

/** Logs in to the token with `pin`. One session: a ceremony signs one thing at a time. */
export async function openToken(hsm: Hsm, pin: string): Promise<Pkcs11Token> {
  try {
    return await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin, poolSize: 1 });
  } catch (err) {
    throw new HsmError(`cannot open token "${hsm.tokenLabel}" with ${hsm.library}: ${(err as Error).message}`);
  }
}

const code = (err: unknown) => (err as { code?: number }).code;

/**
 * Runs `fn` on a fresh session of the token `hsm.tokenLabel`, with the library initialised for
 * the duration only (so as not to disturb a Pkcs11Token of the same library opened later).
 */
function withRawSession<T>(hsm: Hsm, fn: (p11: pkcs11js.PKCS11, session: Buffer) => T): T {
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(hsm.library);
  } catch (err) {
    throw new HsmError(`cannot load PKCS#11 library ${hsm.library}: ${(err as Error).message}`);
  }
  let initialised = false;
  try {
    try {
      p11.C_Initialize();
      initialised = true;
    } catch (err) {
      if (code(err) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw err;
    }
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === hsm.tokenLabel);
    if (!slot) throw new HsmError(`no token labelled "${hsm.tokenLabel}" is present`);
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      return fn(p11, session);
    } finally {
      p11.C_CloseSession(session);
    }
  } finally {
    if (initialised) p11.C_Finalize();
    p11.close();
  }
}

/** The security officer sets the token's user PIN to `newPin` (quorum initialisation). */
export function initUserPin(hsm: Hsm, soPin: string, newPin: string): void {
  withRawSession(hsm, (p11, session) => {
    try {
      p11.C_Login(session, pkcs11js.CKU_SO, soPin);
    } catch (err) {
      if (code(err) === pkcs11js.CKR_PIN_INCORRECT) throw new HsmError(`the security officer PIN of token "${hsm.tokenLabel}" was refused (CKR_PIN_INCORRECT)`);
      throw new HsmError(`security officer login to token "${hsm.tokenLabel}" failed: ${(err as Error).message}`);
    }
    try {
      p11.C_InitPIN(session, newPin);
    } finally {
      p11.C_Logout(session);
    }
  });
}

/** The attributes that mark a private key for backup (ADR 0081: CKA_EXTRACTABLE and
 *  CKA_WRAP_WITH_TRUSTED, still CKA_SENSITIVE). Read on a session of its own while the user is
 *  logged in by an open Pkcs11Token of this process (private objects need the login). */
export function backupAttributes(hsm: Hsm, label: string): { sensitive: boolean; extractable: boolean; wrapWithTrusted: boolean } {
  return withRawSession(hsm, (p11, session) => {
    p11.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    const found = p11.C_FindObjects(session, 2);
    p11.C_FindObjectsFinal(session);
    if (found.length !== 1) throw new HsmError(`token "${hsm.tokenLabel}" holds ${found.length} private keys labelled "${label}"; exactly one is required`);
    const a = p11.C_GetAttributeValue(session, found[0], [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_WRAP_WITH_TRUSTED }]);
    const b = (i: number) => (a[i].value as Buffer)[0] === 1;
    return { sensitive: b(0), extractable: b(1), wrapWithTrusted: b(2) };
  });
}
