// Command ossdownload drives the OSS Go SDK's resumable download for `cargo xtask bench`:
//
//	ossdownload ENDPOINT BUCKET KEY OUT PART_SIZE ROUTINES CHECKPOINT_FILE
//
// It is Bucket.DownloadFile(KEY, OUT, PART_SIZE, Routines(ROUTINES), Checkpoint(true,
// CHECKPOINT_FILE)) and nothing else; an empty CHECKPOINT_FILE turns the checkpoint off.
// The keys are dummies: the bench server (nginx) ignores Authorization, but the SDK still
// signs every request, as it would against OSS.
//
// Built by xtask in GOPATH mode against Debian's golang-github-aliyun-aliyun-oss-go-sdk-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o BIN ossdownload.go
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
)

func main() {
	if len(os.Args) != 8 {
		fmt.Fprintln(os.Stderr, "usage: ossdownload ENDPOINT BUCKET KEY OUT PART_SIZE ROUTINES CHECKPOINT_FILE")
		os.Exit(2)
	}
	endpoint, bucketName, key, out := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	partSize, err := strconv.ParseInt(os.Args[5], 10, 64)
	if err != nil {
		fail("PART_SIZE", err)
	}
	routines, err := strconv.Atoi(os.Args[6])
	if err != nil {
		fail("ROUTINES", err)
	}
	checkpoint := os.Args[7]

	client, err := oss.New(endpoint, "bench-access-key-id", "bench-access-key-secret")
	if err != nil {
		fail("oss.New", err)
	}
	bucket, err := client.Bucket(bucketName)
	if err != nil {
		fail("client.Bucket", err)
	}
	options := []oss.Option{oss.Routines(routines)}
	if checkpoint != "" {
		options = append(options, oss.Checkpoint(true, checkpoint))
	}
	if err := bucket.DownloadFile(key, out, partSize, options...); err != nil {
		fail("DownloadFile", err)
	}
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "ossdownload: %s: %v\n", what, err)
	os.Exit(1)
}
