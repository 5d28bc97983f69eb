package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser returns the path of a Chromium-family browser, or skips the test.
func browser(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: install it (Debian: apt-get install chromium) " +
		"to check the HTML report in a browser")
	return ""
}

// openInBrowser loads page in headless Chromium and returns the DOM after
// the page's scripts ran, and the browser's log.
func openInBrowser(t *testing.T, page []byte) (dom, log string) {
	t.Helper()
	bin := browser(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// consoleLine matches what Chromium logs for a console message or an
// uncaught exception.
var consoleLine = regexp.MustCompile(`:CONSOLE[:(].*`)

func TestHTMLReportRunsInBrowserWithoutErrors(t *testing.T) {
	var page bytes.Buffer
	if err := WriteHTML(&page, sample(t)); err != nil {
		t.Fatal(err)
	}
	dom, log := openInBrowser(t, page.Bytes())

	if m := regexp.MustCompile(`data-js-error="([^"]*)"`).FindStringSubmatch(dom); m != nil {
		t.Errorf("the page raised a script error: %s", m[1])
	}
	if msgs := consoleLine.FindAllString(log, -1); len(msgs) > 0 {
		t.Errorf("the page wrote to the console:\n%s", strings.Join(msgs, "\n"))
	}
	// The script marks the page when it has wired every hover read-out; a
	// script that failed to parse or stopped half-way leaves no mark.
	m := regexp.MustCompile(`data-ready="(\d+)"`).FindStringSubmatch(dom)
	if m == nil || m[1] == "0" {
		t.Errorf("the page's script did not finish (data-ready %v)", m)
	}
}

func TestBrowserCheckCatchesScriptErrors(t *testing.T) {
	// The check above must be able to fail: a page whose script throws.
	var page bytes.Buffer
	if err := WriteHTML(&page, sample(t)); err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(page.String(), `var tip = document.getElementById("tip");`,
		`var tip = document.getElementById("tip"); undefinedFunction();`, 1)
	dom, _ := openInBrowser(t, []byte(broken))
	if !strings.Contains(dom, "data-js-error=") || strings.Contains(dom, "data-ready=") {
		t.Error("a throwing script went unnoticed")
	}
}
