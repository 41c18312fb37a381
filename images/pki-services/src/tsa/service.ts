/**
 * The time-stamping authority (RFC 3161): parse → clock check → TSTInfo → sign with the key in
 * the HSM → verify the signature → record the token and its audit record in one transaction →
 * answer. A token is only handed out once it is recorded; a request the TSA refuses gets a
 * rejection with its PKIFailureInfo and an audit record, never an exception.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { appendAudit } from "../audit/log.js";
import type { Signer } from "../pkcs11/index.js";
import { ALGORITHMS } from "../pkcs11/algorithms.js";
import { randomSerial, serialHex } from "../pki/serial.js";
import type { Database } from "../storage/db.js";
import type { ClockStatus } from "./clock.js";
import { TokenRecorder } from "./recorder.js";
import {
  grantedResponse,
  parseTimeStampRequest,
  rejectionResponse,
  signedAttributes,
  timeStampToken,
  TsaRequestError,
  tsaCertificateInfo,
  tstInfo,
  type Accuracy,
  type FailureInfo,
  type TimeStampRequest,
  type TsaCertificateInfo,
} from "./protocol.js";

export interface TsaOptions {
  /** The TSA's name in the environment (its audit actor is `tsa:<name>`). */
  readonly name: string;
  readonly signer: Signer;
  /** DER of the TSA certificate (id-kp-timeStamping, critical: RFC 3161 2.3). */
  readonly certificate: Buffer;
  /** DER of the CA certificates above it, placed in tokens after the TSA's on certReq. */
  readonly chain?: readonly Buffer[];
  /** The TSA policy OID put in every TSTInfo (from the CP arc). */
  readonly policyOid: string;
  /** reqPolicy values accepted (RFC 3161 2.4.1); the TSA's own policy always is. */
  readonly acceptedPolicies?: readonly string[];
  readonly accuracy: Accuracy;
  /** Whether stamping is allowed now (the clock guard). */
  readonly clock: { status(): ClockStatus };
  readonly db: Database;
  /** Put the TSA's subject in TSTInfo.tsa (RFC 3161 2.4.2). @default true */
  readonly includeTsaName?: boolean;
}

export interface StampResult {
  /** DER TimeStampResp. */
  readonly body: Buffer;
  readonly granted: boolean;
  readonly serial?: string;
  readonly failure?: FailureInfo;
  readonly message?: string;
}

/** Audit details are kept short (the audit log escapes what PostgreSQL cannot store). */
const safe = (s: string): string => s.slice(0, 300);

export class TimeStampAuthority {
  readonly actor: string;
  private readonly cert: TsaCertificateInfo;
  private readonly publicKey: KeyObject;
  private readonly accepted: ReadonlySet<string>;
  private readonly recorder: TokenRecorder;

  constructor(private readonly o: TsaOptions) {
    this.actor = `tsa:${o.name}`;
    this.cert = tsaCertificateInfo(o.certificate);
    this.publicKey = createPublicKey({ key: o.signer.spki, format: "der", type: "spki" });
    if (!this.cert.spki.equals(o.signer.spki)) throw new Error(`the TSA certificate's public key is not the key '${o.name}' signs with in the HSM`);
    this.accepted = new Set([o.policyOid, ...(o.acceptedPolicies ?? [])]);
    this.recorder = new TokenRecorder(o.db, this.actor);
  }

  /** Answers one DER TimeStampReq. Never throws for what the request holds; throws only when
   *  the HSM or the database fails (the HTTP shell answers systemFailure / 503 then). */
  async stamp(requestDer: Buffer, client: string): Promise<StampResult> {
    let request: TimeStampRequest;
    try {
      request = parseTimeStampRequest(requestDer);
      if (request.policy && !this.accepted.has(request.policy)) throw new TsaRequestError("unacceptedPolicy", `policy ${request.policy} is not accepted; accepted: ${[...this.accepted].join(", ")}`);
      const clock = this.o.clock.status();
      if (!clock.synchronised) throw new TsaRequestError("timeNotAvailable", `the TSA's clock is not synchronised: ${clock.reason}`);
    } catch (err) {
      if (!(err instanceof TsaRequestError)) throw err;
      await this.o.db.transaction((tx) => appendAudit(tx, "tsa.stamp.rejected", this.actor, { client: safe(client), failure: err.failure, reason: safe(err.message) }));
      return { body: rejectionResponse(err.failure, err.message), granted: false, failure: err.failure, message: err.message };
    }

    const serial = randomSerial();
    const genTime = new Date();
    const tst = tstInfo({ policy: this.o.policyOid, request, serial, genTime, accuracy: this.o.accuracy, tsaName: this.o.includeTsaName === false ? undefined : this.cert.subject });
    const digest = ALGORITHMS[this.o.signer.keyAlgorithm].hash;
    const signedAttrs = signedAttributes(tst, digest, this.cert);
    const signature = await this.o.signer.sign(signedAttrs);
    // Verify after sign (as the issuing CA does): a faulty HSM signature is never handed out.
    if (!verify(digest, signedAttrs, this.publicKey, signature)) throw new Error("the HSM returned a signature that does not verify with the TSA's public key");
    const token = timeStampToken({
      tst,
      digest,
      signedAttrs,
      signature,
      cert: this.cert,
      signatureAlgorithm: this.o.signer.signatureAlgorithm,
      certificates: request.certReq ? [this.cert.der, ...(this.o.chain ?? [])] : [],
    });
    const hex = serialHex(serial);
    await this.recorder.record({
      serial: hex,
      tsaName: this.o.name,
      policy: this.o.policyOid,
      genTime: genTime.toISOString(),
      hash: request.hash,
      imprint: request.hashedMessage.toString("hex"),
      nonce: request.nonce?.toString("hex") ?? null,
      token,
      audit: { client: safe(client), serial: hex, genTime: genTime.toISOString(), hash: request.hash, imprint: request.hashedMessage.toString("hex") },
    });
    return { body: grantedResponse(token), granted: true, serial: hex };
  }
}
