#include "store/migrations.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Conventions: instants are BIGINT microseconds since the epoch (UTC); money is
 * BIGINT minor units; booleans are INTEGER 0/1; JSON documents are TEXT.
 * Capacity invariants are CHECK constraints as well as conditional updates, so
 * a bug in the engine fails loudly instead of overselling. */
static const char v1[] =
    "CREATE TABLE accounts ("
    " id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, timezone TEXT NOT NULL,"
    " currency TEXT NOT NULL, hold_seconds BIGINT NOT NULL DEFAULT 900, settings TEXT NOT NULL DEFAULT '{}',"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"

    "CREATE TABLE credentials ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), kind TEXT NOT NULL,"
    " public_id TEXT, secret_hash TEXT NOT NULL, label TEXT, created_at BIGINT NOT NULL, expires_at BIGINT,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX credentials_secret ON credentials(kind, secret_hash);"
    "CREATE INDEX credentials_public ON credentials(kind, public_id);"

    /* secrets the server itself must use, sealed with the server key */
    "CREATE TABLE account_secrets ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL, sealed TEXT NOT NULL,"
    " PRIMARY KEY (account_id, name));"

    /* catalog objects as validated JSON documents (see docs/MODEL.md) */
    "CREATE TABLE catalog ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), kind TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT,"
    " doc TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (account_id, kind, id));"
    "CREATE INDEX catalog_list ON catalog(account_id, kind, created_at, id);"
    "CREATE TABLE catalog_versions (account_id TEXT PRIMARY KEY, version BIGINT NOT NULL);"

    /* used = held + sold, per pool and occurrence ('' for undated); what is
     * sold is counted from tickets, so booking does not touch this hot row */
    "CREATE TABLE inventory ("
    " pool_id TEXT NOT NULL, occurrence TEXT NOT NULL, account_id TEXT NOT NULL, capacity BIGINT NOT NULL,"
    " used BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (pool_id, occurrence),"
    " CHECK (used >= 0 AND used <= capacity));"

    "CREATE TABLE carts ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, status TEXT NOT NULL, channel TEXT NOT NULL,"
    " occurrence TEXT NOT NULL, expires_at BIGINT, order_id TEXT, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX carts_expiry ON carts(status, expires_at);"
    "CREATE TABLE cart_holds ("
    " cart_id TEXT NOT NULL, pool_id TEXT NOT NULL, occurrence TEXT NOT NULL, amount BIGINT NOT NULL,"
    " PRIMARY KEY (cart_id, pool_id, occurrence));"

    "CREATE TABLE orders ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, number TEXT NOT NULL UNIQUE, status TEXT NOT NULL,"
    " channel TEXT NOT NULL, cart_id TEXT UNIQUE, external_id TEXT, email TEXT, customer_name TEXT,"
    " reseller_id TEXT, visit_date TEXT, product_type TEXT NOT NULL DEFAULT 'tickets', currency TEXT NOT NULL,"
    " total_gross BIGINT NOT NULL, total_net BIGINT NOT NULL, discount_total BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, change_seq BIGINT NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX orders_timeline ON orders(account_id, change_seq);"
    "CREATE INDEX orders_created ON orders(account_id, created_at, id);"
    "CREATE INDEX orders_email ON orders(account_id, email);"

    /* one row per admission: an issued ticket with its barcode and scan state */
    "CREATE TABLE tickets ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, order_id TEXT, line_id TEXT NOT NULL, product_id TEXT NOT NULL,"
    " event_id TEXT, occurrence TEXT NOT NULL, barcode TEXT NOT NULL UNIQUE, status TEXT NOT NULL,"
    " price_gross BIGINT NOT NULL DEFAULT 0, price_net BIGINT NOT NULL DEFAULT 0, discount BIGINT NOT NULL DEFAULT 0,"
    " valid_from BIGINT, valid_to BIGINT, scan_limit TEXT NOT NULL, scan_times BIGINT NOT NULL DEFAULT 1,"
    " max_scans BIGINT, time_duration BIGINT, scans_used BIGINT NOT NULL DEFAULT 0, inside INTEGER NOT NULL DEFAULT 0,"
    " first_scan_at BIGINT, last_scan_at BIGINT, redeemed_at BIGINT, day_key TEXT, day_scans BIGINT NOT NULL DEFAULT 0,"
    " invalidated_at BIGINT, version BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX tickets_order ON tickets(order_id);"
    "CREATE INDEX tickets_account ON tickets(account_id, created_at, id);"

    "CREATE TABLE payments ("
    " id @ID@, account_id TEXT NOT NULL, order_id TEXT NOT NULL, kind TEXT NOT NULL, provider TEXT, method TEXT,"
    " status TEXT NOT NULL, amount BIGINT NOT NULL, reference TEXT, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL, doc TEXT NOT NULL DEFAULT '{}');"
    "CREATE INDEX payments_order ON payments(order_id);"

    "CREATE TABLE scans ("
    " id @ID@, account_id TEXT NOT NULL, ticket_id TEXT, barcode TEXT NOT NULL, scanned_at BIGINT NOT NULL,"
    " direction TEXT NOT NULL, result TEXT NOT NULL, redeemed INTEGER NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE INDEX scans_ticket ON scans(ticket_id);"

    "CREATE TABLE counters (account_id TEXT NOT NULL, name TEXT NOT NULL, value BIGINT NOT NULL,"
    " PRIMARY KEY (account_id, name));"

    /* discount / voucher use, counted from real orders */
    "CREATE TABLE redemptions ("
    " id @ID@, account_id TEXT NOT NULL, object_kind TEXT NOT NULL, object_id TEXT NOT NULL, code TEXT,"
    " order_id TEXT, amount BIGINT NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE INDEX redemptions_object ON redemptions(object_id);"
    "CREATE TABLE voucher_codes ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, voucher_id TEXT NOT NULL, code TEXT NOT NULL,"
    " remaining BIGINT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " UNIQUE (account_id, code), CHECK (remaining >= 0));"

    /* webhooks: the outbox row is written in the same transaction as the change */
    "CREATE TABLE webhook_subscriptions ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL,"
    " secret_sealed TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, failing_since BIGINT,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE TABLE webhook_events ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, event TEXT NOT NULL, resource_url TEXT NOT NULL,"
    " payload TEXT NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE TABLE webhook_deliveries ("
    " event_id TEXT NOT NULL, subscription_id TEXT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,"
    " next_due BIGINT NOT NULL, last_attempt_at BIGINT, last_status_code BIGINT, last_error TEXT,"
    " PRIMARY KEY (event_id, subscription_id));"
    "CREATE INDEX webhook_due ON webhook_deliveries(status, next_due);"

    "CREATE TABLE rate_limits (key TEXT NOT NULL, window_start BIGINT NOT NULL, count BIGINT NOT NULL,"
    " PRIMARY KEY (key, window_start));";

