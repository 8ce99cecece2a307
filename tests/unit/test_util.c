/* Money, tax rounding (with the seed documents' own examples), dates, time
 * zones and DST, ISO 8601 parsing, durations, tokens. */
#include "check.h"
#include "util/money.h"
#include "util/secure.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include <stdlib.h>
#include <string.h>

static void test_money(void)
{
    char buf[32];
    money_format(4920, 2, buf, sizeof buf);
    CHECK(!strcmp(buf, "49.20"), "money_format 49.20");
    money_format(-5, 2, buf, sizeof buf);
    CHECK(!strcmp(buf, "-0.05"), "money_format negative");
    money_format(0, 2, buf, sizeof buf);
    CHECK(!strcmp(buf, "0.00"), "money_format zero");
    money_format(1950, 0, buf, sizeof buf);
    CHECK(!strcmp(buf, "1950"), "money_format zero decimals");
    money m;
    CHECK(money_parse("49.2", 2, &m) && m == 4920, "money_parse 49.2");
    CHECK(money_parse("49", 2, &m) && m == 4900, "money_parse whole");
    CHECK(money_parse("0.10", 2, &m) && m == 10, "money_parse cents");
    CHECK(!money_parse("1.234", 2, &m), "money_parse rejects 3 decimals");
    CHECK(money_parse("1.230", 2, &m) && m == 123, "money_parse trailing zero ok");
    CHECK(!money_parse("1e5", 2, &m), "money_parse rejects exponent");
    CHECK(!money_parse("", 2, &m) && !money_parse("abc", 2, &m) && !money_parse(".5", 2, &m), "money_parse junk");
    CHECK(!money_parse("99999999999999999999", 2, &m), "money_parse overflow");
    int32_t bp;
    CHECK(rate_parse("20.00", &bp) && bp == 2000, "rate_parse 20.00");
    CHECK(!rate_parse("101", &bp), "rate_parse > 100%");
    rate_format(1900, buf, sizeof buf);
    CHECK(!strcmp(buf, "19.00"), "rate_format");
}

static void test_tax(void)
{
    /* Convious order example: 5.00 incl. 20% VAT -> 4.17 excl., tax 0.83, taxable 5.00 */
    tax_split s = tax_compute(500, 2000, 10000, true);
    CHECK(s.net == 417 && s.tax == 83 && s.taxable == 500 && s.gross == 500, "5.00 incl 20% -> 4.17 + 0.83");
    /* Demo: 19.50 incl. 21% -> 16.12 net, 3.38 tax */
    s = tax_compute(1950, 2100, 10000, true);
    CHECK(s.net == 1612 && s.tax == 338, "19.50 incl 21%");
    /* Exclusive: 10.00 + 21% = 12.10 */
    s = tax_compute(1000, 2100, 10000, false);
    CHECK(s.gross == 1210 && s.tax == 210, "10.00 excl 21%");
    /* Half the price taxed (priceProportionPercentage 50.00) */
    s = tax_compute(1000, 2000, 5000, true);
    CHECK(s.taxable == 500 && s.tax == 83 && s.net == 917, "proportion 50%");
    /* Zero price option from the doc: 0.00 at 19% */
    s = tax_compute(0, 1900, 10000, true);
    CHECK(s.tax == 0 && s.net == 0, "zero price option");
    CHECK(div_round(5, 2) == 3 && div_round(-5, 2) == -3 && div_round(4, 3) == 1, "div_round half away from zero");
    CHECK(money_percent(999, 1500) == 150 && money_percent(1, 1500) == 0 && money_percent(3009, 1500) == 451 &&
              money_percent(1000, 10000) == 1000,
          "money_percent: rounded once, half away from zero (15% of 9.99 is 1.50)");
    {
        money sum = 0, lo = 1000, hi = 0;
        for (int64_t i = 0; i < 999; i++) {
            money share = money_share(150, 999, i);
            sum += share;
            if (share < lo) lo = share;
            if (share > hi) hi = share;
        }
        CHECK(sum == 150 && lo == 0 && hi == 1 && money_share(150, 999, 149) == 1 && money_share(150, 999, 150) == 0,
              "money_share: 0.01 to each of the first 150 of 999 shares, summing to 1.50");
        CHECK(money_share(451, 3, 0) == 151 && money_share(451, 3, 1) == 150 && money_share(451, 3, 2) == 150,
              "money_share: 4.51 over 3 is 1.51 + 1.50 + 1.50");
        CHECK(money_share(900, 3, 2) == 300 && money_share(0, 4, 3) == 0 && money_share(7, 1, 0) == 7,
              "money_share: even splits, nothing, one share");
    }
    /* Convious example totals: 49.20 incl -> 48.37 excl means 0.83 tax on one 5.00 ticket */
    CHECK(4920 - tax_compute(500, 2000, 10000, true).tax == 4837, "doc order totals 49.20 -> 48.37");
}

