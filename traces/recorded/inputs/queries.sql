-- traces/recorded/inputs/queries.sql - a short SQLite workload for tools/record-all
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO t(name, score) SELECT 'name' || i, (i * 37) % 101 FROM n;
CREATE INDEX t_score ON t(score);
SELECT count(*), avg(score), max(name) FROM t WHERE score > 50;
DELETE FROM t WHERE id % 3 = 0;
VACUUM;