/* Capacity rows keyed by account: pool ids are the caller's, and another
 * account's pool with the same id must not share, see or change its seats.
 * Carts become typed columns, their lines and holds encoded in the row (one
 * B-tree insert per cart, not one per line and hold); carts open or expired
 * at the upgrade are released (their seats given back), as a cart holds for
 * minutes. */
static const char v2[] =
    "CREATE TABLE inventory_by_account ("
    " account_id TEXT NOT NULL, pool_id TEXT NOT NULL, occurrence TEXT NOT NULL, capacity BIGINT NOT NULL,"
    " used BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (account_id, pool_id, occurrence),"
    " CHECK (used >= 0 AND used <= capacity))@SQLITE@ WITHOUT ROWID@BOTH@;"
    "INSERT INTO inventory_by_account (account_id, pool_id, occurrence, capacity, used)"
    " SELECT account_id, pool_id, occurrence, capacity, used FROM inventory;"
    "UPDATE inventory_by_account SET used = used - (SELECT COALESCE(SUM(h.amount), 0) FROM cart_holds h"
    " JOIN carts c ON c.id = h.cart_id WHERE c.status = 'open' AND c.account_id = inventory_by_account.account_id"
    " AND h.pool_id = inventory_by_account.pool_id AND h.occurrence = inventory_by_account.occurrence);"
    "DROP TABLE inventory;"
    "ALTER TABLE inventory_by_account RENAME TO inventory;"

    "UPDATE carts SET status = 'released' WHERE status IN ('open', 'expired');"
    "CREATE TABLE carts_typed ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, status TEXT NOT NULL, channel TEXT NOT NULL,"
    " occurrence TEXT NOT NULL, category_id TEXT, day BIGINT, start_time BIGINT, end_time BIGINT, starts_at BIGINT,"
    " ends_at BIGINT, external_id TEXT, extras TEXT, customer TEXT, priced INTEGER NOT NULL DEFAULT 0,"
    " price_includes_tax INTEGER NOT NULL DEFAULT 1, total BIGINT NOT NULL DEFAULT 0, currency TEXT NOT NULL DEFAULT '',"
    " lines TEXT NOT NULL DEFAULT '', holds TEXT NOT NULL DEFAULT '',"
    " expires_at BIGINT, order_id TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "INSERT INTO carts_typed (id, account_id, status, channel, occurrence, expires_at, order_id, created_at, updated_at)"
    " SELECT id, account_id, status, channel, occurrence, expires_at, order_id, created_at, updated_at FROM carts;"
    "DROP TABLE carts;"
    "DROP TABLE cart_holds;"
    "ALTER TABLE carts_typed RENAME TO carts;"
    "CREATE INDEX carts_expiry ON carts(status, expires_at);";

