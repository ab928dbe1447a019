// Command kafkaserver runs a single-node Kafka-protocol broker on loopback for the local stack's
// kafka-s3 component set (franz-go's kfake): topics are created on first use, and with -data the
// log, the topics and the consumer groups' committed offsets are kept on disk across restarts.
// It is a development broker, not a production Kafka.
//
// kfake writes its list of topics at start and at a clean shutdown only; the log and the groups'
// offsets are written as they come. Topics named with -topics are created and recorded at the
// first start, so they and their events also survive a broker that is killed; a topic created on
// first use survives only a clean shutdown.
//
//	kafkaserver -port 19092 -data .data/run/kafka -topics favorite.changed,favorite.changed.dead
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 19092, "port to listen on (127.0.0.1 only)")
	dataDir := flag.String("data", "", "folder that keeps the broker's data across restarts (empty: memory only)")
	partitions := flag.Int("partitions", 4, "partitions of an auto-created topic")
	topics := flag.String("topics", "", "comma-separated topics to create (and record) at the first start")
	verbose := flag.Bool("v", false, "log the broker's warnings")
	flag.Parse()

	level := kfake.LogLevelError
	if *verbose {
		level = kfake.LogLevelWarn
	}
	opts := []kfake.Opt{
		kfake.Ports(*port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
		kfake.ClusterID("doutok-dev"),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*topics, ",")...))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkaserver:", err)
		os.Exit(1)
	}
	fmt.Println("kafkaserver: listening on", cluster.ListenAddrs())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	cluster.Close()
}