static void test_dates(void)
{
    civil_date d;
    CHECK(date_parse("2022-01-04", &d), "date_parse valid");
    char buf[11];
    date_format(d, buf);
    CHECK(!strcmp(buf, "2022-01-04"), "date round trip");
    CHECK(!date_parse("2023-02-30", &d), "2023-02-30 rejected");
    CHECK(date_parse("2024-02-29", &d), "leap day 2024 accepted");
    CHECK(!date_parse("2023-02-29", &d), "2023-02-29 rejected");
    CHECK(!date_parse("2023-13-01", &d) && !date_parse("2023-1-01", &d) && !date_parse("20230101", &d),
          "malformed dates rejected");
    CHECK(date_parse("1970-01-01", &d) && d == 0, "epoch is day 0");
    CHECK(date_parse("2026-11-24", &d) && date_weekday(d) == 1, "2026-11-24 is a Tuesday");
    int32_t t;
    CHECK(time_of_day_parse("14:15:00", &t) && t == 51300, "time 14:15:00");
    CHECK(time_of_day_parse("09:00", &t) && t == 32400, "time 09:00");
    CHECK(!time_of_day_parse("25:00", &t) && !time_of_day_parse("12:60", &t), "bad times rejected");
}

static void test_zones(void)
{
    CHECK(tz_valid("Europe/Amsterdam") && !tz_valid("Mars/Olympus") && !tz_valid("../etc/passwd"), "tz_valid");
    CHECK(tz_valid("UTC") && tz_valid("Etc/GMT+5") && tz_valid("Etc/GMT-14") &&
              tz_valid("America/Argentina/Buenos_Aires") && tz_valid("America/Port-au-Prince"),
          "tz_valid: IANA names");
    CHECK(!tz_valid("/etc/passwd") && !tz_valid("/usr/share/zoneinfo/UTC") && !tz_valid("Europe/../UTC") &&
              !tz_valid("./UTC") && !tz_valid("Europe/./Amsterdam") && !tz_valid("Europe//Amsterdam") &&
              !tz_valid("Europe/Amsterdam/") && !tz_valid("Europe Amsterdam") && !tz_valid("UTC\n") &&
              !tz_valid("") && !tz_valid(NULL) && !tz_valid("+01:00") && !tz_valid("-5"),
          "tz_valid: no file paths or offsets");
    CHECK(utf8_prefix("abc", 2) == 2 && utf8_prefix("abc", 10) == 3 && utf8_prefix("", 5) == 0, "utf8_prefix ascii");
    CHECK(utf8_prefix("a\xc3\xa9\xc3\xa9", 2) == 1 && utf8_prefix("a\xc3\xa9\xc3\xa9", 3) == 3 &&
              utf8_prefix("a\xc3\xa9\xc3\xa9", 4) == 3 && utf8_prefix("\xf0\x9f\x8e\xab", 3) == 0 &&
              utf8_prefix("\xf0\x9f\x8e\xab!", 4) == 4,
          "utf8_prefix cuts on character boundaries");
    char t1[] = "ab\xc3", t2[] = "a\xe2\x82", t3[] = "a\xe2\x82\xac", t4[] = "a\xf0\x9f\x8e", t5[] = "abc";
    utf8_trim(t1);
    utf8_trim(t2);
    utf8_trim(t3);
    utf8_trim(t4);
    utf8_trim(t5);
    CHECK(!strcmp(t1, "ab") && !strcmp(t2, "a") && !strcmp(t3, "a\xe2\x82\xac") && !strcmp(t4, "a") &&
              !strcmp(t5, "abc"),
          "utf8_trim drops an incomplete last character");
    char s1[] = "GE\xf2\xff\xff\xffT", s2[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xab", s3[] = "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80";
    utf8_scrub(s1);
    utf8_scrub(s2);
    utf8_scrub(s3);
    CHECK(!strcmp(s1, "GE????T") && !strcmp(s2, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xab") && !strcmp(s3, "?????????"),
          "utf8_scrub keeps valid characters and replaces bytes that begin none");
    civil_date d;
    date_parse("2022-08-01", &d);
    instant_us t = tz_local_to_instant("Europe/Amsterdam", d, 9 * 3600);
    CHECK(tz_offset_at("Europe/Amsterdam", t) == 7200, "Amsterdam summer +02:00");
    char off[7];
    tz_offset_format(7200, off);
    CHECK(!strcmp(off, "+02:00"), "offset format");
    date_parse("2023-03-04", &d);
    t = tz_local_to_instant("Europe/Amsterdam", d, 0);
    CHECK(tz_offset_at("Europe/Amsterdam", t) == 3600, "Amsterdam winter +01:00");
    /* DST starts 2026-03-29 02:00 -> 03:00 in Amsterdam */
    date_parse("2026-03-29", &d);
    instant_us before = tz_local_to_instant("Europe/Amsterdam", d, 1 * 3600);
    instant_us after = tz_local_to_instant("Europe/Amsterdam", d, 3 * 3600);
    CHECK(after - before == 3600LL * US_PER_SEC, "DST spring forward: 01:00 to 03:00 is one hour");
    CHECK(tz_offset_at("Europe/Amsterdam", after) == 7200, "after the switch +02:00");
    /* DST ends 2026-10-25 03:00 -> 02:00 */
    date_parse("2026-10-25", &d);
    before = tz_local_to_instant("Europe/Amsterdam", d, 0);
    after = tz_local_to_instant("Europe/Amsterdam", d + 1, 0);
    CHECK(after - before == 25LL * 3600 * US_PER_SEC, "DST autumn day has 25 hours");
    civil_date back;
    int32_t secs;
    tz_instant_to_local("Europe/Amsterdam", before, &back, &secs);
    CHECK(back == d && secs == 0, "instant to local round trip");
}

static void test_iso(void)
{
    instant_us t;
    CHECK(iso_parse("2023-03-04T13:30:00Z", NULL, &t) && t == 1677936600LL * US_PER_SEC, "iso Z");
    instant_us t2;
    CHECK(iso_parse("2023-03-04T14:30:00+01:00", NULL, &t2) && t2 == t, "iso offset");
    CHECK(iso_parse("2023-03-04T14:30:00", "Europe/Amsterdam", &t2) && t2 == t, "iso local in venue zone");
    CHECK(iso_parse("2021-12-31T23:01:10.647104+00:00", NULL, &t) && t % US_PER_SEC == 647104, "iso fraction");
    CHECK(!iso_parse("2023-02-30T00:00:00Z", NULL, &t), "iso invalid date");
    {   /* Amsterdam kept +00:19:32 until 1937: the text must still name the instant */
        instant_us old, again;
        char text[64];
        CHECK(iso_parse("1919-03-30", "Europe/Amsterdam", &old), "iso date before standard time");
        iso_format(old, "Europe/Amsterdam", text, sizeof text);
        CHECK(iso_parse(text, NULL, &again) && again == old && !strcmp(text + 26, "+00:19"),
              "iso_format of a seconds offset round-trips (wall clock of the printed +00:19)");
    }
    CHECK(!iso_parse("yesterday", NULL, &t) && !iso_parse("2023-03-04T13:30:00Zjunk", NULL, &t), "iso junk");
    char buf[64];
    iso_format(1677936600LL * US_PER_SEC + 123456, "Europe/Amsterdam", buf, sizeof buf);
    CHECK(!strcmp(buf, "2023-03-04T14:30:00.123456+01:00"), "iso_format with zone");
    iso_format_seconds(1677936600LL * US_PER_SEC, NULL, buf, sizeof buf);
    CHECK(!strcmp(buf, "2023-03-04T13:30:00+00:00"), "iso_format_seconds UTC");
    int64_t secs;
    CHECK(duration_parse("PT1H30M", &secs) && secs == 5400, "duration PT1H30M");
    CHECK(duration_parse("P1D", &secs) && secs == 86400, "duration P1D");
    CHECK(!duration_parse("P", &secs) && !duration_parse("PT", &secs) && !duration_parse("1H", &secs),
          "duration junk");
    /* found by fuzz/parsers: repeated designators summed past what formats back (and, longer, past int64) */
    CHECK(!duration_parse("P2W4W42W4W46W46W446W46W443333336W", &secs), "duration beyond 10^9 days refused");
    CHECK(duration_parse("P999999999DT23H59M59S", &secs), "duration just under 10^9 days");
    duration_format(5400, buf, sizeof buf);
    CHECK(!strcmp(buf, "PT1H30M"), "duration format");
}

static void test_secure(void)
{
    unsigned char key[SERVER_KEY_BYTES] = {1, 2, 3};
    secure_set_server_key(key);
    char a[65], b[65];
    secret_hash("demo-secret", a);
    secret_hash("demo-secret", b);
    CHECK(!strcmp(a, b) && strlen(a) == 64, "secret_hash stable");
    secret_hash("demo-secreT", b);
    CHECK(strcmp(a, b) != 0, "secret_hash differs");
    char *sealed = secret_encrypt("whsec_123");
    char *plain = secret_decrypt(sealed);
    CHECK(plain && !strcmp(plain, "whsec_123") && !strstr(sealed, "whsec"), "seal round trip");
    free(plain);
    sealed[5] = sealed[5] == 'A' ? 'B' : 'A';
    plain = secret_decrypt(sealed);
    CHECK(plain == NULL, "tampered seal rejected");
    free(sealed);
    char *tok = token_sign("{\"x\":1}");
    char *payload = token_verify(tok);
    CHECK(payload && !strcmp(payload, "{\"x\":1}"), "token round trip");
    free(payload);
    tok[strlen(tok) - 2] ^= 1;
    CHECK(token_verify(tok) == NULL, "forged token rejected");
    free(tok);
    char code[21];
    rand_digits(code, 20);
    CHECK(strlen(code) == 20 && code[0] != '0', "barcode 20 digits");
    /* the doc's webhook signature sample: hmac over t + body */
    char mac[65];
    hmac_sha256_hex("key", 3, "The quick brown fox jumps over the lazy dog", 43, mac);
    CHECK(!strcmp(mac, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"), "hmac-sha256 vector");
}

/* time_uuid96 and its 24-hex spelling (the Fourvenues dialect's ticket ids):
 * exact both ways for new ids, 96 bits of any other UUID. */
static void test_uuid_hex24(void)
{
    char id[37], hex[25], back[37];
    bool all_exact = true, all_v7 = true;
    for (int i = 0; i < 1000; i++) {
        time_uuid96(id);
        all_v7 = all_v7 && strlen(id) == 36 && id[14] == '7' && id[19] == '8' && !strcmp(id + 30, "000000");
        all_exact = all_exact && uuid_hex24(id, hex) && strlen(hex) == 24 &&
                    uuid_from_hex24(hex, '7', '8', "000000", back) && !strcmp(back, id);
    }
    CHECK(all_v7, "time_uuid96: a UUIDv7 of variant 10, the two bits after it and the last 24 bits zero");
    CHECK(all_exact, "time_uuid96 -> 24 hex -> the same UUID");
    char other[37];
    time_uuid96(other);
    uuid_hex24(id, hex);
    uuid_hex24(other, back);
    CHECK(strcmp(hex, back) != 0, "two time_uuid96 ids differ in their 24 hex");
    /* an older UUIDv7: its time, the 12 bits after the version and 36 after the variant digit */
    CHECK(uuid_hex24("0192a3b4-c5d6-7e8f-a123-456789abcdef", hex) && !strcmp(hex, "0192a3b4c5d6e8f123456789"),
          "an old UUIDv7's 24 hex skip version, variant and the last six digits");
    CHECK(uuid_from_hex24("0192a3b4c5d6e8f123456789", '7', 'b', "ffffff", back) &&
              !strcmp(back, "0192a3b4-c5d6-7e8f-b123-456789ffffff"),
          "uuid_from_hex24 with other version, variant and tail");
    CHECK(uuid_hex24("6ba7b810-9dad-41d1-80b4-00c04fd430c8", hex) && !strcmp(hex, "6ba7b8109dad1d10b400c04f"),
          "a UUIDv4's 24 hex");
    static const char *const not_uuids[] = {"", "0192a3b4c5d6e8f123456789", "0192A3B4-C5D6-7E8F-A123-456789ABCDEF",
                                            "0192a3b4-c5d6-7e8f-a123-456789abcdeg", "0192a3b4-c5d6-7e8f-a123-456789abcde",
                                            "0192a3b4xc5d6-7e8f-a123-456789abcdef", "0192a3b4-c5d6-7e8f-a123-456789abcdef0"};
    bool refused = !uuid_hex24(NULL, hex);
    for (size_t i = 0; i < sizeof not_uuids / sizeof not_uuids[0]; i++) refused = refused && !uuid_hex24(not_uuids[i], hex);
    CHECK(refused, "uuid_hex24 refuses what is not a lower-case UUID");
    static const char *const not_hex24[] = {"", "0192a3b4c5d6e8f12345678", "0192a3b4c5d6e8f1234567890",
                                            "0192A3B4C5D6E8F123456789", "0192a3b4-c5d6e8f12345678", "0192a3b4c5d6e8f12345678g"};
    refused = !uuid_from_hex24(NULL, '7', '8', "000000", back);
    for (size_t i = 0; i < sizeof not_hex24 / sizeof not_hex24[0]; i++)
        refused = refused && !uuid_from_hex24(not_hex24[i], '7', '8', "000000", back);
    CHECK(refused, "uuid_from_hex24 refuses what is not 24 lower-case hex digits");
}

int main(void)
{
    secure_init();
    test_money();
    test_tax();
    test_dates();
    test_zones();
    test_iso();
    test_secure();
    test_uuid_hex24();
    return check_summary();
}