/* The scan rules' ticket flags as columns, so a scan reads no JSON. Tickets
 * booked before this carry them only in their doc (in_out never was copied
 * there, so it backfills as 0: how those tickets scanned all along). */
static const char v3[] =
    "ALTER TABLE tickets ADD COLUMN allow_overtime INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tickets ADD COLUMN in_out INTEGER NOT NULL DEFAULT 0;"
    "@SQLITE@"
    "UPDATE tickets SET allow_overtime = 1 WHERE json_valid(doc) AND json_type(doc, '$.allow_overtime') = 'true';"
    "UPDATE tickets SET in_out = 1 WHERE json_valid(doc) AND json_type(doc, '$.in_out') = 'true';"
    "@POSTGRES@"
    "UPDATE tickets SET allow_overtime = 1 WHERE doc::jsonb -> 'allow_overtime' = 'true'::jsonb;"
    "UPDATE tickets SET in_out = 1 WHERE doc::jsonb -> 'in_out' = 'true'::jsonb;"
    "@BOTH@";

/* One database-wide counter, bumped in the same transaction by every write that
 * changes a credential or an account's settings: server processes poll it to
 * drop their in-memory authentication caches (core/auth.c). */
static const char v4[] =
    "CREATE TABLE auth_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);"
    "INSERT INTO auth_version (id, version) VALUES (1, 0);";

/* bumped with each change to an account's webhook subscriptions, so that
 * each process can cache whether anyone listens (core/events.c) */
static const char v5[] = "CREATE TABLE webhook_versions (account_id TEXT PRIMARY KEY, version BIGINT NOT NULL);";

/* each subscription names the webhook format (a dialect's, core/webhooks.h) its
 * deliveries are sent in; the subscriptions made before formats existed were
 * Ticket Tailor's */
static const char v6[] = "ALTER TABLE webhook_subscriptions ADD COLUMN format TEXT NOT NULL DEFAULT 'tickettailor';";

/* The seats each ticket takes (pool, occurrence, amount), in the ticket's
 * row as carts keep their holds (store_holds_encode), so that giving them back
 * reads a column rather than the ticket's document and booking writes no
 * extra row. Tickets booked before this listed them in their doc's "pools". */
static const char v7[] =
    "ALTER TABLE tickets ADD COLUMN pools TEXT NOT NULL DEFAULT '';"
    "@SQLITE@"
    "UPDATE tickets SET pools = COALESCE((SELECT group_concat("
    "replace(replace(replace(json_extract(p.value, '$.pool_id'), '%', '%25'), char(9), '%09'), char(10), '%0A')"
    " || char(9) || replace(replace(replace(COALESCE(json_extract(p.value, '$.occurrence'), ''), '%', '%25'),"
    " char(9), '%09'), char(10), '%0A') || char(9) || COALESCE(json_extract(p.value, '$.amount'), 1) || char(10), '')"
    " FROM json_each(tickets.doc, '$.pools') p WHERE json_extract(p.value, '$.pool_id') IS NOT NULL), '')"
    " WHERE json_valid(doc) AND json_type(doc, '$.pools') = 'array';"
    "@POSTGRES@"
    "UPDATE tickets SET pools = COALESCE((SELECT string_agg("
    "replace(replace(replace(p ->> 'pool_id', '%', '%25'), E'\\t', '%09'), E'\\n', '%0A')"
    " || E'\\t' || replace(replace(replace(COALESCE(p ->> 'occurrence', ''), '%', '%25'), E'\\t', '%09'),"
    " E'\\n', '%0A') || E'\\t' || COALESCE((p ->> 'amount')::bigint, 1) || E'\\n', '')"
    " FROM jsonb_array_elements(tickets.doc::jsonb -> 'pools') p WHERE p ->> 'pool_id' IS NOT NULL), '')"
    " WHERE jsonb_typeof(tickets.doc::jsonb -> 'pools') = 'array';"
    "@BOTH@";

/* The server key's fingerprint (a keyed hash, never the key), recorded by the
 * first command that runs with a key, so that a process started with another
 * key refuses to run instead of storing credentials that never authenticate
 * (src/server_key.c); and the row /readyz rewrites to prove the database still
 * takes writes (store/health.c). */
static const char v8[] =
    "CREATE TABLE server_key (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL,"
    " recorded_at BIGINT NOT NULL);"
    "CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at BIGINT NOT NULL);"
    "INSERT INTO health_probe (id, probed_at) VALUES (1, 0);";

/* Idempotency-Key: one row per (account, key) a creating POST was sent with.
 * The row is inserted, without a response, by the first write transaction of
 * the request (store_write), so it commits or rolls back with the business
 * write; the response is filled in once the handler has answered. Rows are
 * kept 24 hours (store_idempotency_purge). */
