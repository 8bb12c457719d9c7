// sleeper: prints the wall time, sleeps with time.Sleep, prints the wall time and how long the
// sleep took by the monotonic clock. The tracer's tests and the clock-following probe run it.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	seconds := 5.0
	if len(os.Args) > 1 {
		if parsed, err := strconv.ParseFloat(os.Args[1], 64); err == nil {
			seconds = parsed
		}
	}
	start := time.Now()
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	fmt.Printf("wall %d %d\n", start.UnixNano(), time.Now().UnixNano())
	fmt.Printf("slept %d\n", time.Since(start).Nanoseconds())
}
