// Command kafkalag prints how many events of a topic a consumer group has not committed yet
// (the sum over the topic's partitions of end offset minus committed offset): the kafka-s3 set's
// counterpart of a Redis stream group's lag plus pending, for the benchmark's "drained" checks.
//
//	kafkalag -brokers 127.0.0.1:19092 -group favorite -topic favorite.changed
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:19092", "the broker to ask")
	group := flag.String("group", "", "the consumer group (a Dapr app id)")
	topic := flag.String("topic", "", "the topic")
	flag.Parse()
	lag, err := backlog(*brokers, *group, *topic)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkalag:", err)
		os.Exit(1)
	}
	fmt.Println(lag)
}

func backlog(brokers, group, topic string) (int64, error) {
	if group == "" || topic == "" {
		return 0, fmt.Errorf("-group and -topic are required")
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		return 0, err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lags, err := kadm.NewClient(client).Lag(ctx, group)
	if err != nil {
		return 0, err
	}
	described, ok := lags[group]
	if !ok {
		return 0, fmt.Errorf("no group %s", group)
	}
	if err := described.Error(); err != nil {
		return 0, err
	}
	byTopic, ok := described.Lag.TotalByTopic()[topic]
	if !ok {
		return 0, fmt.Errorf("group %s has no offsets on %s", group, topic)
	}
	return byTopic.Lag, nil
}