static const char v9[] =
    "CREATE TABLE idempotency_keys ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), idempotency_key TEXT NOT NULL,"
    " request_hash TEXT NOT NULL, status BIGINT, content_type TEXT, location TEXT, body TEXT,"
    " created_at BIGINT NOT NULL,"
    " PRIMARY KEY (account_id, idempotency_key));"
    "CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);";

/* Hot pools spread over sub-rows (issue 10). A pool occurrence's seats live in
 * `shard` rows 0..N-1 whose capacities sum to the pool's (N from the store,
 * chosen when the rows are first made), each row with its own CHECK; the
 * functions below take a hold from one sub-row picked at random among those
 * with room that no other transaction has locked (SKIP LOCKED), so commits of
 * holds on one timeslot wait for the disk side by side instead of queueing on
 * one row lock; when every such row is locked, they wait for the first with
 * room in shard order. When no sub-row fits the hold alone they lock every
 * sub-row in shard order and spread the hold. Waits go in shard order only
 * (and pools in the caller's fixed order): a random order of waits deadlocked
 * under three processes, and each deadlock costs deadlock_timeout (1 s). The
 * search for one sub-row runs in a block with an exception handler (a
 * subtransaction) left by an exception when it finds none: FOR UPDATE keeps a
 * row it locked whose newer version turned out full, and only rolling the
 * subtransaction back releases it before the transaction waits in order.
 * Sold out raises check_violation, like the CHECK did, so the call can ride
 * in the commit's pipeline without its result being read first. SQLite keeps
 * one row (shard 0): its single writer serialises everything anyway. */
