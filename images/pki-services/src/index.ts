export * from "./config/schema.js";
export * as pkcs11 from "./pkcs11/index.js";
export * as pki from "./pki/index.js";
export { openDatabase, migrate, type Database, type Queryable } from "./storage/db.js";
export { CertificateStore, REVOCATION_REASONS, type RevocationReason, type CertificateRecord } from "./storage/store.js";
export { AuditLog, appendAudit, verifyAudit, type AuditRecord, type AuditVerification } from "./audit/log.js";
export { IssuingCa, ApiError } from "./issuing-ca/service.js";
export { serveIssuingCa, MAX_BODY_BYTES } from "./issuing-ca/http.js";
export { loadConfig, readConfigFile, type ConfigSource } from "./config/load.js";
