/**
 * The application state machine (ADR 0060). Every transition is one row of this table or one of
 * the service transitions below it; anything else is refused (style 9: deny by default). The
 * source documents' vetting: a vetting officer examines (accept / return / reject), a vetting
 * approver approves, and the two are different people (RFC 3647 5.2.4 separation of duties).
 */
export const STATES = ["submitted", "in_review", "accepted", "approved", "issued", "delivered", "returned", "rejected", "withdrawn", "expired", "revoked"] as const;
export type State = (typeof STATES)[number];

/** Trusted roles read from an operator certificate (its OU values, operator-client profile). */
export const ROLES = ["vetting-officer", "vetting-approver", "vetting-manager", "ra-operator"] as const;
export type Role = (typeof ROLES)[number];

export interface VettingAction {
  readonly from: readonly State[];
  readonly to: State;
  /** Roles allowed to take it (any one of them). */
  readonly roles: readonly Role[];
  /** A reason is required (returned, rejected, withdrawn). */
  readonly reason: boolean;
  readonly description: string;
}

/** Operator actions on one application: POST /api/v1/applications/{id}/{action}. */
export const VETTING_ACTIONS = {
  "start-review": { from: ["submitted"], to: "in_review", roles: ["vetting-officer"], reason: false, description: "a vetting officer takes the application for examination" },
  accept: { from: ["in_review"], to: "accepted", roles: ["vetting-officer"], reason: false, description: "the vetting officer accepts it for approval (recorded as its officer)" },
  return: { from: ["in_review"], to: "returned", roles: ["vetting-officer"], reason: true, description: "the vetting officer returns it to the applicant for correction" },
  reject: { from: ["in_review", "accepted"], to: "rejected", roles: ["vetting-officer", "vetting-approver"], reason: true, description: "refused, with the reason" },
  approve: {
    from: ["accepted"],
    to: "approved",
    roles: ["vetting-approver"],
    reason: false,
    description: "a vetting approver other than its officer approves it; with a CSR it is issued, without one an enrollment code is made",
  },
  withdraw: { from: ["submitted", "in_review", "returned", "accepted"], to: "withdrawn", roles: ["ra-operator"], reason: true, description: "withdrawn at the applicant's request" },
} as const satisfies Record<string, VettingAction>;
export type VettingActionName = keyof typeof VETTING_ACTIONS;

/** Transitions made by the service or the applicant (not by a vetting role), for the ADR and
 *  the OpenAPI document. */
export const OTHER_TRANSITIONS: readonly { readonly from: readonly State[]; readonly to: State; readonly by: string }[] = [
  { from: ["returned"], to: "submitted", by: "the applicant corrects it (PUT with the access token)" },
  { from: ["submitted", "returned"], to: "withdrawn", by: "the applicant (access token)" },
  { from: ["approved"], to: "issued", by: "the RA service, through the issuing CA (idempotency key = application id)" },
  { from: ["approved"], to: "expired", by: "the RA service, when its enrollment code expires unused" },
  { from: ["issued"], to: "delivered", by: "the applicant fetches the certificate and its revocation secret (once)" },
  { from: ["issued", "delivered"], to: "revoked", by: "an ra-operator (BR 7.2.2 reason) or the subscriber (revocation secret)" },
];

export const FINAL_STATES: readonly State[] = ["rejected", "withdrawn", "expired", "revoked"];