static const char v10[] =
    "ALTER TABLE inventory ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;"
    "@POSTGRES@"
    "ALTER TABLE inventory DROP CONSTRAINT inventory_by_account_pkey;"
    "ALTER TABLE inventory ADD PRIMARY KEY (account_id, pool_id, occurrence, shard);"

    /* Adds delta (a take's seats, or a give-back's as a negative) to one sub-row
     * that stays within 0..capacity: one no other transaction has locked, at
     * random, else (may_wait) the first in shard order. NULL when none will do:
     * the exception then rolls this function's subtransaction back, releasing
     * the rows it locked and found unfit. */
    "CREATE OR REPLACE FUNCTION bo_inventory_one_row(acc TEXT, pool TEXT, occ TEXT, delta BIGINT, may_wait BOOLEAN)"
    " RETURNS INTEGER LANGUAGE plpgsql AS $fn$\n"
    "DECLARE pick INTEGER;\n"
    "BEGIN\n"
    "  SELECT shard INTO pick FROM inventory WHERE account_id = acc AND pool_id = pool AND occurrence = occ\n"
    "    AND used + delta BETWEEN 0 AND capacity ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;\n"
    "  IF NOT FOUND AND may_wait THEN\n"
    "    SELECT shard INTO pick FROM inventory WHERE account_id = acc AND pool_id = pool AND occurrence = occ\n"
    "      AND used + delta BETWEEN 0 AND capacity ORDER BY shard LIMIT 1 FOR UPDATE;\n"
    "  END IF;\n"
    "  IF NOT FOUND THEN RAISE SQLSTATE 'P0002'; END IF;\n"
    "  UPDATE inventory SET used = used + delta WHERE account_id = acc AND pool_id = pool AND occurrence = occ\n"
    "    AND shard = pick;\n"
    "  RETURN pick;\n"
    "EXCEPTION WHEN no_data_found THEN\n"
    "  RETURN NULL;\n"
    "END $fn$;"

    "CREATE OR REPLACE FUNCTION bo_inventory_take(acc TEXT, pools TEXT[], occs TEXT[], caps BIGINT[],"
    " amounts BIGINT[], shards INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $fn$\n"
    "DECLARE i INTEGER; need BIGINT; got BIGINT; part BIGINT; r RECORD;\n"
    "BEGIN\n"
    "  FOR i IN 1 .. COALESCE(array_length(pools, 1), 0) LOOP\n"
    "    need := amounts[i];\n"
    "    CONTINUE WHEN need <= 0;\n"
    "    CONTINUE WHEN bo_inventory_one_row(acc, pools[i], occs[i], need, true) IS NOT NULL;\n"
    "    IF caps[i] >= 0 AND NOT EXISTS (SELECT 1 FROM inventory WHERE account_id = acc AND pool_id = pools[i]\n"
    "        AND occurrence = occs[i]) THEN\n"
    "      INSERT INTO inventory (account_id, pool_id, occurrence, shard, capacity, used)\n"
    "        SELECT acc, pools[i], occs[i], k, caps[i] / GREATEST(shards, 1)\n"
    "               + CASE WHEN k < caps[i] % GREATEST(shards, 1) THEN 1 ELSE 0 END, 0\n"
    "          FROM generate_series(0, GREATEST(shards, 1) - 1) k\n"
    "        ON CONFLICT DO NOTHING;\n"
    "    END IF;\n"
    "    got := 0;\n"
    "    FOR r IN SELECT shard, capacity - used AS room FROM inventory WHERE account_id = acc\n"
    "        AND pool_id = pools[i] AND occurrence = occs[i] ORDER BY shard FOR UPDATE LOOP\n"
    "      EXIT WHEN got >= need;\n"
    "      CONTINUE WHEN r.room <= 0;\n"
    "      part := LEAST(r.room, need - got);\n"
    "      UPDATE inventory SET used = used + part WHERE account_id = acc AND pool_id = pools[i]\n"
    "        AND occurrence = occs[i] AND shard = r.shard;\n"
    "      got := got + part;\n"
    "    END LOOP;\n"
    "    IF got < need THEN\n"
    "      RAISE EXCEPTION 'sold out' USING ERRCODE = 'check_violation', CONSTRAINT = 'inventory_sold_out';\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  RETURN 1;\n"
    "END $fn$;"

    "CREATE OR REPLACE FUNCTION bo_inventory_give_back(acc TEXT, pools TEXT[], occs TEXT[], amounts BIGINT[])"
    " RETURNS INTEGER LANGUAGE plpgsql AS $fn$\n"
    "DECLARE i INTEGER; need BIGINT; part BIGINT; seen BOOLEAN; r RECORD;\n"
    "BEGIN\n"
    "  FOR i IN 1 .. COALESCE(array_length(pools, 1), 0) LOOP\n"
    "    need := amounts[i];\n"
    "    CONTINUE WHEN need <= 0;\n"
    "    CONTINUE WHEN bo_inventory_one_row(acc, pools[i], occs[i], -need, false) IS NOT NULL;\n"
    "    seen := false;\n"
    "    FOR r IN SELECT shard, used FROM inventory WHERE account_id = acc AND pool_id = pools[i]\n"
    "        AND occurrence = occs[i] ORDER BY shard FOR UPDATE LOOP\n"
    "      seen := true;\n"
    "      EXIT WHEN need <= 0;\n"
    "      CONTINUE WHEN r.used <= 0;\n"
    "      part := LEAST(r.used, need);\n"
    "      UPDATE inventory SET used = used - part WHERE account_id = acc AND pool_id = pools[i]\n"
    "        AND occurrence = occs[i] AND shard = r.shard;\n"
    "      need := need - part;\n"
    "    END LOOP;\n"
    "    IF seen AND need > 0 THEN\n"
    "      RAISE EXCEPTION 'more given back than held' USING ERRCODE = 'check_violation',"
    " CONSTRAINT = 'inventory_give_back';\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  RETURN 1;\n"
    "END $fn$;"

    "CREATE OR REPLACE FUNCTION bo_inventory_set_capacity(acc TEXT, pool TEXT, cap BIGINT)"
    " RETURNS INTEGER LANGUAGE plpgsql AS $fn$\n"
    "BEGIN\n"
    "  PERFORM 1 FROM inventory WHERE account_id = acc AND pool_id = pool ORDER BY occurrence, shard FOR UPDATE;\n"
    "  IF EXISTS (SELECT 1 FROM inventory WHERE account_id = acc AND pool_id = pool GROUP BY occurrence\n"
    "      HAVING SUM(used) > cap) THEN\n"
    "    RAISE EXCEPTION 'capacity below what is held or sold' USING ERRCODE = 'check_violation',"
    " CONSTRAINT = 'inventory_capacity';\n"
    "  END IF;\n"
    "  UPDATE inventory i SET capacity = t.used + t.spare / t.k + CASE WHEN t.r < t.spare % t.k THEN 1 ELSE 0 END\n"
    "    FROM (SELECT occurrence, shard, used, cap - CAST(SUM(used) OVER w AS BIGINT) AS spare, COUNT(*) OVER w AS k,\n"
    "                 ROW_NUMBER() OVER (PARTITION BY occurrence ORDER BY shard) - 1 AS r\n"
    "            FROM inventory WHERE account_id = acc AND pool_id = pool WINDOW w AS (PARTITION BY occurrence)) t\n"
    "   WHERE i.account_id = acc AND i.pool_id = pool AND i.occurrence = t.occurrence AND i.shard = t.shard;\n"
    "  RETURN 1;\n"
    "END $fn$;"
    "@BOTH@";

/* Ticket Tailor's check-in list pages an account's redeeming scans by id. */
static const char v11[] = "CREATE INDEX scans_account_redeemed ON scans(account_id, redeemed, id);";


/* The payment step (issue 12, docs/PAYMENTS.md). A payment session is one
 * attempt to pay an open order through a provider: its id is the secret of
 * its hosted page (128 random bits), csrf the page form's token, due_at the
 * order's hold deadline. released_at is set, on every session of the order,
 * when the deadline passed and the order's seats went back: a late success
 * re-holds the tickets invalidated at exactly that instant. An account in
 * test mode may use the test provider (the demo account is). */
