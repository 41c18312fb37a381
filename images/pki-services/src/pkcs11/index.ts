export { installTrustedWrappingKey, Pkcs11Token, Pkcs11Signer, type Signer, type TokenOptions, type TokenHealth } from "./token.js";
export { HsmUnavailableError, KeyNotFoundError, ckrName, isConnectionLost } from "./errors.js";
export { ALGORITHMS, ecdsaRawToDer, type AlgorithmSpec, type HashName } from "./algorithms.js";
export { hsmWebCrypto, type HsmWebCrypto } from "./webcrypto.js";
