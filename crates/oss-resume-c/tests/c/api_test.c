/*
 * The C API tested from C, as a C program uses it: NULL and invalid arguments, a wrong
 * secret, the default credentials chain, progress and response headers, one client shared
 * by many threads, and cancellation from a second thread with resume. `cargo xtask ci`
 * (step `c-library`) builds it with -fsanitize=address,undefined and runs it against the
 * standalone oss-emulator.
 *
 *     OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... \
 *         api_test ENDPOINT SLOW_ENDPOINT BUCKET OBJECT EXPECTED WORKDIR
 *
 * ENDPOINT serves BUCKET/OBJECT at full speed, SLOW_ENDPOINT the same object throttled (so
 * a download lasts long enough to be cancelled); EXPECTED is a file holding the object's
 * bytes; WORKDIR an empty directory. Prints each failed check and ends with the line
 * "N passed, N failed"; exits 1 if any check failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "oss_resume.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            passed++;                                                                      \
        } else {                                                                           \
            failed++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

static const char *endpoint, *slow_endpoint, *bucket, *object, *expected_path, *workdir;

static int contains(const char *text, const char *part)
{
    return text != NULL && strstr(text, part) != NULL;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *path_in_workdir(const char *name)
{
    size_t n = strlen(workdir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", workdir, name);
    return p;
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *p = malloc(n);
    snprintf(p, n, "%s%s", path, suffix);
    return p;
}

/* The whole file, or NULL. */
static unsigned char *read_file(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data;
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)*len + 1);
    if (fread(data, 1, (size_t)*len, f) != (size_t)*len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* Whether `path` holds exactly the object's bytes. */
static int same_as_expected(const char *path)
{
    long a_len = -1, b_len = -2;
    unsigned char *a = read_file(path, &a_len);
    unsigned char *b = read_file(expected_path, &b_len);
    int same = a != NULL && b != NULL && a_len == b_len && memcmp(a, b, (size_t)a_len) == 0;
    free(a);
    free(b);
    return same;
}

static long expected_size(void)
{
    struct stat st;
    return stat(expected_path, &st) == 0 ? (long)st.st_size : -1;
}

static ossr_client *make_client(const char *at, const char *secret, ossr_result *result)
{
    ossr_client *client;
    ossr_config *config = ossr_config_new();
    ossr_config_set_endpoint(config, at);
    ossr_config_set_region(config, "cn-hangzhou");
    if (secret == NULL) {
        ossr_config_credentials_from_env(config);
    } else {
        ossr_config_set_access_key_id(config, getenv("OSS_ACCESS_KEY_ID"));
        ossr_config_set_access_key_secret(config, secret);
    }
    client = ossr_client_new(config, result);
    ossr_config_free(config);
    return client;
}

static void test_names_and_null_handles(void)
{
    ossr_result *r = ossr_result_new();
    CHECK(strcmp(ossr_status_name(OSSR_OK), "OSSR_OK") == 0, "%s", ossr_status_name(0));
    CHECK(strcmp(ossr_status_name(OSSR_ERR_SERVICE), "OSSR_ERR_SERVICE") == 0, "named");
    CHECK(strcmp(ossr_status_name(-1), "OSSR_UNKNOWN") == 0, "%s", ossr_status_name(-1));
    CHECK(strcmp(ossr_status_name(12345), "OSSR_UNKNOWN") == 0, "unknown");
    CHECK(strlen(ossr_version()) > 0, "version");

    /* Freeing NULL does nothing, as free() does. */
    ossr_config_free(NULL);
    ossr_client_free(NULL);
    ossr_resumable_params_free(NULL);
    ossr_cancel_token_free(NULL);
    ossr_result_free(NULL);

    CHECK(ossr_config_set_endpoint(NULL, "http://x") == OSSR_ERR_INVALID_ARGUMENT, "config");
    CHECK(ossr_config_credentials_from_env(NULL) == OSSR_ERR_INVALID_ARGUMENT, "config");
    CHECK(ossr_config_set_signature_version(NULL, 4) == OSSR_ERR_INVALID_ARGUMENT, "config");
    CHECK(ossr_config_set_is_cname(NULL, 0) == OSSR_ERR_INVALID_ARGUMENT, "config");
    CHECK(ossr_client_new(NULL, r) == NULL, "a client from no config");
    CHECK(ossr_result_status(r) == OSSR_ERR_INVALID_ARGUMENT, "status");
    CHECK(contains(ossr_result_message(r), "`config`"), "%s", ossr_result_message(r));
    CHECK(ossr_client_new(NULL, NULL) == NULL, "no result is fine");
    CHECK(ossr_resumable_params_set_cancel_token(NULL, NULL) == OSSR_ERR_INVALID_ARGUMENT,
          "params");
    ossr_cancel_token_cancel(NULL);
    CHECK(ossr_cancel_token_is_cancelled(NULL) == 0, "token");

    /* Accessors of a NULL result: empty, never NULL strings. */
    CHECK(ossr_result_status(NULL) == OSSR_ERR_INVALID_ARGUMENT, "status of NULL");
    CHECK(ossr_result_is_ok(NULL) == 0, "is_ok of NULL");
    CHECK(ossr_result_http_status(NULL) == 0, "http status of NULL");
    CHECK(strcmp(ossr_result_message(NULL), "") == 0, "message of NULL");
    CHECK(strcmp(ossr_result_error_code(NULL), "") == 0, "code of NULL");
    CHECK(strcmp(ossr_result_request_id(NULL), "") == 0, "request id of NULL");
    CHECK(ossr_result_header_count(NULL) == 0, "headers of NULL");
    CHECK(ossr_result_header_name(NULL, 0) == NULL, "header name of NULL");
    CHECK(ossr_result_header_get(NULL, "etag") == NULL, "header of NULL");
    CHECK(ossr_result_header_get(r, NULL) == NULL, "header NULL");
    CHECK(ossr_result_header_value(r, 99) == NULL, "header out of range");
    ossr_result_free(r);
}

/* Runs before any client exists: it changes the environment. */
static void test_config_errors(void)
{
    ossr_result *r = ossr_result_new();
    ossr_config *config = ossr_config_new();
    char *secret = getenv("OSS_ACCESS_KEY_SECRET");
    char *saved = secret != NULL ? with_suffix(secret, "") : NULL;

    CHECK(ossr_client_new(config, r) == NULL, "empty config");
    CHECK(contains(ossr_result_message(r), "ossr_config_set_endpoint"), "%s",
          ossr_result_message(r));

    CHECK(ossr_config_set_endpoint(config, NULL) == OSSR_ERR_INVALID_ARGUMENT, "NULL");
    CHECK(ossr_client_new(config, r) == NULL, "NULL endpoint");
    CHECK(contains(ossr_result_message(r), "`endpoint`: it is NULL"), "%s",
          ossr_result_message(r));
    CHECK(ossr_config_set_endpoint(config, endpoint) == OSSR_OK, "endpoint");

    CHECK(ossr_client_new(config, r) == NULL, "no credentials");
    CHECK(contains(ossr_result_message(r), "ossr_config_credentials_from_env"), "%s",
          ossr_result_message(r));

    unsetenv("OSS_ACCESS_KEY_SECRET");
    CHECK(ossr_config_credentials_from_env(config) == OSSR_ERR_INVALID_ARGUMENT, "unset");
    CHECK(ossr_client_new(config, r) == NULL, "credentials from an incomplete environment");
    CHECK(contains(ossr_result_message(r), "OSS_ACCESS_KEY_SECRET is not set"), "%s",
          ossr_result_message(r));
    if (saved != NULL) {
        setenv("OSS_ACCESS_KEY_SECRET", saved, 1);
    }
    CHECK(ossr_config_credentials_from_env(config) == OSSR_OK, "credentials");

    CHECK(ossr_config_set_signature_version(config, 3) == OSSR_ERR_INVALID_ARGUMENT, "v3");
    CHECK(ossr_client_new(config, r) == NULL, "signature version 3");
    CHECK(contains(ossr_result_message(r), "`signature_version`: it is 3; use 1 or 4"), "%s",
          ossr_result_message(r));
    CHECK(ossr_config_set_signature_version(config, 1) == OSSR_OK, "v1");

    ossr_client *client = ossr_client_new(config, r);
    CHECK(client != NULL && ossr_result_is_ok(r), "a good config: %s", ossr_result_message(r));
    ossr_client_free(client);
    ossr_config_free(config);
    ossr_result_free(r);
    free(saved);
}

/* One download that must fail with OSSR_ERR_INVALID_ARGUMENT naming `argument`, without
 * creating the file. */
static void expect_invalid(const char *what, const ossr_client *client, const char *b,
                           const char *o, const char *file, const ossr_header *headers,
                           size_t header_count, const ossr_resumable_params *params,
                           const char *argument)
{
    ossr_result *r = ossr_result_new();
    ossr_status s = ossr_resumable_download_file(client, b, o, file, headers, header_count,
                                                 params, NULL, NULL, r);
    CHECK(s == OSSR_ERR_INVALID_ARGUMENT, "%s: %s", what, ossr_status_name(s));
    CHECK(ossr_result_status(r) == s, "%s: the result holds the status", what);
    CHECK(contains(ossr_result_message(r), argument), "%s: \"%s\" does not name %s", what,
          ossr_result_message(r), argument);
    CHECK(ossr_result_http_status(r) == 0, "%s: no HTTP status", what);
    ossr_result_free(r);
    /* And with no result at all: the same status, no crash. */
    s = ossr_resumable_download_file(client, b, o, file, headers, header_count, params, NULL,
                                     NULL, NULL);
    CHECK(s == OSSR_ERR_INVALID_ARGUMENT, "%s without a result: %s", what,
          ossr_status_name(s));
}

static void test_invalid_download_arguments(void)
{
    ossr_result *r = ossr_result_new();
    ossr_client *client = make_client(endpoint, NULL, r);
    char *file = path_in_workdir("invalid.bin");
    ossr_header null_name[1] = {{NULL, "v"}};
    ossr_header range[1] = {{"Range", "bytes=0-1"}};
    ossr_resumable_params *part_0 = ossr_resumable_params_new(0, 3, 0, NULL);
    ossr_resumable_params *part_6g = ossr_resumable_params_new(6LL << 30, 3, 0, NULL);
    ossr_resumable_params *part_neg = ossr_resumable_params_new(-1, 3, 0, NULL);
    ossr_resumable_params *threads_0 = ossr_resumable_params_new(102400, 0, 0, NULL);
    ossr_resumable_params *threads_neg = ossr_resumable_params_new(102400, -2, 0, NULL);
    ossr_resumable_params *threads_many = ossr_resumable_params_new(102400, 5000, 0, NULL);

    CHECK(client != NULL, "client: %s", ossr_result_message(r));
    expect_invalid("NULL client", NULL, bucket, object, file, NULL, 0, NULL, "`client`");
    expect_invalid("NULL bucket", client, NULL, object, file, NULL, 0, NULL, "`bucket`");
    expect_invalid("empty bucket", client, "", object, file, NULL, 0, NULL, "`bucket`");
    expect_invalid("bad bucket", client, "Bad_Bucket", object, file, NULL, 0, NULL,
                   "bucket");
    expect_invalid("NULL object", client, bucket, NULL, file, NULL, 0, NULL, "`object`");
    expect_invalid("empty object", client, bucket, "", file, NULL, 0, NULL, "`object`");
    expect_invalid("NULL file", client, bucket, object, NULL, NULL, 0, NULL, "`file`");
    expect_invalid("empty file", client, bucket, object, "", NULL, 0, NULL, "`file`");
    expect_invalid("NULL headers", client, bucket, object, file, NULL, 2, NULL, "`headers`");
    expect_invalid("NULL header name", client, bucket, object, file, null_name, 1, NULL,
                   "`headers[0].name`");
    expect_invalid("Range header", client, bucket, object, file, range, 1, NULL, "Range");
    expect_invalid("part size 0", client, bucket, object, file, NULL, 0, part_0,
                   "`part_size`");
    expect_invalid("part size 6 GiB", client, bucket, object, file, NULL, 0, part_6g,
                   "`part_size`");
    expect_invalid("part size -1", client, bucket, object, file, NULL, 0, part_neg,
                   "`part_size`");
    expect_invalid("thread_num 0", client, bucket, object, file, NULL, 0, threads_0,
                   "`thread_num`");
    expect_invalid("thread_num -2", client, bucket, object, file, NULL, 0, threads_neg,
                   "`thread_num`");
    expect_invalid("thread_num 5000", client, bucket, object, file, NULL, 0, threads_many,
                   "`thread_num`");
    CHECK(!exists(file), "no invalid call created %s", file);

    ossr_resumable_params_free(part_0);
    ossr_resumable_params_free(part_6g);
    ossr_resumable_params_free(part_neg);
    ossr_resumable_params_free(threads_0);
    ossr_resumable_params_free(threads_neg);
    ossr_resumable_params_free(threads_many);
    ossr_client_free(client);
    ossr_result_free(r);
    free(file);
}

static void test_wrong_secret(void)
{
    ossr_result *r = ossr_result_new();
    ossr_client *client = make_client(endpoint, "wrong-secret-value", r);
    char *file = path_in_workdir("wrong-secret.bin");
    ossr_status s = ossr_resumable_download_file(client, bucket, object, file, NULL, 0, NULL,
                                                 NULL, NULL, r);
    CHECK(s == OSSR_ERR_SERVICE, "wrong secret: %s: %s", ossr_status_name(s),
          ossr_result_message(r));
    CHECK(ossr_result_http_status(r) == 403, "HTTP %d", ossr_result_http_status(r));
    CHECK(strcmp(ossr_result_error_code(r), "SignatureDoesNotMatch") == 0, "code \"%s\"",
          ossr_result_error_code(r));
    CHECK(strlen(ossr_result_request_id(r)) > 0, "a request id");
    CHECK(contains(ossr_result_message(r), ossr_result_request_id(r)),
          "the message quotes the request id: %s", ossr_result_message(r));
    CHECK(!contains(ossr_result_message(r), "wrong-secret-value"), "the secret leaked: %s",
          ossr_result_message(r));
    CHECK(ossr_result_is_retryable(r) == 0, "not retryable");
    CHECK(!exists(file), "no file after a refused download");
    ossr_client_free(client);
    ossr_result_free(r);
    free(file);
}

/* The default credentials chain finds the keys in the environment (its first source). */
static void test_credentials_chain(void)
{
    ossr_result *r = ossr_result_new();
    ossr_config *config = ossr_config_new();
    char *file = path_in_workdir("chain.bin");
    ossr_client *client;
    ossr_status s;

    ossr_config_set_endpoint(config, endpoint);
    ossr_config_set_region(config, "cn-hangzhou");
    CHECK(ossr_config_credentials_from_chain(config) == OSSR_OK, "the chain");
    client = ossr_client_new(config, r);
    ossr_config_free(config);
    CHECK(client != NULL, "a client with the chain: %s", ossr_result_message(r));
    s = ossr_resumable_download_file(client, bucket, object, file, NULL, 0, NULL, NULL, NULL,
                                     r);
    CHECK(s == OSSR_OK, "download signed by the chain: %s: %s", ossr_status_name(s),
          ossr_result_message(r));
    CHECK(same_as_expected(file), "%s is the object", file);
    ossr_client_free(client);
    ossr_result_free(r);
    free(file);
}

/* What the progress callback saw (it runs on a library thread). */
struct progress {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long calls;
    int64_t consumed, total;
};

static void on_progress(int64_t consumed, int64_t total, void *user_data)
{
    struct progress *p = user_data;
    pthread_mutex_lock(&p->lock);
    p->calls++;
    p->consumed = consumed;
    p->total = total;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

static void progress_init(struct progress *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
}

static void progress_destroy(struct progress *p)
{
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->changed);
}

static void test_download_with_progress_and_headers(void)
{
    char size_text[32];
    ossr_result *r = ossr_result_new();
    ossr_client *client = make_client(endpoint, NULL, r);
    char *file = path_in_workdir("progress.bin");
    char *cp = with_suffix(file, ".cp");
    ossr_header headers[1] = {{"x-oss-request-payer", "requester"}};
    ossr_resumable_params *params = ossr_resumable_params_new(256 * 1024, 4, 1, NULL);
    struct progress p;
    size_t i, n;
    int saw_etag = 0;

    progress_init(&p);
    ossr_status s = ossr_resumable_download_file(client, bucket, object, file, headers, 1,
                                                 params, on_progress, &p, r);
    CHECK(s == OSSR_OK, "download: %s: %s", ossr_status_name(s), ossr_result_message(r));
    CHECK(ossr_result_is_ok(r) == 1, "is_ok");
    CHECK(ossr_result_http_status(r) == 200, "HTTP %d", ossr_result_http_status(r));
    CHECK(same_as_expected(file), "%s differs from the object", file);
    CHECK(!exists(cp), "the checkpoint is deleted once the download completes");
    CHECK((long)ossr_result_bytes_total(r) == expected_size(), "bytes_total %llu",
          (unsigned long long)ossr_result_bytes_total(r));
    CHECK(ossr_result_bytes_resumed(r) == 0, "nothing resumed");
    CHECK(p.calls > 0 && p.consumed == p.total && p.total == expected_size(),
          "progress: %ld calls, last %lld/%lld", p.calls, (long long)p.consumed,
          (long long)p.total);

    snprintf(size_text, sizeof size_text, "%ld", expected_size());
    n = ossr_result_header_count(r);
    CHECK(n >= 3, "%zu response headers", n);
    for (i = 0; i < n; i++) {
        CHECK(ossr_result_header_name(r, i) != NULL && ossr_result_header_value(r, i) != NULL,
              "header %zu", i);
        saw_etag |= strcmp(ossr_result_header_name(r, i), "etag") == 0;
    }
    CHECK(saw_etag, "an etag header");
    CHECK(ossr_result_header_get(r, "Content-Length") != NULL &&
              strcmp(ossr_result_header_get(r, "Content-Length"), size_text) == 0,
          "Content-Length");
    CHECK(ossr_result_header_get(r, "x-oss-hash-crc64ecma") != NULL, "the CRC-64 header");
    CHECK(ossr_result_header_get(r, "no-such-header") == NULL, "absent header");
    CHECK(strlen(ossr_result_request_id(r)) > 0, "the HEAD's request id");

    /* NULL params: the C SDK's defaults (1 thread, checkpoint off). */
    remove(file);
    s = ossr_resumable_download_file(client, bucket, object, file, NULL, 0, NULL, NULL, NULL,
                                     r);
    CHECK(s == OSSR_OK, "defaults: %s", ossr_result_message(r));
    CHECK(same_as_expected(file), "%s differs from the object (defaults)", file);

    progress_destroy(&p);
    ossr_resumable_params_free(params);
    ossr_client_free(client);
    ossr_result_free(r);
    free(file);
    free(cp);
}

/* Many threads, one client, one params. */
#define THREADS 4

struct job {
    const ossr_client *client;
    const ossr_resumable_params *params;
    char *file;
    ossr_status status;
    char message[512];
};

static void *run_job(void *arg)
{
    struct job *job = arg;
    ossr_result *r = ossr_result_new();
    job->status = ossr_resumable_download_file(job->client, bucket, object, job->file, NULL,
                                               0, job->params, NULL, NULL, r);
    snprintf(job->message, sizeof job->message, "%s", ossr_result_message(r));
    ossr_result_free(r);
    return NULL;
}

static void test_one_client_many_threads(void)
{
    ossr_result *r = ossr_result_new();
    ossr_client *client = make_client(endpoint, NULL, r);
    ossr_resumable_params *params = ossr_resumable_params_new(512 * 1024, 2, 1, NULL);
    struct job jobs[THREADS];
    pthread_t threads[THREADS];
    char name[32];
    int i;

    for (i = 0; i < THREADS; i++) {
        snprintf(name, sizeof name, "thread-%d.bin", i);
        jobs[i].client = client;
        jobs[i].params = params;
        jobs[i].file = path_in_workdir(name);
        CHECK(pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0, "pthread_create");
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].status == OSSR_OK, "thread %d: %s: %s", i,
              ossr_status_name(jobs[i].status), jobs[i].message);
        CHECK(same_as_expected(jobs[i].file), "thread %d: %s differs", i, jobs[i].file);
        free(jobs[i].file);
    }
    ossr_resumable_params_free(params);
    ossr_client_free(client);
    ossr_result_free(r);
}

