/** Dev, lab and tests only: SoftHSM2 tokens, CA certificates made in the token, throwaway TLS
 *  material. Nothing in a production role imports this folder (except the `init-token` lab command). */
export { createSoftHsmToken, findSoftHsmLibrary, SOFTHSM_LIBRARY_CANDIDATES, type SoftHsmToken, type CreateSoftHsmTokenOptions } from "./softhsm.js";
export { createCaCertificate, type CreateCaOptions } from "./test-ca.js";
export { createLabTls, type LabTls } from "./tls.js";
