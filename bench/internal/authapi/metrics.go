package authapi

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Counters returns the counters of a Prometheus text exposition whose names
// contain substr and end in _total, keyed by series ("name{labels}").
// Lines it cannot read are skipped: the exposition is evidence for the
// report, not something the benchmark depends on.
func Counters(exposition []byte, substr string) map[string]float64 {
	out := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series, val := line[:i], line[i+1:]
		name, _, _ := strings.Cut(series, "{")
		if !strings.Contains(name, substr) || !strings.HasSuffix(name, "_total") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[series] = v
		}
	}
	return out
}