struct canceller {
    struct progress *progress;
    ossr_cancel_token *token;
    int64_t at;
};

/* Waits until the download has some bytes on disk, then cancels it. */
static void *cancel_when_started(void *arg)
{
    struct canceller *c = arg;
    pthread_mutex_lock(&c->progress->lock);
    while (c->progress->consumed == 0) {
        pthread_cond_wait(&c->progress->changed, &c->progress->lock);
    }
    c->at = c->progress->consumed;
    pthread_mutex_unlock(&c->progress->lock);
    ossr_cancel_token_cancel(c->token);
    return NULL;
}

static void test_cancel_from_another_thread(void)
{
    ossr_result *r = ossr_result_new();
    ossr_client *client = make_client(slow_endpoint, NULL, r);
    char *file = path_in_workdir("cancelled.bin");
    char *cp = with_suffix(file, ".cp");
    ossr_resumable_params *params = ossr_resumable_params_new(100 * 1024, 3, 1, NULL);
    ossr_cancel_token *token = ossr_cancel_token_new();
    struct progress p;
    struct canceller c;
    pthread_t thread;
    ossr_status s;

    progress_init(&p);
    c.progress = &p;
    c.token = token;
    c.at = 0;
    CHECK(ossr_resumable_params_set_cancel_token(params, token) == OSSR_OK, "attach");
    CHECK(pthread_create(&thread, NULL, cancel_when_started, &c) == 0, "pthread_create");
    s = ossr_resumable_download_file(client, bucket, object, file, NULL, 0, params,
                                     on_progress, &p, r);
    pthread_join(thread, NULL);
    CHECK(ossr_cancel_token_is_cancelled(token) == 1, "cancelled");
    CHECK(s == OSSR_ERR_CANCELLED, "cancelled download: %s: %s", ossr_status_name(s),
          ossr_result_message(r));
    CHECK(contains(ossr_result_message(r), "progress is saved"), "%s", ossr_result_message(r));
    CHECK(ossr_result_is_retryable(r) == 1, "a cancelled download can be resumed");
    CHECK(exists(cp), "the checkpoint %s is kept", cp);
    CHECK(!exists(file), "%s appears only when complete", file);

    /* The same call without the (spent) token resumes. */
    CHECK(ossr_resumable_params_set_cancel_token(params, NULL) == OSSR_OK, "detach");
    ossr_cancel_token_free(token);
    s = ossr_resumable_download_file(client, bucket, object, file, NULL, 0, params, NULL,
                                     NULL, r);
    CHECK(s == OSSR_OK, "resumed download: %s", ossr_result_message(r));
    CHECK(ossr_result_bytes_resumed(r) > 0, "resumed %llu bytes (cancelled at %lld)",
          (unsigned long long)ossr_result_bytes_resumed(r), (long long)c.at);
    CHECK(ossr_result_bytes_transferred(r) + ossr_result_bytes_resumed(r) ==
              ossr_result_bytes_total(r),
          "transferred + resumed = total");
    CHECK(same_as_expected(file), "%s differs after the resume", file);
    CHECK(!exists(cp), "the checkpoint is deleted once the download completes");

    progress_destroy(&p);
    ossr_resumable_params_free(params);
    ossr_client_free(client);
    ossr_result_free(r);
    free(file);
    free(cp);
}

int main(int argc, char *argv[])
{
    if (argc != 7) {
        fprintf(stderr,
                "usage: %s ENDPOINT SLOW_ENDPOINT BUCKET OBJECT EXPECTED WORKDIR\n", argv[0]);
        return 2;
    }
    endpoint = argv[1];
    slow_endpoint = argv[2];
    bucket = argv[3];
    object = argv[4];
    expected_path = argv[5];
    workdir = argv[6];

    test_config_errors();
    test_names_and_null_handles();
    test_invalid_download_arguments();
    test_wrong_secret();
    test_credentials_chain();
    test_download_with_progress_and_headers();
    test_one_client_many_threads();
    test_cancel_from_another_thread();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
