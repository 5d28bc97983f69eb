package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/authd/authd/bench/internal/record"
)

// progress prints one line a second while a run goes on. It owns one
// goroutine, which stop ends and waits for.
type progress struct {
	done chan struct{}
	wg   sync.WaitGroup
}

// startProgress ticks rec once a second and, unless quiet, prints the
// interval to w: on a terminal over the previous line, elsewhere as a new
// line each time.
func startProgress(rec *record.Recorder, w io.Writer, quiet bool) *progress {
	p := &progress{done: make(chan struct{})}
	start := time.Now()
	var total, errs int64
	eol := "\n"
	if isTerminal(w) {
		eol = ""
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				if eol == "" && !quiet {
					fmt.Fprintln(w)
				}
				return
			case now := <-t.C:
				iv := rec.Tick(now)
				total, errs = total+iv.Requests, errs+iv.Errors
				if !quiet {
					fmt.Fprintf(w, "%s%s%s", clearLine(eol), progressLine(now.Sub(start), iv, total, errs), eol)
				}
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}

// progressLine formats one interval for the progress display.
func progressLine(elapsed time.Duration, iv record.Interval, total, errs int64) string {
	return fmt.Sprintf("[%6.1fs] %9.0f req/s  p99 %8.3f ms  errors %d (%d this second)  requests %d",
		elapsed.Seconds(), iv.RPS, iv.P99Ms, errs, iv.Errors, total)
}

func clearLine(eol string) string {
	if eol == "" {
		return "\r\033[K"
	}
	return ""
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
