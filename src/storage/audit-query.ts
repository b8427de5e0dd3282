import { CloisterError } from "../common/errors.ts";
import type { AuditEntry } from "./storage-backend.ts";

/** One condition of an audit query: `field` contains `text` (case-insensitive). */
export interface AuditCondition {
  readonly field: "user" | "message";
  readonly text: string;
  readonly negated: boolean;
}

const termPattern = /(-?)(?:(user|message):)?(?:"([^"]*)"|(\S+))/g;

/**
 * Parses the subset of Teaclave's query syntax (Tantivy) that its clients use: terms and
 * quoted phrases, optionally prefixed by `user:` or `message:` (the default field is
 * `message`) and negated with `-`. All conditions must match. An empty query matches all.
 */
export function parseAuditQuery(query: string): AuditCondition[] {
  const conditions: AuditCondition[] = [];
  for (const match of query.matchAll(termPattern)) {
    const [, minus, field, phrase, word] = match;
    const text = phrase ?? word ?? "";
    if (text === "AND") continue;
    if (text === "OR" || text === "NOT") {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `unsupported operator ${text} in audit query: all terms must match; use -term to negate`,
      );
    }
    conditions.push({
      field: field === "user" ? "user" : "message",
      text: text.toLowerCase(),
      negated: minus === "-",
    });
  }
  return conditions;
}

/** Tells whether an entry satisfies every condition. */
export function matchesAuditQuery(
  entry: AuditEntry,
  conditions: readonly AuditCondition[],
): boolean {
  return conditions.every((condition) => {
    const haystack = (condition.field === "user" ? entry.user : entry.message).toLowerCase();
    return haystack.includes(condition.text) !== condition.negated;
  });
}
