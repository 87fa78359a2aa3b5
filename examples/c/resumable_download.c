/*
 * The OSS C SDK documentation's first resumable-download example, ported to oss_resume.h:
 * 100 KB parts, 3 threads, checkpoint off.
 *
 *     OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... \
 *     OSS_ENDPOINT=https://oss-cn-hangzhou.aliyuncs.com OSS_REGION=cn-hangzhou \
 *         ./resumable_download BUCKET OBJECT FILE
 *
 * Prints "download succeeded", or "download failed" with the details, and exits 0 or 1.
 * Build: `make` in this directory (see README.md, "From the C SDK").
 */
#include <stdio.h>
#include <stdlib.h>

#include "oss_resume.h"

/* The example's oss_create_resumable_clt_params_content(pool, 1024 * 100, 3, AOS_FALSE,
 * NULL). (The bench compiles this file with -DPART_SIZE=... -DTHREAD_NUM=....) */
#ifndef PART_SIZE
#define PART_SIZE (1024 * 100)
#endif
#ifndef THREAD_NUM
#define THREAD_NUM 3
#endif

/* The C SDK example's init_options: endpoint, keys from the environment, region,
 * signature version 4, not a cname. */
static void init_options(ossr_config *config)
{
    const char *region = getenv("OSS_REGION");
    ossr_config_set_endpoint(config, getenv("OSS_ENDPOINT"));
    ossr_config_credentials_from_env(config); /* OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET */
    if (region != NULL) {
        ossr_config_set_region(config, region);
    }
    ossr_config_set_signature_version(config, 4);
    ossr_config_set_is_cname(config, 0);
}

int main(int argc, char *argv[])
{
    ossr_config *config;
    ossr_client *client;
    ossr_resumable_params *params;
    ossr_result *result;
    ossr_status status = OSSR_ERR_INVALID_ARGUMENT;

    if (argc != 4) {
        fprintf(stderr, "usage: %s BUCKET OBJECT FILE\n", argv[0]);
        return 2;
    }
    /* No aos_http_io_initialize, no pool: a client owns what it needs. */
    result = ossr_result_new();
    config = ossr_config_new();
    init_options(config);
    client = ossr_client_new(config, result); /* NULL (and result says why) if unusable */
    ossr_config_free(config);

    if (client != NULL) {
        params = ossr_resumable_params_new(PART_SIZE, THREAD_NUM, 0, NULL);
        status = ossr_resumable_download_file(client, argv[1], argv[2], argv[3],
                                              NULL, 0, params, NULL, NULL, result);
        ossr_resumable_params_free(params);
        ossr_client_free(client);
    }

    if (status == OSSR_OK) {
        printf("download succeeded\n");
    } else {
        printf("download failed\n");
        printf("  %s, HTTP status %d, OSS error code \"%s\", request id \"%s\"\n  %s\n",
               ossr_status_name(ossr_result_status(result)), ossr_result_http_status(result),
               ossr_result_error_code(result), ossr_result_request_id(result),
               ossr_result_message(result));
    }
    ossr_result_free(result);
    return status == OSSR_OK ? 0 : 1;
}