static const char v18[] =
    "CREATE TABLE payment_sessions ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, order_id TEXT NOT NULL, provider TEXT NOT NULL,"
    " method TEXT NOT NULL, status TEXT NOT NULL, amount BIGINT NOT NULL, fee BIGINT NOT NULL,"
    " currency TEXT NOT NULL, due_at BIGINT NOT NULL, success_url TEXT NOT NULL, failure_url TEXT NOT NULL,"
    " cancel_url TEXT NOT NULL, expired_url TEXT NOT NULL, csrf TEXT NOT NULL, provider_ref TEXT,"
    " redirect_url TEXT NOT NULL,"
    " reason TEXT, released_at BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX payment_sessions_order ON payment_sessions(account_id, order_id);"
    "CREATE INDEX payment_sessions_due ON payment_sessions(released_at, due_at);"
    "ALTER TABLE accounts ADD COLUMN test_mode INTEGER NOT NULL DEFAULT 0;";

/* Access keys that lock an event's shop (issue 12): keyed hashes only, like
 * credentials; two accounts may lock events of the same id with the same key. */
static const char v19[] =
    "CREATE TABLE event_access_keys ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), event_id TEXT NOT NULL, key_hash TEXT NOT NULL,"
    " label TEXT NOT NULL, created_at BIGINT NOT NULL,"
    " PRIMARY KEY (account_id, event_id, key_hash));";

/* Ticket Tailor's event pages count each occurrence's live tickets and their
 * orders (store/occurrence_counts.c): one index range per page of events
 * instead of a scan of the account's tickets. Occurrence first: led by
 * account_id, SQLite (without statistics) took it over tickets_order for
 * "WHERE order_id = ? AND account_id = ?" and read all the account's tickets
 * on every payment (bench/cm-checkout, docs/PERFORMANCE.md). */
static const char v20[] = "CREATE INDEX tickets_occurrence ON tickets(occurrence, account_id);";

/* Confirmation mail: an account's SMTP settings (the password sealed with the
 * server key, like webhook secrets) and the mail outbox, one row per order,
 * written in the transaction that confirmed the order; the sender claims rows
 * by moving next_due, as webhook deliveries are claimed. */
static const char v21[] =
    "CREATE TABLE mail_settings ("
    " account_id TEXT PRIMARY KEY REFERENCES accounts(id), enabled INTEGER NOT NULL DEFAULT 0, host TEXT,"
    " port BIGINT NOT NULL DEFAULT 587, security TEXT NOT NULL DEFAULT 'starttls', username TEXT,"
    " password_sealed TEXT, from_address TEXT, from_name TEXT, reply_to TEXT, updated_at BIGINT NOT NULL);"
    "CREATE TABLE mail_outbox ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, order_id TEXT NOT NULL, recipient TEXT NOT NULL,"
    " status TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, last_error TEXT, next_due BIGINT NOT NULL,"
    " sent_at BIGINT, created_at BIGINT NOT NULL, UNIQUE (order_id, account_id));"
    "CREATE INDEX mail_outbox_due ON mail_outbox(status, next_due);";

/* Tickets sold per price tier (store/price_tiers_store.c): the conditional
 * update decides, the CHECK stands behind it. */
static const char v22[] =
    "CREATE TABLE price_tier_sales ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), product_id TEXT NOT NULL, occurrence TEXT NOT NULL,"
    " tier_id TEXT NOT NULL, quantity BIGINT NOT NULL, used BIGINT NOT NULL,"
    " CHECK (used >= 0), CHECK (quantity = 0 OR used <= quantity),"
    " PRIMARY KEY (account_id, product_id, occurrence, tier_id));"
    /* a subscription's label (Fourvenues' webhook endpoints have a name) */
    "ALTER TABLE webhook_subscriptions ADD COLUMN name TEXT NOT NULL DEFAULT '';";

/* The reconciler asks a provider about each open session at most every
 * PAYMENT_RECONCILE_EVERY_SECONDS (core/payment.c): it records when it last did. */
static const char v23[] =
    "ALTER TABLE payment_sessions ADD COLUMN reconciled_at BIGINT;"
    "CREATE INDEX payment_sessions_open ON payment_sessions(status, provider);";
/* Convious pricing (store/inventory_refs_store.c, store/analytics_store.c):
 * the caller's inventory references with their pricing settings and seats left
 * (one row per reference; per day and start time, -1 for the whole day), the
 * sales history of references from analytics OrderCreated items, and the
 * browsers' analytics events with their daily counters (pruned after the
 * retention; ip_prefix is a /24 or /48, never a full address). */
