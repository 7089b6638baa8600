import { describe, expect, it } from 'vitest';
import { splitSqlStatements, statementKind } from './sql-statements.js';

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons and drops empty statements', () => {
    expect(splitSqlStatements('INSERT INTO t VALUES (1);\n\nINSERT INTO t VALUES (2);;  ')).toEqual([
      'INSERT INTO t VALUES (1)',
      'INSERT INTO t VALUES (2)',
    ]);
  });

  it('keeps semicolons inside quotes, escaped and doubled quotes included', () => {
    const sql = `INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'back\\';slash');UPDATE \`we;ird\` SET x = 1`;
    expect(splitSqlStatements(sql)).toEqual([
      `INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'back\\';slash')`,
      'UPDATE `we;ird` SET x = 1',
    ]);
  });

  it('ignores comments, including semicolons in them', () => {
    const sql = '-- first; still a comment\nCREATE TABLE t (id INT) /* a; b */;\n# hash; comment\n';
    expect(splitSqlStatements(sql)).toEqual(['CREATE TABLE t (id INT)']);
    expect(splitSqlStatements('-- only a comment\n/* and; this */')).toEqual([]);
  });

  it('does not take a double minus without a space for a comment (MySQL requires the space)', () => {
    expect(splitSqlStatements('UPDATE t SET x = 1--1;')).toEqual(['UPDATE t SET x = 1--1']);
  });
});

describe('statementKind', () => {
  it.each([
    ['CREATE TABLE users (id INT)', 'ddl'],
    ['  alter table users add column x int', 'ddl'],
    ['DROP INDEX i ON t', 'ddl'],
    ['RENAME TABLE a TO b', 'ddl'],
    ['TRUNCATE t', 'ddl'],
    ['INSERT INTO t VALUES (1)', 'dml'],
    ['UPDATE t SET a = 1', 'dml'],
    ['DELETE FROM t', 'dml'],
    ['START TRANSACTION', 'transaction-control'],
    ['COMMIT', 'transaction-control'],
    ['set autocommit = 0', 'transaction-control'],
  ])('%s → %s', (statement, kind) => {
    expect(statementKind(statement)).toBe(kind);
  });
});
