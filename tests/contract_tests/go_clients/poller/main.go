// poller: a correct polling client as people write it in Go: net/http to the given URL every
// 5 s with time.Sleep, under a 10-minute context.WithTimeout, until the status is completed.
// An optional second argument sets the interval in seconds.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	interval := 5 * time.Second
	if len(os.Args) > 2 {
		if seconds, err := strconv.ParseFloat(os.Args[2], 64); err == nil {
			interval = time.Duration(seconds * float64(time.Second))
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for poll := 1; ; poll++ {
		request, err := http.NewRequestWithContext(ctx, http.MethodGet, os.Args[1], nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		response, err := client.Do(request)
		if err != nil {
			fmt.Fprintln(os.Stderr, "poll failed:", err)
			os.Exit(1)
		}
		var body struct {
			Status string `json:"status"`
		}
		err = json.NewDecoder(response.Body).Decode(&body)
		response.Body.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad body:", err)
			os.Exit(1)
		}
		fmt.Printf("poll %d %s\n", poll, body.Status)
		if body.Status == "completed" {
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "gave up:", ctx.Err())
			os.Exit(1)
		default:
		}
		time.Sleep(interval)
	}
}