static const char v26[] =
    "CREATE TABLE inventory_refs ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), reference TEXT NOT NULL, name TEXT NOT NULL,"
    " availability BIGINT, min_price BIGINT NOT NULL, max_price BIGINT NOT NULL, step BIGINT NOT NULL,"
    " gate_price BIGINT NOT NULL, average_target BIGINT NOT NULL, removed INTEGER NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (account_id, reference));"
    "CREATE TABLE inventory_ref_seats ("
    " account_id TEXT NOT NULL, reference TEXT NOT NULL, day BIGINT NOT NULL, start_time BIGINT NOT NULL,"
    " seats_left BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (account_id, reference, day, start_time));"
    "CREATE TABLE inventory_ref_sales ("
    " account_id TEXT NOT NULL, order_id TEXT NOT NULL, line BIGINT NOT NULL, reference TEXT NOT NULL,"
    " quantity BIGINT NOT NULL, unit_price BIGINT NOT NULL, event_day BIGINT, sold_at BIGINT NOT NULL,"
    " PRIMARY KEY (account_id, order_id, line));"
    "CREATE INDEX inventory_ref_sales_ref ON inventory_ref_sales(account_id, reference, sold_at);"
    "CREATE TABLE analytics_events ("
    " id @ID@, account_id TEXT NOT NULL, kind TEXT NOT NULL, cookie_id TEXT NOT NULL, event_time BIGINT NOT NULL,"
    " received_at BIGINT NOT NULL, ip_prefix TEXT NOT NULL, product_kind TEXT NOT NULL, product_key TEXT NOT NULL,"
    " order_id TEXT, detail TEXT NOT NULL);"
    "CREATE INDEX analytics_events_received ON analytics_events(received_at);"
    "CREATE INDEX analytics_events_account ON analytics_events(account_id, received_at);"
    /* a counter is spread over shards (a batch adds to one): concurrent batches rarely wait for each other */
    "CREATE TABLE analytics_daily ("
    " account_id TEXT NOT NULL, day BIGINT NOT NULL, kind TEXT NOT NULL, product_key TEXT NOT NULL,"
    " shard BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (account_id, day, kind, product_key, shard));";
/* What of a payment went back (store/order_changes.c): a ticket refund gives
 * back part of a payment, and later ones only the rest. Payments refunded
 * whole before this gave back all they took. */
static const char v25[] = "ALTER TABLE payments ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0;"
                          "UPDATE payments SET refunded = amount WHERE kind = 'payment' AND status = 'refunded';";
/* Dynamic pricing's per-product settings (store/pricing_store.c); absent or
 * dynamic = 0: the product's price tables. */
static const char v27[] =
    "CREATE TABLE pricing_settings ("
    " account_id TEXT NOT NULL REFERENCES accounts(id), product_id TEXT NOT NULL, dynamic INTEGER NOT NULL,"
    " min_price BIGINT NOT NULL, max_price BIGINT NOT NULL, step BIGINT NOT NULL, gate_price BIGINT NOT NULL,"
    " average_target BIGINT NOT NULL, max_change_per_hour BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " PRIMARY KEY (account_id, product_id));";
/* Fourvenues checkout (src/api/fourvenues/checkout.c): the account's platform
 * fee per ticket (`discocil`; /admin/v1/payment_settings). */
static const char v24[] = "ALTER TABLE accounts ADD COLUMN platform_fee BIGINT NOT NULL DEFAULT 0;";

/* SQLite: analytics events move to the attached `analytics` file
 * (db_sqlite.c), so their inserts fill its WAL, not the one a booking's fsync
 * writes. Across two WAL files the move is atomic per file, hence IF NOT
 * EXISTS and OR IGNORE: a move cut short runs again. PostgreSQL keeps them. */
static const char v28[] =
    "@SQLITE@"
    "CREATE TABLE IF NOT EXISTS analytics.analytics_events ("
    " id @ID@, account_id TEXT NOT NULL, kind TEXT NOT NULL, cookie_id TEXT NOT NULL, event_time BIGINT NOT NULL,"
    " received_at BIGINT NOT NULL, ip_prefix TEXT NOT NULL, product_kind TEXT NOT NULL, product_key TEXT NOT NULL,"
    " order_id TEXT, detail TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS analytics.analytics_events_received ON analytics_events(received_at);"
    "CREATE INDEX IF NOT EXISTS analytics.analytics_events_account ON analytics_events(account_id, received_at);"
    "INSERT OR IGNORE INTO analytics.analytics_events SELECT * FROM main.analytics_events;"
    "DROP TABLE main.analytics_events;"
    "@POSTGRES@SELECT 1;";

/* Nothing reads analytics events by account (pruning goes by received_at):
 * the index cost every ingested event a third B-tree insert and its bytes
 * in the WAL and the checkpoint (docs/PERFORMANCE.md, issue 14). */
