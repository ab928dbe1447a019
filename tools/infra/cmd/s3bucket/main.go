// Command s3bucket makes the media bucket of the local stack's kafka-s3 component set on an
// S3-compatible server and makes its objects readable by anyone (a bucket policy allowing
// s3:GetObject to every principal), so that play_url and cover_url can point straight at it.
// The same policy applied to a real bucket (or a CDN in front of it) serves production. It
// signs with the credentials in S3_ACCESS_KEY and S3_SECRET_KEY; running it again changes
// nothing.
//
//	S3_ACCESS_KEY=… S3_SECRET_KEY=… s3bucket -endpoint http://127.0.0.1:19900 -bucket doutok-media
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:19900", "the S3 server")
	bucket := flag.String("bucket", "doutok-media", "the media bucket")
	region := flag.String("region", "us-east-1", "the server's region")
	flag.Parse()
	if err := run(*endpoint, *bucket, *region); err != nil {
		fmt.Fprintln(os.Stderr, "s3bucket:", err)
		os.Exit(1)
	}
}

func run(endpoint, bucket, region string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(os.Getenv("S3_ACCESS_KEY"), os.Getenv("S3_SECRET_KEY"), ""),
	})
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow",`+
		`"Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, bucket)
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		return fmt.Errorf("make bucket %s public-read: %w", bucket, err)
	}
	return nil
}
