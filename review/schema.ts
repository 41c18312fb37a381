/**
 * JSON Schema (draft-07) of `lanic-ca diff --format json` (a DiffReport). CI and other tools
 * may rely on it; tests validate real reports against it with ajv. Bump `schemaVersion` on any
 * incompatible change. Version 2: identical changes are one security entry with `subjects` and
 * `sites` (version 1 had one entry per subject and neither field).
 */
import { CHANGE_CLASSES } from "./types.js";

const strings = { type: "array", items: { type: "string" } } as const;

export const DIFF_REPORT_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://repository.ca.gov.la/schemas/lanic-ca-diff-report-2.json",
  title: "lanic-ca topology diff report",
  type: "object",
  additionalProperties: false,
  required: ["schemaVersion", "base", "head", "environments", "requiredApproval", "summary", "notes"],
  properties: {
    schemaVersion: { const: 2 },
    base: { type: "string" },
    head: { type: "string" },
    requiredApproval: {
      type: "object",
      additionalProperties: false,
      required: ["level", "roles", "approvers", "label", "reasons"],
      properties: {
        level: { enum: ["two-person", "security-officer", "standard"] },
        roles: strings,
        approvers: { type: "integer", minimum: 1 },
        label: { type: ["string", "null"] },
        reasons: strings,
      },
    },
    summary: {
      type: "object",
      additionalProperties: false,
      required: ["high", "medium", "low", "narrowing", "other", "stackResources"],
      properties: Object.fromEntries(["high", "medium", "low", "narrowing", "other", "stackResources"].map((k) => [k, { type: "integer", minimum: 0 }])),
    },
    notes: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["environment", "message"],
        properties: { environment: { type: ["string", "null"] }, message: { type: "string" } },
      },
    },
    environments: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "status", "security", "other", "stacks"],
        properties: {
          name: { type: "string" },
          status: { enum: ["added", "removed", "changed", "unchanged"] },
          security: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["class", "severity", "direction", "environment", "subject", "subjects", "sites", "summary", "evidence"],
              properties: {
                class: { enum: [...CHANGE_CLASSES] },
                severity: { enum: ["high", "medium", "low"] },
                direction: { enum: ["widening", "narrowing", "change"] },
                environment: { type: "string" },
                subject: { type: "string" },
                subjects: { type: "array", items: { type: "string" }, minItems: 1, uniqueItems: true },
                sites: { type: "array", items: { type: "string" }, uniqueItems: true },
                summary: { type: "string" },
                before: {},
                after: {},
                evidence: strings,
              },
            },
          },
          other: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["environment", "group", "entity", "kind", "fields"],
              properties: {
                environment: { type: "string" },
                group: { type: "string" },
                entity: { type: "string" },
                kind: { enum: ["added", "removed", "changed"] },
                fields: {
                  type: "array",
                  minItems: 1,
                  items: {
                    type: "object",
                    additionalProperties: false,
                    required: ["path"],
                    properties: { path: { type: "string" }, before: {}, after: {} },
                  },
                },
              },
            },
          },
          stacks: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["stack", "kind", "added", "removed", "changed"],
              properties: {
                stack: { type: "string" },
                kind: { enum: ["added", "removed", "changed"] },
                added: strings,
                removed: strings,
                changed: {
                  type: "array",
                  items: {
                    type: "object",
                    additionalProperties: false,
                    required: ["address", "paths"],
                    properties: { address: { type: "string" }, paths: strings },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