static const char v29[] = "@SQLITE@DROP INDEX IF EXISTS analytics.analytics_events_account;"
                          "@POSTGRES@DROP INDEX IF EXISTS analytics_events_account;";

/* The analytics counters and rate windows join the raw events: on SQLite in
 * the attached file, which only the analytics writer writes
 * (store_write_analytics), so a booking never waits behind their updates.
 * The rate windows leave rate_limits for a table of their own there; they
 * last a minute, so they are dropped rather than moved. Across two WAL files
 * the move is atomic per file, hence IF NOT EXISTS and OR IGNORE: a move cut
 * short runs again. */
static const char v30[] =
    "@SQLITE@"
    "CREATE TABLE IF NOT EXISTS analytics.analytics_daily ("
    " account_id TEXT NOT NULL, day BIGINT NOT NULL, kind TEXT NOT NULL, product_key TEXT NOT NULL,"
    " shard BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (account_id, day, kind, product_key, shard));"
    "INSERT OR IGNORE INTO analytics.analytics_daily SELECT * FROM main.analytics_daily;"
    "DROP TABLE main.analytics_daily;"
    "CREATE TABLE IF NOT EXISTS analytics.analytics_rates ("
    "@POSTGRES@"
    "CREATE TABLE analytics_rates ("
    "@BOTH@"
    " key TEXT NOT NULL, window_start BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (key, window_start));"
    "DELETE FROM rate_limits WHERE key LIKE 'cpa:%';";

/* Ascending by version: the runner applies every version above the current one in array order. */
const migration migrations[] = {
    {1, "initial schema", v1},
    {2, "capacity scoped by account; typed carts", v2},
    {3, "ticket scan flags as columns", v3},
    {4, "auth version", v4},
    {5, "webhook subscription versions", v5},
    {6, "webhook subscription formats", v6},
    {7, "the seats of each ticket in a column", v7},
    {8, "server key fingerprint; readiness probe row", v8},
    {9, "idempotency keys", v9},
    {10, "inventory sub-rows for hot pools", v10},
    {11, "scans by account for the check-in list", v11},
    {18, "payment sessions; account test mode", v18},
    {19, "event access keys", v19},
    {20, "tickets by occurrence for event totals", v20},
    {21, "confirmation mail settings and outbox", v21},
    {22, "price tier counts; webhook subscription names", v22},
    {23, "when each open payment session was last asked of its provider", v23},
    {24, "platform fee per account", v24},
    {25, "what of each payment was refunded", v25},
    {26, "Convious pricing: inventory references, their sales, analytics events", v26},
    {27, "dynamic pricing settings", v27},
    {28, "SQLite: analytics events in their own attached file", v28},
    {29, "analytics events without the unused by-account index", v29},
    {30, "analytics counters and rate windows beside the analytics events", v30},
};
const size_t migrations_count = sizeof migrations / sizeof migrations[0];

/* Marks in migration text: @ID@ becomes the dialect's auto-increment key;
 * text after @SQLITE@ or @POSTGRES@ is kept for that dialect only, until
 * @BOTH@ (or another section mark). */
typedef enum { SECTION_BOTH, SECTION_SQLITE, SECTION_POSTGRES } section;

static const struct {
    const char *mark;
    section to;
} section_marks[] = {{"@BOTH@", SECTION_BOTH}, {"@SQLITE@", SECTION_SQLITE}, {"@POSTGRES@", SECTION_POSTGRES}};

/* Length of the section mark at p (0 if none); sets *to. */
static size_t section_mark(const char *p, section *to)
{
    for (size_t i = 0; i < sizeof section_marks / sizeof section_marks[0]; i++) {
        size_t n = strlen(section_marks[i].mark);
        if (strncmp(p, section_marks[i].mark, n) == 0) {
            *to = section_marks[i].to;
            return n;
        }
    }
    return 0;
}

char *migration_sql(const migration *m, db_dialect d)
{
    const char *id = d == DB_DIALECT_POSTGRES ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
    section mine = d == DB_DIALECT_POSTGRES ? SECTION_POSTGRES : SECTION_SQLITE;
    size_t n = strlen(m->sql) + 1, idlen = strlen(id);
    for (const char *p = m->sql; (p = strstr(p, "@ID@")); p += 4) n += idlen;
    char *out = malloc(n), *o = out;
    section in = SECTION_BOTH;
    for (const char *p = m->sql; *p;) {
        size_t mark = section_mark(p, &in);
        if (mark) {
            p += mark;
            continue;
        }
        bool keep = in == SECTION_BOTH || in == mine, is_id = strncmp(p, "@ID@", 4) == 0;
        if (keep && is_id) {
            memcpy(o, id, idlen);
            o += idlen;
        } else if (keep) {
            *o++ = *p;
        }
        p += is_id ? 4 : 1;
    }
    *o = 0;
    return out;
}
