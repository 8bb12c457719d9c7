// poller: a correct polling client as people write it in Go: net/http GET of
// $SW_BASE_URL/api/reports/REPORT_ID (key $SW_API_KEY) every 5 s with time.Sleep, under a
// 10-minute context.WithTimeout, until the status is completed; then it prints the report's
// data as JSON, as the kit's command clients do. Each poll is a line "poll N STATUS at NS" on
// stderr, NS the nanoseconds since the client started (by its monotonic clock) when it sent it.
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
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: poller REPORT_ID [INTERVAL_SECONDS] (with SW_BASE_URL and SW_API_KEY set)")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	interval := 5 * time.Second
	if len(os.Args) > 2 {
		if seconds, err := strconv.ParseFloat(os.Args[2], 64); err == nil {
			interval = time.Duration(seconds * float64(time.Second))
		}
	}
	url := os.Getenv("SW_BASE_URL") + "/api/reports/" + os.Args[1]
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	for poll := 1; ; poll++ {
		sent := time.Since(start).Nanoseconds()
		request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		request.Header.Set("X-API-Key", os.Getenv("SW_API_KEY"))
		response, err := client.Do(request)
		if err != nil {
			fmt.Fprintln(os.Stderr, "poll failed:", err)
			os.Exit(1)
		}
		var body struct {
			Data json.RawMessage `json:"data"`
		}
		var report struct {
			Status string `json:"status"`
		}
		err = json.NewDecoder(response.Body).Decode(&body)
		response.Body.Close()
		if err == nil {
			err = json.Unmarshal(body.Data, &report)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad body:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "poll %d %s at %d\n", poll, report.Status, sent)
		if report.Status == "completed" {
			fmt.Println(string(body.Data))
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
