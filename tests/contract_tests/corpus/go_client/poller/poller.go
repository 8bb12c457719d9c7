// Package poller waits for a report of the Reports API, the way a Go service polls: net/http,
// time.Sleep between polls, and the caller's context (context.WithTimeout) as the deadline.
//
// It backs off as the polling guide's production poller does: 3 s, then x1.5 per poll, capped
// at 15 s. A 5xx, a transport error (a dropped connection) or a body that is not the JSON
// envelope is retried after the current interval, a 429 after Retry-After if that is longer.
// It stops at completed, failed or cancelled, and at data: null (not found) at once.
package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// FirstInterval, Growth and MaxInterval make the backoff between polls: 3 s, 4.5 s, ... 15 s.
const (
	FirstInterval = 3 * time.Second
	Growth        = 1.5
	MaxInterval   = 15 * time.Second
)

// retryAfter is a transient failure: poll again after at least Wait (0: the usual interval).
type retryAfter struct{ Wait time.Duration }

// ErrNotFound is returned when the API answers data: null for the id.
var ErrNotFound = errors.New("report not found")

// Progress is the report's progress object; the API may send null.
type Progress struct {
	CurrentStep    string   `json:"current_step"`
	StepsCompleted []string `json:"steps_completed"`
	Message        string   `json:"message"`
}

// Report is the part of the data object the poller reads; Raw keeps all of it.
type Report struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Progress *Progress       `json:"progress"`
	Raw      json.RawMessage `json:"-"`
}

type envelope struct {
	Data json.RawMessage `json:"data"`
}

// Client polls one Reports API.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// fetch makes one GET: the report (nil when not found), or a retryAfter when worth a retry.
func (c *Client) fetch(ctx context.Context, reportID string) (*Report, *retryAfter, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/api/reports/"+reportID, nil)
	if err != nil {
		return nil, nil, err
	}
	request.Header.Set("X-API-Key", c.APIKey)
	response, err := c.HTTP.Do(request)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, &retryAfter{}, nil // dropped connection or a slow answer: retry
	}
	defer response.Body.Close()
	body, readErr := io.ReadAll(response.Body)
	switch {
	case response.StatusCode == http.StatusTooManyRequests:
		retry := &retryAfter{}
		if seconds, err := strconv.Atoi(response.Header.Get("Retry-After")); err == nil {
			retry.Wait = time.Duration(seconds) * time.Second
		}
		return nil, retry, nil
	case response.StatusCode >= 500 || readErr != nil:
		return nil, &retryAfter{}, nil
	case response.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("HTTP %d from the Reports API: %.300s", response.StatusCode, body)
	}
	var answer envelope
	if err := json.Unmarshal(body, &answer); err != nil || answer.Data == nil {
		return nil, &retryAfter{}, nil // cut off, an HTML page, not the envelope: retry
	}
	if string(answer.Data) == "null" {
		return nil, nil, nil
	}
	report := &Report{Raw: answer.Data}
	if err := json.Unmarshal(answer.Data, report); err != nil {
		return nil, &retryAfter{}, nil
	}
	return report, nil, nil
}

// Wait polls until the report is completed and returns it; an error when it failed, was
// cancelled or not found, or when ctx ends first.
func (c *Client) Wait(ctx context.Context, reportID string) (*Report, error) {
	interval := FirstInterval
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gave up waiting for report %s: %w", reportID, err)
		}
		report, retry, err := c.fetch(ctx, reportID)
		switch {
		case err != nil:
			return nil, fmt.Errorf("gave up waiting for report %s: %w", reportID, err)
		case retry != nil:
			if retry.Wait > interval {
				time.Sleep(retry.Wait)
			} else {
				time.Sleep(interval)
			}
			continue
		case report == nil:
			return nil, fmt.Errorf("%w: %s", ErrNotFound, reportID)
		}
		message := "no details"
		if report.Progress != nil && report.Progress.Message != "" {
			message = report.Progress.Message
		}
		switch report.Status {
		case "completed":
			return report, nil
		case "failed", "cancelled":
			return nil, fmt.Errorf("report %s: %s", report.Status, message)
		}
		time.Sleep(interval)
		if interval = time.Duration(float64(interval) * Growth); interval > MaxInterval {
			interval = MaxInterval
		}
	}
}
