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
 * the directory. The members of a few seconds are held and appended
 * together: on ext4 (data=ordered) every append dirties the file and its
 * inode, and the journal commit that each booking's fsync forces carries
 * them, so one append every 200 ms (each analytics flush) showed in the
 * bookings' p99 more than one every 5 s. */
#include "store/analytics_store.h"
#include "util/jbuf.h"
#include "util/log.h"
#include "util/timeutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define LOG_SUFFIX ".ndjson.gz"
#define US_PER_DAY (86400LL * 1000000LL)
/* How long compressed members are held before they are appended, and how
 * many bytes at most: the raw events a kill -9 can lose (already counted). */
#define ANALYTICS_LOG_APPEND_EVERY_US (5 * 1000000LL)
#define ANALYTICS_LOG_HOLD_BYTES (1u << 20)

struct analytics_log {
    char *dir;
    pthread_mutex_t lock; /* guards all below: flushes and the test hook may append at once */
    unsigned char *held;  /* whole gzip members of `day`'s file, not yet appended */
    size_t len, cap;
    civil_date day;
    struct timespec since; /* CLOCK_MONOTONIC when the first held member came */
    /* The lines' text and the compressor, kept from member to member: a
     * deflate state is ~270 KB, and each flush took it from malloc and gave
     * it back, with the text's growing buffer, in the heap shared with the
     * request threads. */
    jbuf text;
    z_stream z;
    bool z_ready;
};

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
    analytics_log *log = calloc(1, sizeof *log);
    if (!log || !(log->dir = strdup(dir))) {
        free(log);
        if (err) *err = strdup("analytics log: out of memory");
        return STORE_ERROR;
    }
    pthread_mutex_init(&log->lock, NULL);
    store_set_analytics_log(s, log);
    return STORE_OK;
}

static civil_date day_of(int64_t received_at_us) { return (civil_date)(received_at_us / US_PER_DAY); }

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

/* Appends what is held to its day's file. Under log->lock. */
static bool write_held(analytics_log *log)
{
    if (!log->len) return true;
    char path[4096], date[11];
    date_format(log->day, date);
    int why = snprintf(path, sizeof path, "%s/%s" LOG_SUFFIX, log->dir, date) >= (int)sizeof path
                  ? ENAMETOOLONG
                  : append_whole(path, log->held, log->len);
    if (why) log_warn("analytics log %s: %s", log->dir, strerror(why));
    log->len = 0;
    return !why;
}

static int64_t held_for_us(const analytics_log *log)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - log->since.tv_sec) * 1000000LL + (now.tv_nsec - log->since.tv_nsec) / 1000;
}

/* log->text compressed as one gzip member, held for the day's file. Under log->lock. */
static bool hold_member(analytics_log *log, civil_date day)
{
    /* level 1, the fastest; 31 = gzip framing */
    if (log->z_ready)
        deflateReset(&log->z);
    else if (deflateInit2(&log->z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK)
        log->z_ready = true;
    else
        return false;
    size_t bound = deflateBound(&log->z, (uLong)log->text.len);
    bool ok = true;
    if (log->len && day != log->day) ok = write_held(log);
    if (log->len + bound > log->cap) {
        size_t cap = (log->len + bound) * 2;
        unsigned char *grown = realloc(log->held, cap);
        if (!grown) return false;
        log->held = grown, log->cap = cap;
    }
    log->z.next_in = (unsigned char *)log->text.p, log->z.avail_in = (uInt)log->text.len;
    log->z.next_out = log->held + log->len, log->z.avail_out = (uInt)bound;
    if (deflate(&log->z, Z_FINISH) != Z_STREAM_END) return false;
    if (!log->len) log->day = day, clock_gettime(CLOCK_MONOTONIC, &log->since);
    log->len += bound - log->z.avail_out;
    if (log->len >= ANALYTICS_LOG_HOLD_BYTES || held_for_us(log) >= ANALYTICS_LOG_APPEND_EVERY_US)
        ok = write_held(log) && ok;
    return ok;
}

store_status store_analytics_log_write(store *s, bool force)
{
    analytics_log *log = store_analytics_log(s);
    if (!log) return STORE_OK;
    pthread_mutex_lock(&log->lock);
    bool ok = !log->len || (!force && held_for_us(log) < ANALYTICS_LOG_APPEND_EVERY_US) || write_held(log);
    pthread_mutex_unlock(&log->lock);
    return ok ? STORE_OK : STORE_ERROR;
}

void store_analytics_log_close(analytics_log *log)
{
    if (!log) return;
    pthread_mutex_lock(&log->lock);
    write_held(log);
    pthread_mutex_unlock(&log->lock);
    pthread_mutex_destroy(&log->lock);
    if (log->z_ready) deflateEnd(&log->z);
    jb_free(&log->text);
    free(log->held), free(log->dir), free(log);
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
    analytics_log *log = store_analytics_log(s);
    if (!log) return STORE_ERROR;
    store_status out = STORE_OK;
    pthread_mutex_lock(&log->lock);
    /* a run of events received the same day goes to that day's file */
    for (size_t i = 0; i < n;) {
        civil_date day = day_of(events[i].received_at);
        jb_reset(&log->text);
        for (; i < n && day_of(events[i].received_at) == day; i++) write_event(&log->text, &events[i]);
        if (log->text.failed || !hold_member(log, day)) {
            log_warn("analytics log %s: %s", log->dir, strerror(ENOMEM));
            out = STORE_ERROR;
        }
    }
    pthread_mutex_unlock(&log->lock);
    return out;
}

store_status store_analytics_log_prune(store *s, int32_t before_day, int *removed)
{
    analytics_log *log = store_analytics_log(s);
    if (removed) *removed = 0;
    if (!log) return STORE_OK;
    const char *dir = log->dir;
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
