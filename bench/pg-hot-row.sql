-- The raw ceiling for one booking on PostgreSQL: the same conditional update
-- of one hot counter row plus one insert, as bare SQL (pgbench -f).
\set code random(1, 1000000000)
BEGIN;
UPDATE bench_inventory SET used = used + 1 WHERE id = 1 AND used + 1 <= capacity;
INSERT INTO bench_tickets (barcode) VALUES (:code);
END;
