// Command wait_for_report_short_deadline is wait_for_report with one bug: its context gives up
// after 60 seconds ("a minute is plenty"), while the guide says a report may take 5 minutes, 10
// with biomechanics. Caught under waits_for_documented_timeout.
//
//	SW_BASE_URL=http://127.0.0.1:8080 SW_API_KEY=sk-test wait_for_report_short_deadline rpt_xyz789
//
// Exit status 0 with the data on stdout; 1
// with the error on stderr (a failure carries progress.message); 2 for a usage error.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"example.com/reportsclient/poller"
)

func main() {
	baseURL, apiKey := os.Getenv("SW_BASE_URL"), os.Getenv("SW_API_KEY")
	if len(os.Args) != 2 || baseURL == "" || apiKey == "" {
		fmt.Fprintln(os.Stderr, "usage: SW_BASE_URL=... SW_API_KEY=... wait_for_report_short_deadline REPORT_ID")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // BUG: 60 s
	defer cancel()
	client := &poller.Client{BaseURL: baseURL, APIKey: apiKey, HTTP: &http.Client{Timeout: 30 * time.Second}}
	report, err := client.Wait(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		cancel()
		os.Exit(1)
	}
	os.Stdout.Write(append(report.Raw, '\n'))
}
