/* Browser analytics' raw events as a log (store/analytics_store.h): a file a
 * day, DIR/YYYY-MM-DD.ndjson.gz (the UTC day each event was received), of
 * JSON lines, appended one gzip member per write. Nothing reads raw events
 * back (pricing learns from the daily counters and sales), so a B-tree table
 * bought nothing: each event went to a WAL, was copied into the file by a
 * checkpoint and deleted row by row after the retention, about five times its
 * size on the disk whose flushes every booking waits for. Here it is written
 * once, compressed, and a day goes with one unlink (docs/PERFORMANCE.md,
 * issue 14). Each member is written whole by one write() to a file opened
 * O_APPEND: the file stays readable by zcat and several processes may share
 * the directory. */
#include "store/analytics_store.h"
#include "util/jbuf.h"
#include "util/log.h"
#include "util/timeutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define LOG_SUFFIX ".ndjson.gz"
#define US_PER_DAY (86400LL * 1000000LL)

store_status store_analytics_log_open(store *s, const char *dir, char **err)
{
    struct stat st;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        if (err && asprintf(err, "analytics log %s: %s", dir, strerror(errno)) < 0) *err = NULL;
        return STORE_ERROR;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        if (err && asprintf(err, "analytics log %s: not a writable directory", dir) < 0) *err = NULL;
        return STORE_ERROR;
    }
    store_set_analytics_log_dir(s, dir);
    return STORE_OK;
}

static civil_date day_of(int64_t received_at_us) { return (civil_date)(received_at_us / US_PER_DAY); }

/* text compressed as one gzip member (malloc'd, *out); its length, 0 if that failed. */
static size_t gzip_member(const unsigned char *text, size_t len, unsigned char **out)
{
    z_stream z = {0};
    *out = NULL;
    /* level 1: the compression runs on the analytics thread beside two cores of requests; 31 = gzip framing */
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    size_t cap = deflateBound(&z, (uLong)len), n = 0;
    if ((*out = malloc(cap))) {
        z.next_in = (unsigned char *)text, z.avail_in = (uInt)len;
        z.next_out = *out, z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) n = cap - z.avail_out;
    }
    deflateEnd(&z);
    return n;
}

/* The n bytes at the end of path, by one write() where the kernel takes them
 * whole; 0, or the errno. */
static int append_whole(const char *path, const unsigned char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return errno;
    int why = 0;
    for (size_t done = 0; !why && done < n;) {
        ssize_t w = write(fd, p + done, n - done);
        if (w > 0) done += (size_t)w;
        else if (w == 0 || errno != EINTR) why = w == 0 ? ENOSPC : errno;
    }
    close(fd);
    return why;
}

/* text as one gzip member at the end of the day's file. */
static bool append_member(const char *dir, civil_date day, const unsigned char *text, size_t len)
{
    unsigned char *member;
    size_t n = gzip_member(text, len, &member);
    char path[4096], date[11];
    date_format(day, date);
    int why = !n                                                                              ? ENOMEM
              : snprintf(path, sizeof path, "%s/%s" LOG_SUFFIX, dir, date) >= (int)sizeof path ? ENAMETOOLONG
                                                                                              : append_whole(path, member, n);
    if (why) log_warn("analytics log %s: %s", dir, strerror(why));
    free(member);
    return !why;
}

static void write_event(jbuf *b, const store_analytics_event *ev)
{
    jb_obj(b);
    JB_KEY(b, "received_at_us"), jb_int(b, ev->received_at);
    JB_KEY(b, "account_id"), jb_str(b, ev->account_id);
    JB_KEY(b, "kind"), jb_str(b, ev->kind);
    JB_KEY(b, "cookie_id"), jb_str(b, ev->cookie_id);
    JB_KEY(b, "event_time_us"), jb_int(b, ev->event_time);
    JB_KEY(b, "ip_prefix"), jb_str(b, ev->ip_prefix);
    JB_KEY(b, "product_kind"), jb_str(b, ev->product_kind);
    JB_KEY(b, "product_key"), jb_str(b, ev->product_key);
    JB_KEY(b, "order_id"), jb_str(b, ev->order_id);
    /* the event's payload as the browser sent it (validated JSON text) */
    JB_KEY(b, "detail"), jb_raw(b, ev->detail);
    jb_obj_end(b);
    jb_newline(b);
}

store_status store_analytics_log_append(store *s, const store_analytics_event *events, size_t n)
{
    const char *dir = store_analytics_log_dir(s);
    if (!dir) return STORE_ERROR;
    store_status out = STORE_OK;
    /* a run of events received the same day goes to that day's file */
    for (size_t i = 0; i < n;) {
        civil_date day = day_of(events[i].received_at);
        jbuf b;
        jb_init(&b, 256 * 64);
        for (; i < n && day_of(events[i].received_at) == day; i++) write_event(&b, &events[i]);
        size_t len;
        char *text = jb_take(&b, &len);
        if (!text || !append_member(dir, day, (const unsigned char *)text, len)) out = STORE_ERROR;
        free(text);
    }
    return out;
}

store_status store_analytics_log_prune(store *s, int32_t before_day, int *removed)
{
    const char *dir = store_analytics_log_dir(s);
    if (removed) *removed = 0;
    if (!dir) return STORE_OK;
    DIR *d = opendir(dir);
    if (!d) return STORE_ERROR;
    store_status out = STORE_OK;
    for (struct dirent *ent; (ent = readdir(d));) {
        char date[11];
        civil_date day;
        /* only the log's own files: YYYY-MM-DD.ndjson.gz */
        if (strlen(ent->d_name) != 10 + strlen(LOG_SUFFIX) || strcmp(ent->d_name + 10, LOG_SUFFIX) != 0) continue;
        memcpy(date, ent->d_name, 10), date[10] = 0;
        if (!date_parse(date, &day) || day >= before_day) continue;
        if (unlinkat(dirfd(d), ent->d_name, 0) == 0) {
            if (removed) ++*removed;
        } else if (errno != ENOENT) { /* ENOENT: another process sharing the directory took it */
            log_warn("analytics log %s/%s: %s", dir, ent->d_name, strerror(errno));
            out = STORE_ERROR;
        }
    }
    closedir(d);
    return out;
}
