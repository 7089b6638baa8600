/**
 * Splits a migration file into its statements at top-level semicolons, skipping comments and
 * quoted text (a `;` inside a string or a comment does not end a statement). Statements are
 * sent one at a time, so the runner can tell a DDL file from a DML one and report which
 * statement failed. `DELIMITER` (stored routines) is a client command, not SQL: not supported.
 */
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-' && /[\s]/.test(sql[i + 2] ?? '\n')) {
      i = skipUntil(sql, i, '\n');
      current += ' ';
    } else if (ch === '#') {
      i = skipUntil(sql, i, '\n');
      current += ' ';
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      current += ' ';
    } else if (ch === "'" || ch === '"' || ch === '`') {
      const end = quotedEnd(sql, i, ch);
      current += sql.slice(i, end);
      i = end;
    } else if (ch === ';') {
      pushStatement(statements, current);
      current = '';
      i += 1;
    } else {
      current += ch;
      i += 1;
    }
  }
  pushStatement(statements, current);
  return statements;
}

function pushStatement(statements: string[], text: string) {
  const trimmed = text.trim();
  if (trimmed) statements.push(trimmed);
}

function skipUntil(sql: string, from: number, marker: string): number {
  const end = sql.indexOf(marker, from);
  return end === -1 ? sql.length : end + marker.length;
}

/** Index just past the closing quote; handles backslash escapes and doubled quotes. */
function quotedEnd(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '\\' && quote !== '`') {
      i += 2;
    } else if (ch === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** Statements that manage the transaction themselves: the runner owns it, so files may not. */
const TRANSACTION_CONTROL = /^(start\s+transaction|begin|commit|rollback|savepoint|release\s+savepoint|set\s+autocommit|xa)\b/i;

/**
 * Statements after which MySQL and MariaDB commit implicitly: they cannot take part in a
 * transaction, so a file holding one cannot be rolled back as a whole.
 */
const IMPLICIT_COMMIT = /^(create|alter|drop|rename|truncate|grant|revoke|lock|unlock|install|uninstall|analyze|optimize|repair|flush)\b/i;

export type StatementKind = 'ddl' | 'transaction-control' | 'dml';

export function statementKind(statement: string): StatementKind {
  const text = statement.trimStart();
  if (TRANSACTION_CONTROL.test(text)) return 'transaction-control';
  if (IMPLICIT_COMMIT.test(text)) return 'ddl';
  return 'dml';
}
